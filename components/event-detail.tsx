"use client";

import type { SwitchboardEvent } from "@/lib/protocol";
import { formatAbsolute, formatRelative } from "@/lib/time-format";
import { NoValue } from "./states";
import { useNow } from "./use-now";

const MAX_PAYLOAD_TEXT = 20_000;

/** One event in full: envelope fields, relative and absolute time, the payload as formatted JSON text. */
export function EventDetail({ event, onClose }: { event: SwitchboardEvent | null; onClose(): void }) {
  const now = useNow(1_000);
  if (!event) {
    return (
      <aside className="event-detail" aria-label="Event details">
        <p className="muted">Select an event to see its payload. Use the arrow keys in the list to move between events.</p>
      </aside>
    );
  }
  const json = JSON.stringify(event.payload, null, 2);
  return (
    <aside className="event-detail" aria-label="Event details">
      <div className="event-detail-head">
        <h2>{event.type}</h2>
        <button type="button" className="button-ghost" onClick={onClose} aria-label="Close event details">
          <span aria-hidden="true">×</span>
        </button>
      </div>
      <dl className="detail-list">
        <dt>Channel</dt>
        <dd>
          {event.channel} #{event.seq}
        </dd>
        <dt>Time</dt>
        <dd>
          <time dateTime={event.ts}>{now ? formatRelative(event.ts, now) : ""}</time>
          <span className="muted"> · {formatAbsolute(event.ts)}</span>
        </dd>
        <dt>Agent</dt>
        <dd>{event.agent ?? <NoValue />}</dd>
        <dt>Project</dt>
        <dd>{event.project ?? <NoValue />}</dd>
        <dt>Id</dt>
        <dd className="mono">{event.id}</dd>
      </dl>
      <h3>Payload</h3>
      <pre className="payload" aria-label="Payload JSON" tabIndex={0}>
        {json.length > MAX_PAYLOAD_TEXT ? `${json.slice(0, MAX_PAYLOAD_TEXT)}\n… (${json.length - MAX_PAYLOAD_TEXT} more characters)` : json}
      </pre>
    </aside>
  );
}
