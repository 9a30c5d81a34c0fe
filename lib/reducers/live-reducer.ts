/**
 * The contract of every view's live reducer (one per view in this folder), applied by
 * components/use-live-query.ts to the TanStack Query cache of the view's fetched snapshot.
 *
 * A snapshot carries the heads it reflects: per channel (the activity view's `lastSeq`, the newest
 * seq in a thread or among the budget warnings) or per row (a task's `seq`, an agent's `lastSeen`).
 * A reducer applies an event only when it is newer than the head that covers it, and moves that head
 * to the event. So:
 * - an event at or below the snapshot's head changes nothing;
 * - events are applied in the order given;
 * - applying the same events again changes nothing (the hook relies on it: it re-applies the events
 *   that arrived while a fetch was in flight to the fetched snapshot, which may already hold them).
 * A reducer is pure and returns the very snapshot it was given when nothing changed.
 */
import type { SwitchboardEvent } from "../protocol";

export type LiveReducer<S> = (snapshot: S, events: readonly SwitchboardEvent[]) => S;

/** The newest seq among `items` (0 for none): the head of a snapshot whose answer names no head. */
export const newestSeq = (items: readonly { seq: number }[]) => items.reduce((max, item) => Math.max(max, item.seq), 0);

/**
 * The reducer of a view no event can be applied to without guessing (the conversation list's counts
 * and cut texts are the server's): its hook refetches it while events arrive (`refetchOnEventsMs`).
 */
export const refetchOnly = <S>(snapshot: S): S => snapshot;
