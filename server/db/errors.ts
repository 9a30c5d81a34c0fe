/**
 * What a failed database call means, from `pg` errors and from Prisma's (over @prisma/adapter-pg):
 *
 * - `connection`: the database cannot be reached or cannot serve now, and a retry may succeed:
 *   socket errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT, …), SQLSTATE class 08 (connection
 *   exception), 57P01–57P03 (admin or crash shutdown, cannot connect now), 57014 (query cancelled:
 *   statement timeout), class 53 (insufficient resources: too many connections, out of memory or
 *   disk), the pool's timeouts and closed-connection errors, and Prisma's P1001/P1002/P1008/P1017/P2024.
 * - `data`: the statement was refused because of the values it carried: SQLSTATE class 22 (data
 *   exception: out of range, invalid text, untranslatable character) and 54 (program limit
 *   exceeded: a value or row too large). Retrying the same values fails the same way.
 * - `other`: anything else (a bug, a missing table, a constraint): neither retrying nor changing
 *   the request helps.
 */
export type DatabaseErrorKind = "connection" | "data" | "other";

const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ECONNABORTED"]);
const PRISMA_CONNECTION_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
const ADAPTER_CONNECTION_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections", "TlsConnectionError"]);
const CONNECTION_MESSAGES =
  /timeout exceeded when trying to connect|Connection terminated|connection error and is not queryable|Client was closed and is not queryable|Cannot use a pool after calling end/i;
const SQLSTATE = /^[0-9A-Z]{5}$/;

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown; code?: unknown; originalMessage?: unknown; message?: unknown } } };
}

/** The error and its causes, outermost first (a few levels: pool errors wrap socket errors). */
function* chain(err: unknown) {
  for (let e = err, depth = 0; e !== null && typeof e === "object" && depth < 5; e = (e as ErrorLike).cause, depth++) yield e as ErrorLike;
}

const isPrismaError = (e: ErrorLike) => typeof (e as { name?: unknown }).name === "string" && (e as { name: string }).name.startsWith("PrismaClient");

/** The SQLSTATE PostgreSQL answered with, if it answered. */
export function sqlStateOf(err: unknown): string | undefined {
  for (const e of chain(err)) {
    const adapter = e.meta?.driverAdapterError?.cause;
    const code = adapter?.originalCode ?? adapter?.code;
    if (typeof code === "string" && SQLSTATE.test(code)) return code;
    // Prisma's own codes (P2010) look like SQLSTATEs (P0001); only a pg error's code is one.
    if (typeof e.code === "string" && SQLSTATE.test(e.code) && !isPrismaError(e)) return e.code;
  }
  return undefined;
}

/** PostgreSQL's own message for the error, when there is one. */
export function databaseMessageOf(err: unknown): string {
  for (const e of chain(err)) {
    const adapter = e.meta?.driverAdapterError?.cause;
    const message = adapter?.originalMessage ?? adapter?.message;
    if (typeof message === "string") return message;
  }
  const first = chain(err).next().value;
  return typeof first?.message === "string" ? first.message : String(err);
}

export function classifyDatabaseError(err: unknown): DatabaseErrorKind {
  const state = sqlStateOf(err);
  if (state) {
    if (state.startsWith("08") || state.startsWith("53") || /^57P0[123]$/.test(state) || state === "57014") return "connection";
    if (state.startsWith("22") || state.startsWith("54")) return "data";
    return "other";
  }
  for (const e of chain(err)) {
    if (typeof e.code === "string" && (SOCKET_CODES.has(e.code) || PRISMA_CONNECTION_CODES.has(e.code))) return "connection";
    const kind = e.meta?.driverAdapterError?.cause?.kind;
    if (typeof kind === "string" && ADAPTER_CONNECTION_KINDS.has(kind)) return "connection";
    if (typeof e.message === "string" && CONNECTION_MESSAGES.test(e.message)) return "connection";
  }
  return "other";
}
