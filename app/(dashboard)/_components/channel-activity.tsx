"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useMemo, useRef, useState } from "react";
import { useLiveSubscriptions } from "@/components/live-client-provider";
import { Sparkline } from "@/components/sparkline";
import { ErrorState } from "@/components/states";
import { useNow } from "@/components/use-now";
import { CHANNEL_NAMES } from "@/lib/protocol";
import { ACTIVITY_MINUTES, activityQueryOptions } from "@/lib/queries";
import { formatCount } from "@/lib/time-format";

const MINUTE = 60_000;
const SUBSCRIPTIONS = CHANNEL_NAMES.map((channel) => ({ channel, start: { history: 0 } as const, catchUp: 1 }));

/**
 * Events per minute per channel over the last 30 minutes. The view is refetched every 30 s; in
 * between, live events newer than the view's last seq are counted into their minute, flushed once a
 * second so a busy channel does not re-render on every event.
 */
export function ChannelActivity() {
  const activity = useQuery(activityQueryOptions());
  const pending = useRef(new Map<string, Map<number, number>>());
  const liveSeq = useRef(new Map<string, number>());
  const [live, setLive] = useState<{ counts: Map<string, Map<number, number>>; lastSeq: Map<string, number> }>({ counts: new Map(), lastSeq: new Map() });
  const now = useNow(1_000);

  useLiveSubscriptions(SUBSCRIPTIONS, (events, channel) => {
    const byMinute = pending.current.get(channel) ?? new Map<number, number>();
    pending.current.set(channel, byMinute);
    for (const event of events) {
      const minute = Math.floor(Date.parse(event.ts) / MINUTE) * MINUTE;
      byMinute.set(minute, (byMinute.get(minute) ?? 0) + 1);
      liveSeq.current.set(channel, Math.max(liveSeq.current.get(channel) ?? 0, event.seq));
    }
  });

  // Keep only live counts the view does not cover yet: each live minute is a delta on top of it.
  const viewSeq = useMemo(() => new Map(activity.data?.channels.map((c) => [c.name, c.lastSeq]) ?? []), [activity.data]);
  useEffect(() => {
    // A new view covers everything counted so far.
    pending.current = new Map();
    setLive({ counts: new Map(), lastSeq: new Map(liveSeq.current) });
  }, [activity.data]);
  useEffect(() => {
    if (pending.current.size === 0) return;
    const flushed = pending.current;
    pending.current = new Map();
    setLive((current) => {
      const counts = new Map(current.counts);
      for (const [channel, minutes] of flushed) {
        const merged = new Map(counts.get(channel));
        for (const [minute, n] of minutes) merged.set(minute, (merged.get(minute) ?? 0) + n);
        counts.set(channel, merged);
      }
      return { counts, lastSeq: new Map(liveSeq.current) };
    });
  }, [now]);

  const series = useMemo(() => {
    const nowMs = now || (activity.data ? Date.parse(activity.data.from) + (ACTIVITY_MINUTES - 1) * MINUTE : 0);
    const end = Math.floor(nowMs / MINUTE) * MINUTE;
    const start = end - (ACTIVITY_MINUTES - 1) * MINUTE;
    const from = activity.data ? Date.parse(activity.data.from) : start;
    return CHANNEL_NAMES.map((name) => {
      const info = activity.data?.channels.find((c) => c.name === name);
      const values = Array.from({ length: ACTIVITY_MINUTES }, (_, i) => {
        const minute = start + i * MINUTE;
        const viewIndex = Math.round((minute - from) / MINUTE);
        return (info?.perMinute[viewIndex] ?? 0) + (live.counts.get(name)?.get(minute) ?? 0);
      });
      const lastSeq = Math.max(info?.lastSeq ?? 0, live.lastSeq.get(name) ?? 0, viewSeq.get(name) ?? 0);
      // The last full minute, or the current one when it already has more (a channel that just woke up).
      return { name, values, perMinute: Math.max(values.at(-2) ?? 0, values.at(-1) ?? 0), current: values.at(-1) ?? 0, lastSeq, total: values.reduce((a, b) => a + b, 0) };
    });
  }, [activity.data, live, now, viewSeq]);

  return (
    <section className="card span-full" aria-labelledby="activity-heading">
      <div className="card-head">
        <h2 id="activity-heading">Channels</h2>
        <p className="muted">events per minute, last {ACTIVITY_MINUTES} minutes</p>
      </div>
      {activity.isError ? <ErrorState error={activity.error} what="channel activity" /> : null}
      <ul className="channel-cards">
        {series.map((s) => (
          <li key={s.name} className="channel-card" data-channel={s.name} aria-label={`${s.name} channel`}>
            <div className="channel-card-head">
              <Link href={`/feed?channels=${s.name}`} className="channel-name">
                {s.name}
              </Link>
              <span className="channel-seq" title="last seq">
                <span className="visually-hidden">last event </span>#{formatCount(s.lastSeq)}
              </span>
            </div>
            <p className="channel-rate">
              <strong>{activity.isPending ? "…" : formatCount(s.perMinute)}</strong> <span className="muted">events/min</span>
            </p>
            <Sparkline values={s.values} width={160} height={32} label={`${s.name}: ${formatCount(s.total)} events in the last ${ACTIVITY_MINUTES} minutes, ${formatCount(s.current)} this minute`} />
          </li>
        ))}
      </ul>
    </section>
  );
}
