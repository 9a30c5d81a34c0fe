import { describe, expect, it } from "vitest";
import type { BudgetView } from "../views";
import { applyBudgetEvents, MAX_WARNINGS } from "./budget";
import { at, testEvent } from "./test-events";

const warning = (seq: number) => testEvent("budget", seq, "budget.warning", { spent: seq, budget: 100 });
const view = (seqs: number[]): BudgetView => ({
  hours: 24,
  bucketMinutes: 15,
  projects: [],
  series: [],
  warnings: seqs.map((seq) => ({ seq, ts: at(seq), project: "p", agent: "a1", payload: { spent: seq, budget: 100 } })),
});

describe("budget reducer", () => {
  it("changes nothing for a warning at or below the newest warning's seq, or for spend", () => {
    const snapshot = view([5, 3]);
    expect(applyBudgetEvents(snapshot, [warning(5), warning(4), testEvent("budget", 9, "budget.spent", { amount: 1 })])).toBe(snapshot);
  });

  it("adds warnings in order, newest first", () => {
    const next = applyBudgetEvents(view([5, 3]), [warning(6), warning(8)]);
    expect(next.warnings.map((w) => w.seq)).toEqual([8, 6, 5, 3]);
  });

  it("is idempotent and keeps at most MAX_WARNINGS", () => {
    const events = Array.from({ length: MAX_WARNINGS + 5 }, (_, i) => warning(10 + i));
    const once = applyBudgetEvents(view([5]), events);
    expect(once.warnings).toHaveLength(MAX_WARNINGS);
    expect(once.warnings[0]!.seq).toBe(MAX_WARNINGS + 14);
    expect(applyBudgetEvents(once, events)).toBe(once);
  });
});
