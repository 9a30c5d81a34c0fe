import type { SwitchboardEvent } from "../../lib/protocol";

/**
 * Each event's JSON, made once however many sockets and answers it goes to: the hub hands every
 * subscriber the same event object, and a publish's answer carries the objects that were fanned out.
 * Weak, so an event's JSON lives exactly as long as the event.
 */
const eventJson = new WeakMap<SwitchboardEvent, string>();

export function encodeEvent(event: SwitchboardEvent): string {
  let json = eventJson.get(event);
  if (json === undefined) {
    json = JSON.stringify(event);
    eventJson.set(event, json);
  }
  return json;
}

/** `[e1,e2,…]` from the events' cached JSON. */
export function encodeEvents(events: readonly SwitchboardEvent[]): string {
  if (events.length === 0) return "[]";
  let body = encodeEvent(events[0]!);
  for (let i = 1; i < events.length; i++) body += "," + encodeEvent(events[i]!);
  return `[${body}]`;
}

/** Each event's JSON as UTF-8, made once for every socket that gets it as a prebuilt WebSocket frame. */
const eventBytes = new WeakMap<SwitchboardEvent, Buffer>();

export function encodeEventBytes(event: SwitchboardEvent): Buffer {
  let bytes = eventBytes.get(event);
  if (bytes === undefined) {
    bytes = Buffer.from(encodeEvent(event));
    eventBytes.set(event, bytes);
  }
  return bytes;
}
