"use client";

import { memo, useRef, type KeyboardEvent } from "react";
import { summarizePayload } from "@/lib/event-summary";
import type { SwitchboardEvent } from "@/lib/protocol";
import { formatAbsolute } from "@/lib/time-format";
import { NoValue } from "./states";
import { rowStyle, useScrollAnchor, useVirtualWindow, VirtualRows } from "./virtual-list";

/** Must match --row-height in globals.css. */
export const EVENT_ROW_HEIGHT = 36;
const HEADER_HEIGHT = 32;

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
  const { start, end, pageSize } = useVirtualWindow({ scrollRef, count: events.length, rowHeight: EVENT_ROW_HEIGHT, offsetTop: HEADER_HEIGHT });
  const keys = anchorRows ? events.map((e) => e.id) : EMPTY_KEYS;
  useScrollAnchor(scrollRef, keys, EVENT_ROW_HEIGHT, HEADER_HEIGHT);
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
    rows.push(<EventRow key={e.id} event={e} index={i} selected={e.id === selectedId} onSelect={onSelect} />);
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

const EMPTY_KEYS: readonly string[] = [];

interface EventRowProps {
  event: SwitchboardEvent;
  index: number;
  selected: boolean;
  onSelect(event: SwitchboardEvent): void;
}

/** Memoized: events are immutable, so a row renders again only when it moves or its selection changes. */
const EventRow = memo(function EventRow({ event, index, selected, onSelect }: EventRowProps) {
  return (
    <div
      role="row"
      id={rowId(event)}
      aria-rowindex={index + 2}
      aria-selected={selected}
      className="event-grid-row event-row"
      data-channel={event.channel}
      data-ts={event.ts}
      style={rowStyle(index, EVENT_ROW_HEIGHT)}
      onClick={() => onSelect(event)}
    >
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
    </div>
  );
});
