"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { EventDetail } from "@/components/event-detail";
import { EventGrid } from "@/components/event-grid";
import { FeedFilterBar } from "@/components/feed-filter-bar";
import { useLiveSubscriptions } from "@/components/live-client-provider";
import { ErrorState } from "@/components/states";
import { useFeedFilterParams } from "@/components/use-feed-filter-params";
import { useNow } from "@/components/use-now";
import { compareNewestFirst } from "@/lib/feed-buffer";
import { feedChannels, toEventFilter } from "@/lib/feed-filter";
import { CHANNEL_NAMES, type SwitchboardEvent } from "@/lib/protocol";
import { playedCount, readReplayPage, replayStart, type ReplayCursors, type ReplayWindow } from "@/lib/replay";
import { formatAbsolute, formatCount } from "@/lib/time-format";

/** Pages load by themselves up to this many events; beyond, the user asks for more. */
const AUTO_LOAD_EVENTS = 20_000;
/** Live events kept after the history, newest first. */
const MAX_LIVE = 5_000;
const SPEEDS = [1, 2, 5, 10, 25, 50];
const WINDOWS = [
  { value: "15", label: "Last 15 minutes" },
  { value: "60", label: "Last hour" },
  { value: "1440", label: "Last 24 hours" },
  { value: "seq", label: "From a seq" },
  { value: "time", label: "From a time" },
];

type PageParam = { cursors: ReplayCursors; done: string[] } | null;

/** History from a point, read page by page, then live with no gap and no duplicate; or played back at speed. */
export function ReplayView() {
  const { filter, problems, applyFilter } = useFeedFilterParams();
  const [choice, setChoice] = useState("15");
  const [seqChannel, setSeqChannel] = useState<string>("tasks");
  const [seq, setSeq] = useState("1");
  const [fromTime, setFromTime] = useState("");
  const [window, setWindow] = useState<{ id: number; spec: ReplayWindow } | null>(null);

  const start = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const spec: ReplayWindow =
      choice === "seq"
        ? { kind: "seq", channel: seqChannel, seq: Math.max(1, Number(seq) || 1) }
        : choice === "time"
          ? { kind: "time", from: new Date(fromTime || Date.now()).toISOString() }
          : { kind: "last", minutes: Number(choice) };
    setWindow({ id: Date.now(), spec });
  };

  return (
    <div className="view view-fill">
      <h1 className="view-title">Replay</h1>
      <FeedFilterBar filter={filter} onApply={applyFilter} knownAgents={[]} knownProjects={[]} />
      {problems.length > 0 ? (
        <ul className="problems" role="alert">
          {problems.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      ) : null}
      <form className="replay-controls" aria-label="Replay window" onSubmit={start}>
        <fieldset className="segmented">
          <legend>Window</legend>
          {WINDOWS.map((w) => (
            <label key={w.value}>
              <input type="radio" name="window" value={w.value} checked={choice === w.value} onChange={() => setChoice(w.value)} />
              {w.label}
            </label>
          ))}
        </fieldset>
        {choice === "seq" ? (
          <>
            <div className="filter-field">
              <label htmlFor="replay-seq-channel">Channel</label>
              <select id="replay-seq-channel" value={seqChannel} onChange={(e) => setSeqChannel(e.target.value)}>
                {CHANNEL_NAMES.map((c) => (
                  <option key={c}>{c}</option>
                ))}
              </select>
            </div>
            <div className="filter-field">
              <label htmlFor="replay-seq">From seq</label>
              <input id="replay-seq" type="number" min={1} value={seq} onChange={(e) => setSeq(e.target.value)} />
            </div>
          </>
        ) : null}
        {choice === "time" ? (
          <div className="filter-field">
            <label htmlFor="replay-time">From</label>
            <input id="replay-time" type="datetime-local" step={1} value={fromTime} onChange={(e) => setFromTime(e.target.value)} required />
          </div>
        ) : null}
        <button type="submit" className="button-primary">
          Load replay
        </button>
      </form>
      {window ? <ReplaySession key={`${window.id}:${JSON.stringify(filter)}`} spec={window.spec} filter={filter} /> : <p className="muted">Pick a window and load it.</p>}
    </div>
  );
}

function ReplaySession({ spec, filter }: { spec: ReplayWindow; filter: Parameters<typeof toEventFilter>[0] }) {
  const channels = spec.kind === "seq" ? [spec.channel] : feedChannels(filter);
  const eventFilter = toEventFilter(filter);
  const history = useInfiniteQuery({
    queryKey: ["replay", spec, channels, eventFilter ?? null],
    initialPageParam: null as PageParam,
    queryFn: async ({ pageParam, signal }) => {
      const param = pageParam ?? { cursors: await replayStart(spec, channels, { signal }), done: [] };
      return readReplayPage(param.cursors, param.done, eventFilter, { signal });
    },
    getNextPageParam: (last): PageParam | undefined => (last.done.length >= Object.keys(last.cursors).length ? undefined : { cursors: last.cursors, done: last.done }),
    staleTime: Infinity,
    gcTime: 0,
    refetchOnWindowFocus: false,
  });
  const pages = history.data?.pages;
  const loaded = useMemo(() => pages?.reduce((n, p) => n + p.events.length, 0) ?? 0, [pages]);
  const { hasNextPage, isFetchingNextPage, fetchNextPage, isError } = history;
  const [wantMore, setWantMore] = useState(0);
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && !isError && loaded < AUTO_LOAD_EVENTS + wantMore) fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, isError, loaded, wantMore, fetchNextPage]);

  const ascending = useMemo(() => {
    const all = pages?.flatMap((p) => p.events) ?? [];
    return all.sort((a, b) => compareNewestFirst(b, a));
  }, [pages]);
  const complete = history.isSuccess && !hasNextPage;
  const lastCursors = pages?.at(-1)?.cursors;

  // Live, once the history is complete: each channel continues after its last loaded seq.
  const specs = useMemo(
    () => (complete && lastCursors ? Object.entries(lastCursors).map(([channel, since]) => ({ channel, filter: eventFilter, start: { since } })) : null),
    [complete, lastCursors, eventFilter],
  );
  const [live, setLive] = useState<SwitchboardEvent[]>([]);
  const historyIds = useMemo(() => new Set(ascending.map((e) => e.id)), [ascending]);
  useLiveSubscriptions(specs, (events) => {
    setLive((current) => {
      const ids = new Set(current.map((e) => e.id));
      const fresh = events.filter((e) => !historyIds.has(e.id) && !ids.has(e.id));
      if (fresh.length === 0) return current;
      return [...fresh, ...current].sort(compareNewestFirst).slice(0, MAX_LIVE);
    });
  });

  // Playback at speed over the loaded history.
  const [playback, setPlayback] = useState<{ speed: number; startedAt: number; fromTs: number } | null>(null);
  const [speed, setSpeed] = useState(10);
  const now = useNow(playback ? 100 : 60_000);
  const firstTs = ascending[0] ? Date.parse(ascending[0].ts) : 0;
  const virtualTs = playback && now ? playback.fromTs + (now - playback.startedAt) * playback.speed : null;
  const played = virtualTs === null ? ascending.length : playedCount(ascending, virtualTs);
  const playing = playback !== null && played < ascending.length;

  const shown = useMemo(() => {
    const past = ascending.slice(0, played).reverse();
    return playback ? past : [...live, ...past];
  }, [ascending, played, playback, live]);
  const [selected, setSelected] = useState<SwitchboardEvent | null>(null);

  const status = history.isPending
    ? "Loading history…"
    : isError
      ? "History could not be loaded."
      : !complete
        ? `Loaded ${formatCount(loaded)} events…`
        : playing
          ? `Playing at ${playback!.speed}×: ${formatCount(played)} of ${formatCount(ascending.length)} events, at ${virtualTs ? formatAbsolute(new Date(virtualTs)) : ""}`
          : playback
            ? `Played ${formatCount(ascending.length)} events.`
            : `History loaded: ${formatCount(ascending.length)} events, continuing live (${formatCount(live.length)} new).`;

  return (
    <div className="events-panel">
      <div className="events-toolbar">
        <p className="replay-status" role="status" aria-label="Replay status">
          {status}
        </p>
        {hasNextPage && !isFetchingNextPage && loaded >= AUTO_LOAD_EVENTS + wantMore ? (
          <button type="button" className="button-secondary" onClick={() => setWantMore((n) => n + AUTO_LOAD_EVENTS)}>
            Load more history
          </button>
        ) : null}
        <div className="filter-field row-count">
          <label htmlFor="replay-speed" className="visually-hidden">
            Speed
          </label>
          <div className="filter-actions">
            <select id="replay-speed" value={speed} onChange={(e) => setSpeed(Number(e.target.value))}>
              {SPEEDS.map((s) => (
                <option key={s} value={s}>
                  {s}×
                </option>
              ))}
            </select>
            {playback ? (
              <button type="button" className="button-secondary" onClick={() => setPlayback(null)}>
                Stop playback
              </button>
            ) : (
              <button type="button" className="button-secondary" disabled={!complete || ascending.length === 0} onClick={() => setPlayback({ speed, startedAt: Date.now(), fromTs: firstTs })}>
                Replay at speed
              </button>
            )}
          </div>
        </div>
      </div>
      {isError ? <ErrorState error={history.error} what="the history" /> : null}
      <div className="events-body">
        <EventGrid
          label="Replayed events"
          events={shown}
          selectedId={selected?.id ?? null}
          onSelect={setSelected}
          emptyMessage={history.isPending ? "Loading history…" : playback ? "Playing…" : "No events in this window yet. Waiting for events…"}
        />
        <EventDetail event={selected} onClose={() => setSelected(null)} />
      </div>
    </div>
  );
}
