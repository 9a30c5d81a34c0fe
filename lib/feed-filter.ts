/**
 * The live feed's filter: which channels, and which agents, projects and event types. Read from and
 * written to the URL query (`?channels=tasks,agents&agent=&project=&type=task.*`) so a reload or a
 * shared link shows the same feed, and turned into the protocol's subscribe filter. Agent, project
 * and type take comma-separated lists (any of them matches); `type` takes prefixes such as `task.*`.
 */
import { CHANNEL_NAMES, filterSchema, type ChannelName, type EventFilter } from "./protocol";

export const FEED_FILTER_FIELDS = ["agent", "project", "type"] as const;
export type FeedFilterField = (typeof FEED_FILTER_FIELDS)[number];

/** Unset fields match everything; `channels` unset means all five. */
export type FeedFilter = Partial<Record<FeedFilterField, string>> & { channels?: readonly ChannelName[] };

const fieldLabels: Record<FeedFilterField, string> = { agent: "Agent", project: "Project", type: "Event type" };

/** The values of a comma-separated field, trimmed, without empties. */
export const listValues = (value: string | undefined): string[] =>
  (value ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);

/** Why the server would refuse this value, or null when it is fine (empty means "no filter"). */
export function filterValueProblem(field: FeedFilterField, value: string): string | null {
  const values = listValues(value);
  if (values.length === 0) return null;
  if (values.length > 50) return `${fieldLabels[field]}: at most 50 values.`;
  if (filterSchema.safeParse({ [field]: values }).success) return null;
  return field === "type"
    ? "Event types are dotted lower-case names such as task.created, or prefixes such as task.*"
    : `${fieldLabels[field]} names are at most 128 letters, digits and _ . : @ / - characters.`;
}

const normalizeList = (value: string) => listValues(value).join(",");

function readChannels(raw: string | null): { channels?: ChannelName[]; problem?: string } {
  if (raw === null || raw.trim() === "") return {};
  const values = listValues(raw);
  const known = values.filter((v): v is ChannelName => (CHANNEL_NAMES as readonly string[]).includes(v));
  const channels = CHANNEL_NAMES.filter((c) => known.includes(c));
  const problem = known.length < values.length ? `Ignoring unknown channels from the address: ${values.filter((v) => !known.includes(v as ChannelName)).join(", ")}` : undefined;
  if (channels.length === 0 || channels.length === CHANNEL_NAMES.length) return { problem };
  return { channels, problem };
}

/** Reads the filter from a query string; values the server would refuse are left out and reported. */
export function readFeedFilter(params: Pick<URLSearchParams, "get">): { filter: FeedFilter; problems: string[] } {
  const filter: FeedFilter = {};
  const problems: string[] = [];
  for (const field of FEED_FILTER_FIELDS) {
    const value = normalizeList(params.get(field) ?? "");
    if (value === "") continue;
    const problem = filterValueProblem(field, value);
    if (problem) problems.push(`Ignoring the ${field} filter from the address: ${problem}`);
    else filter[field] = value;
  }
  const { channels, problem } = readChannels(params.get("channels"));
  if (channels) filter.channels = channels;
  if (problem) problems.push(problem);
  return { filter, problems };
}

/** The query string for a filter, keeping any other parameters of `current` as they were. */
export function withFeedFilter(current: string, filter: FeedFilter): string {
  const params = new URLSearchParams(current);
  for (const field of FEED_FILTER_FIELDS) {
    const value = filter[field];
    if (value) params.set(field, value);
    else params.delete(field);
  }
  const channels = feedChannels(filter);
  if (channels.length < CHANNEL_NAMES.length) params.set("channels", channels.join(","));
  else params.delete("channels");
  const query = params.toString().replaceAll("%2C", ",").replaceAll("%2A", "*");
  return query ? `?${query}` : "";
}

/** The channels a filter covers, in declaration order. */
export const feedChannels = (filter: FeedFilter): readonly ChannelName[] =>
  filter.channels && filter.channels.length > 0 ? CHANNEL_NAMES.filter((c) => filter.channels!.includes(c)) : CHANNEL_NAMES;

export const sameFeedFilter = (a: FeedFilter, b: FeedFilter) =>
  FEED_FILTER_FIELDS.every((field) => (a[field] ?? "") === (b[field] ?? "")) && feedChannels(a).join() === feedChannels(b).join();

export const isFiltered = (filter: FeedFilter) =>
  FEED_FILTER_FIELDS.some((field) => !!filter[field]) || feedChannels(filter).length < CHANNEL_NAMES.length;

/** The subscribe/history filter, or undefined when nothing is filtered (channels are not part of it). */
export function toEventFilter(filter: FeedFilter): EventFilter | undefined {
  const eventFilter: EventFilter = {};
  for (const field of FEED_FILTER_FIELDS) {
    const values = listValues(filter[field]);
    if (values.length === 1) eventFilter[field] = values[0]!;
    else if (values.length > 1) eventFilter[field] = values;
  }
  return Object.keys(eventFilter).length > 0 ? eventFilter : undefined;
}

/** "agent “a” and project “p”", for empty-state messages. */
export function describeFeedFilter(filter: FeedFilter): string {
  const parts: string[] = [];
  if (filter.agent) parts.push(`agent “${filter.agent}”`);
  if (filter.project) parts.push(`project “${filter.project}”`);
  if (filter.type) parts.push(`type “${filter.type}”`);
  const channels = feedChannels(filter);
  if (channels.length < CHANNEL_NAMES.length) parts.push(`channel${channels.length === 1 ? "" : "s"} ${channels.join(", ")}`);
  return parts.join(" and ");
}
