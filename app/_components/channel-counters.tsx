"use client";

import { useQuery } from "@tanstack/react-query";
import { CHANNEL_NAMES } from "@/lib/protocol";
import { channelsQueryOptions } from "@/lib/queries";

const formatCount = new Intl.NumberFormat("en-US").format;

/**
 * Each channel's newest seq. The channel list refreshes every few seconds; in between, `liveLastSeq`
 * (what the feed has seen) moves the numbers, and the larger of the two is shown.
 */
export function ChannelCounters({ liveLastSeq }: { liveLastSeq: Readonly<Record<string, number>> }) {
  const channels = useQuery(channelsQueryOptions());
  const byName = new Map(channels.data?.map((c) => [c.name, c]));

  return (
    <section className="channel-counters" aria-labelledby="channels-heading">
      <h2 id="channels-heading" className="visually-hidden">
        Channels
      </h2>
      <ul>
        {CHANNEL_NAMES.map((name) => {
          const info = byName.get(name);
          const lastSeq = Math.max(info?.lastSeq ?? 0, liveLastSeq[name] ?? 0);
          const known = info !== undefined || liveLastSeq[name] !== undefined;
          return (
            <li key={name} className="channel-counter" data-channel={name}>
              <span className="channel-name">{name}</span>
              <span className="channel-seq" title={info ? `${info.subscribers} subscriber${info.subscribers === 1 ? "" : "s"}` : undefined}>
                <span className="visually-hidden">last event </span>
                {known ? `#${formatCount(lastSeq)}` : "—"}
              </span>
            </li>
          );
        })}
      </ul>
      {channels.isError ? (
        <p className="form-error" role="alert">
          Channel counts are unavailable: {channels.error.message}
        </p>
      ) : null}
    </section>
  );
}
