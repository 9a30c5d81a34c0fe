/** Where the login page sends the browser, and how it reads the login link the server prints. */

const LOGIN_PATH = "/login";

/**
 * The `next` parameter if it is a path on this origin, else "/". Refuses `//host` and `/\host`
 * (browsers treat both as another host) and anything that resolves elsewhere, so a crafted link
 * cannot bounce a fresh session to another site; refuses /login itself so sign-in cannot loop.
 */
export function safeNextPath(next: string | null | undefined, origin: string): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return "/";
  }
  if (url.origin !== origin || url.pathname === LOGIN_PATH || url.pathname.startsWith(`${LOGIN_PATH}/`)) return "/";
  return `${url.pathname}${url.search}${url.hash}`;
}

/** The token from a `#token=...` fragment (the first-start login link), or null. */
export function tokenFromFragment(hash: string): string | null {
  // Not URLSearchParams: it would turn a "+" in a hand-made token into a space.
  const raw = /^#?token=([^&]+)/.exec(hash)?.[1];
  if (!raw) return null;
  let token: string;
  try {
    token = decodeURIComponent(raw);
  } catch {
    token = raw;
  }
  return token.trim() || null;
}
