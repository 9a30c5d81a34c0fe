"use client";

import Link from "next/link";
import { useMemo } from "react";
import { Sparkline } from "@/components/sparkline";
import { ErrorState } from "@/components/states";
import { useLiveQuery } from "@/components/use-live-query";
import { useNow } from "@/components/use-now";
import { CHANNEL_NAMES } from "@/lib/protocol";
import { ACTIVITY_MINUTES, activityQueryOptions } from "@/lib/queries";
import { applyActivityEvents } from "@/lib/reducers/activity";
import { formatCount } from "@/lib/time-format";

const MINUTE = 60_000;
const CHANNELS = CHANNEL_NAMES.map((channel) => ({ channel }));
/** Live events are counted in once a second, so a busy channel does not re-render on every event. */
const APPLY_EVERY_MS = 1_000;

/**
 * Events per minute per channel over the last 30 minutes. The view is refetched every 30 s; in
 * between, live events newer than the view's last seq are counted into their minute
 * (lib/reducers/activity.ts).
 */
export function ChannelActivity() {
  const activity = useLiveQuery({ query: activityQueryOptions(), channels: CHANNELS, reduce: applyActivityEvents, applyEveryMs: APPLY_EVERY_MS });
  const now = useNow(1_000);
  const data = activity.data;

  const series = useMemo(() => {
    const nowMs = now || (data ? Date.parse(data.from) + (ACTIVITY_MINUTES - 1) * MINUTE : 0);
    const end = Math.floor(nowMs / MINUTE) * MINUTE;
    const start = end - (ACTIVITY_MINUTES - 1) * MINUTE;
    const from = data ? Date.parse(data.from) : start;
    return CHANNEL_NAMES.map((name) => {
      const info = data?.channels.find((c) => c.name === name);
      const values = Array.from({ length: ACTIVITY_MINUTES }, (_, i) => info?.perMinute[Math.round((start + i * MINUTE - from) / MINUTE)] ?? 0);
      // The last full minute, or the current one when it already has more (a channel that just woke up).
      return { name, values, perMinute: Math.max(values.at(-2) ?? 0, values.at(-1) ?? 0), current: values.at(-1) ?? 0, lastSeq: info?.lastSeq ?? 0, total: values.reduce((a, b) => a + b, 0) };
    });
  }, [data, now]);

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
