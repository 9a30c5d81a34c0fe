"use client";

import { memo } from "react";
import { payloadAsText, summarizePayload } from "@/lib/event-summary";
import { isFiltered, type FeedFilter } from "@/lib/feed-filter";
import type { SwitchboardEvent } from "@/lib/protocol";

interface EventTableProps {
  events: readonly SwitchboardEvent[];
  loading: boolean;
  /** False while the socket is down, so an empty feed says why instead of "loading" forever. */
  connected: boolean;
  filter: FeedFilter;
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  fractionalSecondDigits: 3,
  hourCycle: "h23",
});
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "long" });

function describeFilter(filter: FeedFilter) {
  const parts = [filter.agent && `agent “${filter.agent}”`, filter.project && `project “${filter.project}”`].filter(Boolean);
  return parts.join(" and ");
}

/**
 * The merged feed, newest first. Rows have a fixed height and every cell is plain text (payloads are
 * summarized as strings, never rendered as markup), so streaming events never reflow the page.
 */
export function EventTable({ events, loading, connected, filter }: EventTableProps) {
  const emptyMessage = !connected
    ? "Not connected to the server. Recent events will load once the connection is back."
    : loading
      ? "Loading recent events…"
      : isFiltered(filter)
        ? `No events from ${describeFilter(filter)} yet. Waiting for events…`
        : "Waiting for events…";

  return (
    <div className="feed-scroller">
      <table className="event-table">
        <caption className="visually-hidden">Live events</caption>
        <colgroup>
          <col className="col-time" />
          <col className="col-channel" />
          <col className="col-type" />
          <col className="col-agent" />
          <col className="col-project" />
          <col className="col-summary" />
        </colgroup>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Channel</th>
            <th scope="col">Type</th>
            <th scope="col">Agent</th>
            <th scope="col">Project</th>
            <th scope="col">Summary</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <EventRow key={event.id} event={event} />
          ))}
        </tbody>
      </table>
      {events.length === 0 ? <p className="feed-empty">{emptyMessage}</p> : null}
    </div>
  );
}

function NoValue() {
  return (
    <span className="muted">
      <span aria-hidden="true">—</span>
      <span className="visually-hidden">none</span>
    </span>
  );
}

/** Memoized: events are immutable, so a row renders once however many arrive after it. */
const EventRow = memo(function EventRow({ event }: { event: SwitchboardEvent }) {
  const at = new Date(event.ts);
  return (
    <tr data-channel={event.channel}>
      <td className="cell-time">
        <time dateTime={event.ts} title={dateTimeFormat.format(at)}>
          {timeFormat.format(at)}
        </time>
      </td>
      <td className="cell-channel">
        <span className="channel-chip" title={`${event.channel} #${event.seq}`}>
          {event.channel}
        </span>
      </td>
      <td className="cell-type" title={event.type}>
        {event.type}
      </td>
      <td className="cell-agent" title={event.agent ?? undefined}>
        {event.agent ?? <NoValue />}
      </td>
      <td className="cell-project" title={event.project ?? undefined}>
        {event.project ?? <NoValue />}
      </td>
      <td className="cell-summary" title={payloadAsText(event.payload, 600)}>
        {summarizePayload(event.payload)}
      </td>
    </tr>
  );
});
