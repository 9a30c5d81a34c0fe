import type { IncomingHttpHeaders } from "node:http";
import { SESSION_COOKIE } from "../../lib/protocol";

/**
 * The value of cookie `name`, percent-decoded. A value that does not decode (`%ZZ`, a cut escape,
 * bytes that are not UTF-8) or that holds a NUL is treated as absent, never as an error: any site
 * that can set a cookie for this host could otherwise lock its users out. Later cookies of the same
 * name are tried when the first one is unusable.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0 || part.slice(0, eq).trim() !== name) continue;
    let raw = part.slice(eq + 1).trim();
    if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) raw = raw.slice(1, -1);
    const value = safeDecode(raw);
    if (value !== undefined && !value.includes("\u0000")) return value;
  }
  return undefined;
}

/** decodeURIComponent, or undefined where it would throw. */
export function safeDecode(text: string): string | undefined {
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** A bearer token from `Authorization`, else the browser's session cookie. */
export function presentedToken(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (auth?.startsWith("Bearer ")) return auth.slice(7).trim();
  return readCookie(headers.cookie, SESSION_COOKIE);
}

export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${30 * 24 * 3600}${secure ? "; Secure" : ""}`;
}

export const clearedSessionCookie = `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;
