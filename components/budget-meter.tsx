import { formatMoney } from "@/lib/time-format";
import type { BudgetView } from "@/lib/views";

/** Each project's spend today against its budget. */
export function BudgetMeterList({ projects }: { projects: BudgetView["projects"] }) {
  return (
    <ul className="budget-list">
      {projects.map((p) => (
        <li key={p.project}>
          <BudgetMeter project={p.project} spent={p.spentToday} budget={p.budget} currency={p.currency} />
        </li>
      ))}
    </ul>
  );
}

export function BudgetMeter({ project, spent, budget, currency }: { project: string; spent: number; budget: number | null; currency: string | null }) {
  const ratio = budget ? spent / budget : 0;
  const level = ratio >= 1 ? "over" : ratio >= 0.8 ? "warn" : "ok";
  return (
    <div className="budget-meter" data-level={budget ? level : undefined}>
      <div className="budget-meter-label">
        <span className="budget-project">{project}</span>
        <span className="mono">
          {formatMoney(spent, currency)}
          {budget ? <span className="muted"> / {formatMoney(budget, currency)}</span> : <span className="muted"> (no budget)</span>}
        </span>
      </div>
      {budget ? (
        <meter min={0} max={budget} low={budget * 0.8} high={budget} optimum={0} value={Math.min(spent, budget)} aria-label={`${project} spend against budget`}>
          {Math.round(ratio * 100)}%
        </meter>
      ) : null}
    </div>
  );
}
