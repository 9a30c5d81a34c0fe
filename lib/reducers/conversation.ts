/**
 * A conversation's live reducer: `message.sent` events between its two agents join the thread. The
 * answer names no seq; its head is the newest message's seq, and a message at or below it changes
 * nothing.
 */
import type { SwitchboardEvent } from "../protocol";
import { newestSeq } from "./live-reducer";

/** Messages kept in an open thread (the answer holds up to 200), the oldest go first. */
export const MAX_THREAD_MESSAGES = 700;

/** The two agents of a message, in alphabetical order, or null when the payload does not name them. */
export function conversationPair(event: SwitchboardEvent): [string, string] | null {
  const { from, to } = event.payload;
  if (typeof from !== "string" || typeof to !== "string") return null;
  return from < to ? [from, to] : [to, from];
}

/** The thread between `pair` (alphabetical) after `events`; the same array when nothing is new. */
export function applyConversationEvents(thread: SwitchboardEvent[], events: readonly SwitchboardEvent[], pair: readonly [string, string]): SwitchboardEvent[] {
  let head = newestSeq(thread);
  const fresh: SwitchboardEvent[] = [];
  for (const e of events) {
    if (e.channel !== "messages" || e.type !== "message.sent" || e.seq <= head) continue;
    const p = conversationPair(e);
    if (!p || p[0] !== pair[0] || p[1] !== pair[1]) continue;
    head = e.seq;
    fresh.push(e);
  }
  return fresh.length ? [...thread, ...fresh].slice(-MAX_THREAD_MESSAGES) : thread;
}
