/**
 * The budget view's live reducer: `budget.warning` events join the warnings. The view names no seq;
 * its head is the newest warning's seq, and a warning at or below it changes nothing. Spend cannot
 * be applied the same way (the view does not say which spend events its sums reach), so the budget
 * view refetches while spend arrives instead (components/use-live-query.ts, `refetchOnEventsMs`).
 */
import type { SwitchboardEvent } from "../protocol";
import type { BudgetView } from "../views";
import { newestSeq } from "./live-reducer";

/** Warnings kept, newest first. */
export const MAX_WARNINGS = 50;

export function applyBudgetEvents(view: BudgetView, events: readonly SwitchboardEvent[]): BudgetView {
  let head = newestSeq(view.warnings);
  const fresh: BudgetView["warnings"] = [];
  for (const e of events) {
    if (e.channel !== "budget" || e.type !== "budget.warning" || e.seq <= head) continue;
    head = e.seq;
    fresh.push({ seq: e.seq, ts: e.ts, project: e.project, agent: e.agent, payload: e.payload });
  }
  if (fresh.length === 0) return view;
  const warnings = [...fresh.reverse(), ...view.warnings].sort((a, b) => (a.ts < b.ts ? 1 : a.ts > b.ts ? -1 : b.seq - a.seq)).slice(0, MAX_WARNINGS);
  return { ...view, warnings };
}
