/** One-line, plain-text descriptions of event payloads for the feed. The result is text, never markup. */

/** Fields that usually say what happened, in the order they are preferred as a headline. */
const HEADLINE_FIELDS = ["title", "text", "message", "summary", "description", "name"] as const;
const MAX_DETAIL_FIELDS = 4;

const collapseWhitespace = (text: string) => text.replace(/\s+/g, " ").trim();

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `[${value.length} item${value.length === 1 ? "" : "s"}]`;
  if (typeof value === "object") return "{…}";
  if (typeof value === "string") return collapseWhitespace(value);
  return String(value);
}

function truncate(text: string, maxLength: number) {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1).trimEnd()}…`;
}

/**
 * A headline field (title, text, message…) first, then up to four other fields as `key: value` in
 * alphabetical order: "Draft release notes · status: assigned · taskId: T-4". Alphabetical because
 * payloads read back from history (PostgreSQL jsonb) do not keep the publisher's key order, and the
 * same event must read the same whether it arrived live or from history.
 */
export function summarizePayload(payload: Record<string, unknown>, maxLength = 160): string {
  const headlineField = HEADLINE_FIELDS.find((field) => typeof payload[field] === "string" && payload[field] !== "");
  const parts: string[] = [];
  if (headlineField) parts.push(collapseWhitespace(payload[headlineField] as string));
  const details = Object.entries(payload)
    .filter(([key, value]) => key !== headlineField && value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, MAX_DETAIL_FIELDS)
    .map(([key, value]) => `${key}: ${describeValue(value)}`);
  parts.push(...details);
  return truncate(parts.join(" · "), maxLength);
}

/** The whole payload as indented JSON, for a tooltip; bounded so a huge payload cannot bloat the page. */
export function payloadAsText(payload: Record<string, unknown>, maxLength = 2_000): string {
  return truncate(JSON.stringify(payload, null, 2), maxLength);
}
