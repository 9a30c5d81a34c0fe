import { describe, expect, it } from "vitest";
import { readFeedFilter, toEventFilter, withFeedFilter } from "./feed-filter";

describe("feed filter in the URL", () => {
  it("reads agent and project, ignoring empty values", () => {
    expect(readFeedFilter(new URLSearchParams("agent=e2e-alpha&project="))).toEqual({ filter: { agent: "e2e-alpha" }, problems: [] });
  });

  it("leaves out values the server would refuse, and says so", () => {
    const { filter, problems } = readFeedFilter(new URLSearchParams({ agent: "<script>", project: "atlas" }));
    expect(filter).toEqual({ project: "atlas" });
    expect(problems).toHaveLength(1);
  });

  it("writes the filter and keeps unrelated parameters", () => {
    expect(withFeedFilter("?view=compact&agent=old", { agent: "new", project: "atlas" })).toBe("?view=compact&agent=new&project=atlas");
    expect(withFeedFilter("?agent=old", {})).toBe("");
  });

  it("becomes no subscribe filter at all when nothing is filtered", () => {
    expect(toEventFilter({})).toBeUndefined();
    expect(toEventFilter({ agent: "a" })).toEqual({ agent: "a" });
  });
});
