import type { IncomingMessage, ServerResponse } from "node:http";
import type { TokenVerifier } from "../auth/tokens";
import { SESSION_COOKIE } from "../../lib/protocol";
import { readCookie } from "./credentials";
import { requestUrl } from "./request-checks";

const PUBLIC_PREFIXES = ["/login", "/_next/", "/favicon", "/__nextjs"];

/**
 * Every page but the login page needs a session: without a valid session cookie the browser is sent
 * to /login, with where it was going in `next`. Returns false when it answered the request itself.
 * A session cookie that does not decode counts as no session (readCookie), so it leads to /login
 * rather than to an error page.
 */
export function createPageGate(verifier: TokenVerifier) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = requestUrl(req.url);
    if (PUBLIC_PREFIXES.some((p) => url.pathname.startsWith(p))) return true;
    const principal = await verifier.verify(readCookie(req.headers.cookie, SESSION_COOKIE));
    if (principal) return true;
    const nextPath = url.pathname + url.search;
    res.writeHead(302, { Location: `/login?next=${encodeURIComponent(nextPath)}`, "Cache-Control": "no-store" }).end();
    return false;
  };
}
