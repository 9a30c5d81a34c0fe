import type { ConnectionState } from "@/lib/live-feed";

const labels: Record<ConnectionState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

/** The socket's state as text (colour only repeats it), announced politely when it changes. */
export function ConnectionStatus({ state, detail }: { state: ConnectionState; detail: string | null }) {
  return (
    <p role="status" aria-label="Connection status" className="connection-status" data-state={state} title={detail ?? undefined}>
      <span className="connection-dot" aria-hidden="true" />
      {labels[state]}
    </p>
  );
}
