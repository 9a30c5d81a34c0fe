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

describe("feed filter lists, types and channels", () => {
  it("reads channel sets, comma lists and type prefixes", () => {
    const { filter, problems } = readFeedFilter(new URLSearchParams("channels=tasks,system&agent=a, b&type=task.*"));
    expect(problems).toEqual([]);
    expect(filter).toEqual({ channels: ["tasks", "system"], agent: "a,b", type: "task.*" });
    expect(toEventFilter(filter)).toEqual({ agent: ["a", "b"], type: "task.*" });
  });

  it("treats all five channels, or none, as no channel filter and reports unknown ones", () => {
    expect(readFeedFilter(new URLSearchParams("channels=tasks,agents,budget,messages,system")).filter).toEqual({});
    const { filter, problems } = readFeedFilter(new URLSearchParams("channels=tasks,nope"));
    expect(filter).toEqual({ channels: ["tasks"] });
    expect(problems).toHaveLength(1);
  });

  it("writes channels and types readably", () => {
    expect(withFeedFilter("", { channels: ["tasks", "agents"], type: "task.*" })).toBe("?type=task.*&channels=tasks,agents");
  });

  it("refuses malformed types", () => {
    expect(readFeedFilter(new URLSearchParams("type=Task")).problems).toHaveLength(1);
  });
});
