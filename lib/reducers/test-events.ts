/** Test helper: an event on `channel` at `seq`, its time `seq` seconds after 2026-01-01 (unless given). */
import type { SwitchboardEvent } from "../protocol";

export const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds)).toISOString();

export function testEvent(channel: string, seq: number, type: string, payload: Record<string, unknown> = {}, extra: Partial<SwitchboardEvent> = {}): SwitchboardEvent {
  return { v: 1, id: `${channel}-${seq}`, channel, seq, type, ts: at(seq), agent: "a1", project: "p", payload, ...extra };
}
