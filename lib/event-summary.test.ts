import { describe, expect, it } from "vitest";
import { summarizePayload } from "./event-summary";

describe("summarizePayload", () => {
  it("leads with the headline field and lists a few others", () => {
    expect(summarizePayload({ taskId: "T-4", title: "Draft release notes", status: "assigned" })).toBe(
      "Draft release notes · status: assigned · taskId: T-4",
    );
  });

  it("reads the same whatever order the payload's keys come in", () => {
    expect(summarizePayload({ total: 4.07, amount: 0.2 })).toBe(summarizePayload({ amount: 0.2, total: 4.07 }));
  });

  it("describes nested values instead of dumping them", () => {
    expect(summarizePayload({ tags: ["a", "b"], meta: { x: 1 }, note: null })).toBe("meta: {…} · note: null · tags: [2 items]");
  });

  it("collapses whitespace and truncates long text", () => {
    const summary = summarizePayload({ text: `line one\n\nline two ${"x".repeat(300)}` }, 40);
    expect(summary.startsWith("line one line two")).toBe(true);
    expect(summary).toHaveLength(40);
    expect(summary.endsWith("…")).toBe(true);
  });

  it("keeps markup as plain text", () => {
    expect(summarizePayload({ title: "<img src=x onerror=alert(1)>" })).toBe("<img src=x onerror=alert(1)>");
  });
});
