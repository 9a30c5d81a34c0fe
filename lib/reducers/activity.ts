/**
 * The channel-activity view's live reducer: each live event counts into its minute. The view names
 * each channel's head (`lastSeq`); an event at or below it is already counted and changes nothing,
 * and each counted event moves the head, so a repeat is not counted twice. (A refill that delivers
 * events older than ones already counted is not counted either: the next fetch has them.) When an
 * event falls after the window's last minute the window moves forward, its oldest minutes dropped.
 */
import type { SwitchboardEvent } from "../protocol";
import type { ActivityView } from "../views";

const MINUTE = 60_000;

export function applyActivityEvents(view: ActivityView, events: readonly SwitchboardEvent[]): ActivityView {
  let channels: ActivityView["channels"] | null = null;
  let from = Date.parse(view.from);
  for (const event of events) {
    const index = view.channels.findIndex((c) => c.name === event.channel);
    if (index < 0 || event.seq <= (channels ?? view.channels)[index]!.lastSeq) continue;
    channels ??= view.channels.map((c) => ({ ...c, perMinute: [...c.perMinute] }));
    let minute = Math.round((Math.floor(Date.parse(event.ts) / MINUTE) * MINUTE - from) / MINUTE);
    if (minute >= view.minutes) {
      const shift = minute - view.minutes + 1;
      for (const c of channels) c.perMinute = [...c.perMinute.slice(shift), ...new Array<number>(Math.min(shift, view.minutes)).fill(0)].slice(-view.minutes);
      from += shift * MINUTE;
      minute -= shift;
    }
    const channel = channels[index]!;
    if (minute >= 0) channel.perMinute[minute] = (channel.perMinute[minute] ?? 0) + 1;
    channel.lastSeq = event.seq;
  }
  return channels ? { ...view, from: new Date(from).toISOString(), channels } : view;
}
