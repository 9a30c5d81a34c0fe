import type { AgentStatus } from "@/lib/views";

/** An agent's status as a dot and a word. */
export function StatusBadge({ status }: { status: AgentStatus }) {
  return (
    <span className="status-badge" data-status={status}>
      <span className="status-dot" aria-hidden="true" />
      {status}
    </span>
  );
}
