"use client";

import { useState } from "react";
import type { SwitchboardEvent } from "@/lib/protocol";
import { formatCount } from "@/lib/time-format";
import { EventDetail } from "./event-detail";
import { EventGrid } from "./event-grid";

interface LiveEventsPanelProps {
  label: string;
  /** Newest first. */
  events: readonly SwitchboardEvent[];
  /** Events received so far (grows with every new one); drives the "N new events" count while paused. */
  received: number;
  emptyMessage: string;
}

/**
 * A live list with pause/resume: paused, the rows hold still and a counter says how many events came
 * in meanwhile; resumed, the list jumps to the present. Selecting a row opens its details.
 */
export function LiveEventsPanel({ label, events, received, emptyMessage }: LiveEventsPanelProps) {
  const [paused, setPaused] = useState<{ events: readonly SwitchboardEvent[]; received: number } | null>(null);
  const [selected, setSelected] = useState<SwitchboardEvent | null>(null);
  const shown = paused ? paused.events : events;
  const newCount = paused ? Math.max(0, received - paused.received) : 0;

  return (
    <div className="events-panel">
      <div className="events-toolbar">
        <button
          type="button"
          className={paused ? "button-primary" : "button-secondary"}
          onClick={() => setPaused(paused ? null : { events, received })}
          aria-pressed={paused !== null}
        >
          {paused ? "Resume" : "Pause"}
        </button>
        <p className="new-count" aria-live="polite">
          {paused ? (newCount === 1 ? "1 new event" : `${formatCount(newCount)} new events`) : <span className="muted">Showing events as they arrive</span>}
        </p>
        <p className="muted row-count">{formatCount(shown.length)} shown</p>
      </div>
      <div className="events-body">
        <EventGrid label={label} events={shown} selectedId={selected?.id ?? null} onSelect={setSelected} emptyMessage={emptyMessage} />
        <EventDetail event={selected} onClose={() => setSelected(null)} />
      </div>
    </div>
  );
}
