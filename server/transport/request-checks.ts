import { SwitchboardError } from "../channels/errors";
import { safeDecode } from "./credentials";

const BASE = "http://localhost";

/**
 * The request's URL, never throwing: an origin-form target (`/path?q`) is resolved under one fixed
 * origin, so `//host/x` stays a path; an absolute-form target is parsed as it is. A target that is
 * not a URL at all is `invalid_request`.
 */
export function requestUrl(target: string | undefined): URL {
  const raw = target ?? "/";
  try {
    return raw.startsWith("/") ? new URL(BASE + raw) : new URL(raw);
  } catch {
    throw new SwitchboardError("invalid_request", "The request target is not a valid URL.");
  }
}

/** A percent-encoded path segment, decoded; a malformed escape or a NUL is `invalid_request`. */
export function decodePathSegment(segment: string): string {
  const value = safeDecode(segment);
  if (value === undefined) throw new SwitchboardError("invalid_request", "The path has a malformed percent-escape.");
  if (value.includes("\u0000")) throw new SwitchboardError("invalid_request", "The path holds a NUL character.");
  return value;
}

/** Undefined where the whole path would not decode: what Next.js answers with a 500. */
export function pathProblem(pathname: string): string | undefined {
  const value = safeDecode(pathname);
  if (value === undefined) return "The path has a malformed percent-escape.";
  if (value.includes("\u0000")) return "The path holds a NUL character.";
  return undefined;
}

// A UTF-16 code unit of a surrogate pair without its partner.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Undefined when every name and value of the query string decodes strictly (URLSearchParams would
 * quietly keep `%ZZ` as it is) and holds no NUL and no lone surrogate; else what is wrong.
 */
export function queryProblem(search: string): string | undefined {
  const query = search.startsWith("?") ? search.slice(1) : search;
  if (!query) return undefined;
  for (const part of query.split("&")) {
    for (const piece of part.split("=")) {
      const value = safeDecode(piece.replace(/\+/g, " "));
      if (value === undefined) return "The query string has a malformed percent-escape.";
      if (value.includes("\u0000")) return "A query parameter holds a NUL character.";
      if (LONE_SURROGATE.test(value)) return "A query parameter holds a lone surrogate.";
    }
  }
  return undefined;
}
