/**
 * The live feed's agent/project filter: read from and written to the URL query (`?agent=&project=`)
 * so a reload or a shared link shows the same feed, and turned into the protocol's subscribe filter.
 */
import { filterSchema, type EventFilter } from "./protocol";

export const FEED_FILTER_FIELDS = ["agent", "project"] as const;
export type FeedFilterField = (typeof FEED_FILTER_FIELDS)[number];

/** Unset fields match everything. */
export type FeedFilter = Partial<Record<FeedFilterField, string>>;

const fieldLabels: Record<FeedFilterField, string> = { agent: "Agent", project: "Project" };

/** Why the server would refuse this value, or null when it is fine (empty means "no filter"). */
export function filterValueProblem(field: FeedFilterField, value: string): string | null {
  if (value === "") return null;
  if (filterSchema.safeParse({ [field]: value }).success) return null;
  return `${fieldLabels[field]} names are at most 128 letters, digits and _ . : @ / - characters.`;
}

/** Reads the filter from a query string; values the server would refuse are left out and reported. */
export function readFeedFilter(params: Pick<URLSearchParams, "get">): { filter: FeedFilter; problems: string[] } {
  const filter: FeedFilter = {};
  const problems: string[] = [];
  for (const field of FEED_FILTER_FIELDS) {
    const value = params.get(field)?.trim() ?? "";
    if (value === "") continue;
    const problem = filterValueProblem(field, value);
    if (problem) problems.push(`Ignoring the ${field} filter from the address: ${problem}`);
    else filter[field] = value;
  }
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
  const query = params.toString();
  return query ? `?${query}` : "";
}

export const sameFeedFilter = (a: FeedFilter, b: FeedFilter) => FEED_FILTER_FIELDS.every((field) => a[field] === b[field]);

export const isFiltered = (filter: FeedFilter) => FEED_FILTER_FIELDS.some((field) => filter[field] !== undefined);

/** The subscribe/history filter, or undefined when nothing is filtered. */
export function toEventFilter(filter: FeedFilter): EventFilter | undefined {
  const eventFilter: EventFilter = {};
  if (filter.agent) eventFilter.agent = filter.agent;
  if (filter.project) eventFilter.project = filter.project;
  return isFiltered(filter) ? eventFilter : undefined;
}
