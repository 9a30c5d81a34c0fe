"use client";

import { memo, useRef, useState, type KeyboardEvent } from "react";
import { summarizePayload } from "@/lib/event-summary";
import type { SwitchboardEvent } from "@/lib/protocol";
import { formatAbsolute } from "@/lib/time-format";
import { NoValue } from "./states";
import { rowStyle, useScrollAnchor, useVirtualWindow, VirtualRows } from "./virtual-list";

/** Must match --row-height in globals.css. */
export const EVENT_ROW_HEIGHT = 36;
const HEADER_HEIGHT = 32;
/**
 * New rows are highlighted as they arrive only while they arrive slowly enough to be read: at most
 * this many per update. A busy feed (hundreds a second) replaces every visible row on each update,
 * and highlighting them all would only repaint the grid on every frame.
 */
const HIGHLIGHT_MAX_ARRIVALS = 5;

const timeFormat = new Intl.DateTimeFormat("en-GB", {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  fractionalSecondDigits: 3,
  hourCycle: "h23",
});

interface EventGridProps {
  /** Accessible name, e.g. "Live events". */
  label: string;
  events: readonly SwitchboardEvent[];
  selectedId: string | null;
  onSelect(event: SwitchboardEvent | null): void;
  /** Shown instead of rows when there are none. */
  emptyMessage: string;
  /** Keep the rows on screen still while new ones arrive above them (newest-first lists). */
  anchorRows?: boolean;
}

const rowId = (event: SwitchboardEvent) => `event-row-${event.id}`;

/**
 * Events in a virtualized grid: fixed row height, only the visible rows in the DOM, every cell plain
 * text. Keyboard: the grid takes focus; arrows, Page Up/Down, Home and End move the selection (which
 * opens the detail panel), Escape clears it.
 */
export function EventGrid({ label, events, selectedId, onSelect, emptyMessage, anchorRows = true }: EventGridProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const { start, end, pageSize, slots } = useVirtualWindow({ scrollRef, count: events.length, rowHeight: EVENT_ROW_HEIGHT, offsetTop: HEADER_HEIGHT });
  useScrollAnchor(scrollRef, anchorRows ? events : NO_EVENTS, eventKey, EVENT_ROW_HEIGHT, HEADER_HEIGHT);
  const { arrived, busy } = useArrivals(events);
  // Busy and at the top, every visible row shows another event after each update: the rows then keep
  // their DOM nodes (keyed by position) and take the new events' text, rather than all of them
  // unmounting and mounting again several times a second. Scrolled down, the rows on screen keep
  // their events (see useScrollAnchor), so they are keyed by event and only move.
  const reuseRows = busy && start === 0;
  const selectedIndex = selectedId === null ? -1 : events.findIndex((e) => e.id === selectedId);

  const moveTo = (index: number) => {
    const target = events[Math.max(0, Math.min(events.length - 1, index))];
    if (!target) return;
    onSelect(target);
    const el = scrollRef.current;
    if (!el) return;
    const i = events.indexOf(target);
    const top = HEADER_HEIGHT + i * EVENT_ROW_HEIGHT;
    if (top - HEADER_HEIGHT < el.scrollTop) el.scrollTop = top - HEADER_HEIGHT;
    else if (top + EVENT_ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + EVENT_ROW_HEIGHT - el.clientHeight;
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const from = selectedIndex < 0 ? -1 : selectedIndex;
    const moves: Record<string, number> = {
      ArrowDown: from + 1,
      ArrowUp: Math.max(0, from - 1),
      PageDown: from + pageSize,
      PageUp: Math.max(0, from - pageSize),
      Home: 0,
      End: events.length - 1,
    };
    if (event.key in moves) {
      event.preventDefault();
      moveTo(moves[event.key]!);
    } else if (event.key === "Escape" && selectedId !== null) {
      event.preventDefault();
      onSelect(null);
    }
  };

  const rows = [];
  for (let i = start; i < end; i++) {
    const e = events[i]!;
    rows.push(<EventRow key={reuseRows ? i % slots : e.id} event={e} index={i} selected={e.id === selectedId} arrived={i < arrived} onSelect={onSelect} />);
  }

  return (
    <div
      ref={scrollRef}
      className="event-grid"
      role="grid"
      aria-label={label}
      aria-rowcount={events.length + 1}
      aria-activedescendant={selectedIndex >= start && selectedIndex < end ? rowId(events[selectedIndex]!) : undefined}
      tabIndex={0}
      onKeyDown={onKeyDown}
    >
      <div role="rowgroup" className="event-grid-head">
        <div role="row" aria-rowindex={1} className="event-grid-row">
          <span role="columnheader" className="cell-time">
            Time
          </span>
          <span role="columnheader" className="cell-channel">
            Channel
          </span>
          <span role="columnheader" className="cell-type">
            Type
          </span>
          <span role="columnheader" className="cell-agent">
            Agent
          </span>
          <span role="columnheader" className="cell-project">
            Project
          </span>
          <span role="columnheader" className="cell-summary">
            Summary
          </span>
        </div>
      </div>
      <VirtualRows count={events.length} rowHeight={EVENT_ROW_HEIGHT}>
        {rows}
      </VirtualRows>
      {events.length === 0 ? <p className="feed-empty">{emptyMessage}</p> : null}
    </div>
  );
}

const NO_EVENTS: readonly SwitchboardEvent[] = [];
const eventKey = (event: SwitchboardEvent) => event.id;

/**
 * The latest update: how many of the first (newest) events it brought, when that is few enough to
 * highlight them (else 0), and whether it brought more than that (busy). The first list the grid
 * shows is history, not arrivals.
 */
function useArrivals(events: readonly SwitchboardEvent[]): { arrived: number; busy: boolean } {
  const newestId = events[0]?.id ?? null;
  const [latest, setLatest] = useState({ newestId, arrived: 0, busy: false });
  if (latest.newestId === newestId) return latest;
  let added = 0;
  while (added < events.length && added <= HIGHLIGHT_MAX_ARRIVALS && events[added]!.id !== latest.newestId) added++;
  const busy = added > HIGHLIGHT_MAX_ARRIVALS;
  const next = { newestId, arrived: latest.newestId !== null && !busy ? added : 0, busy };
  setLatest(next);
  return next;
}

interface EventRowProps {
  event: SwitchboardEvent;
  index: number;
  selected: boolean;
  /** Just arrived: highlighted briefly (decided when the row mounts). */
  arrived: boolean;
  onSelect(event: SwitchboardEvent): void;
}

/**
 * Memoized: a row renders again only when it moves or its selection changes, and its cells (events are
 * immutable) only when it shows another event.
 */
const EventRow = memo(function EventRow({ event, index, selected, arrived, onSelect }: EventRowProps) {
  const [highlight] = useState(arrived);
  return (
    <div
      role="row"
      id={rowId(event)}
      aria-rowindex={index + 2}
      aria-selected={selected}
      className="event-grid-row event-row"
      data-channel={event.channel}
      data-ts={event.ts}
      data-arrived={highlight || undefined}
      style={rowStyle(index, EVENT_ROW_HEIGHT)}
      onClick={() => onSelect(event)}
    >
      <EventCells event={event} />
    </div>
  );
});

const EventCells = memo(function EventCells({ event }: { event: SwitchboardEvent }) {
  return (
    <>
      <span role="gridcell" className="cell-time">
        <time dateTime={event.ts} title={formatAbsolute(event.ts)}>
          {timeFormat.format(new Date(event.ts))}
        </time>
      </span>
      <span role="gridcell" className="cell-channel">
        <span className="channel-chip" title={`${event.channel} #${event.seq}`}>
          {event.channel}
        </span>
      </span>
      <span role="gridcell" className="cell-type" title={event.type}>
        {event.type}
      </span>
      <span role="gridcell" className="cell-agent" title={event.agent ?? undefined}>
        {event.agent ?? <NoValue />}
      </span>
      <span role="gridcell" className="cell-project" title={event.project ?? undefined}>
        {event.project ?? <NoValue />}
      </span>
      <span role="gridcell" className="cell-summary">
        {summarizePayload(event.payload)}
      </span>
    </>
  );
});
