/**
 * The overview's latest notices: the newest `max` notices, from the system channel's recent history
 * and live events (the subscription's history is the snapshot; there is no view to fetch). Notices
 * are keyed by event id, so an event already shown, or applied twice, changes nothing.
 */
import { noticeOf, type Notice } from "../notices";
import type { SwitchboardEvent } from "../protocol";

export function applyLatestNotices(notices: readonly Notice[], events: readonly SwitchboardEvent[], max = 5): readonly Notice[] {
  const known = new Set(notices.map((n) => n.id));
  const fresh = events.filter((e) => e.channel === "system" && e.type === "system.notice" && !known.has(e.id)).map(noticeOf);
  if (fresh.length === 0) return notices;
  return [...new Map([...notices, ...fresh].map((n) => [n.id, n])).values()].sort((a, b) => (a.ts < b.ts ? 1 : -1)).slice(0, max);
}
