import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import { SwitchboardError } from "../../channels/errors";
import type { Principal } from "../../channels/subscriber";
import type { Logger } from "../../logger";
import { describeZodError, errorBody, httpStatusOf, toSwitchboardError } from "../errors";
import { decodePathSegment, pathProblem, queryProblem } from "../request-checks";
import { authorize, isAccess, type Access } from "./access";
import { readJson } from "./body";
import { json, send, type Reply } from "./reply";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** The names of a path template's `:params`: `"/a/:x/b/:y"` gives `"x" | "y"`. */
export type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

/** Optional schemas for single params; each gets the segment percent-decoded (strictly, NUL refused). */
export type ParamSchemas<P extends string> = { readonly [K in ParamNames<P>]?: z.ZodType<unknown, string> };

type ParamsOf<P extends string, S> = {
  [K in ParamNames<P>]: K extends keyof S ? (S[K] extends z.ZodType ? z.output<S[K]> : string) : string;
};
type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;
type PrincipalOf<A extends Access> = A extends "public" ? undefined : Principal;

/** What a handler gets: the authorized principal and the request's parsed parts. */
export interface RouteInput<Deps, P extends string, A extends Access, PS, QS, BS> {
  readonly req: IncomingMessage;
  readonly deps: Deps;
  readonly principal: PrincipalOf<A>;
  readonly params: ParamsOf<P, PS>;
  readonly query: Parsed<QS>;
  readonly body: Parsed<BS>;
}

/** What a precheck and a body reader get: everything but the body, which is not read yet. */
export type BeforeBody<Deps, P extends string, A extends Access, PS, QS> = Omit<RouteInput<Deps, P, A, PS, QS, undefined>, "body">;

/**
 * One route, declared once. The router runs these steps in this order, each refusing with the one
 * error map (lib/protocol.ts ERROR_CODES) and nothing after it running:
 * 1. match `path` (404 `not_found`) and `method` (405 `method_not_allowed`, with `Allow`);
 * 2. `access`: authenticate and authorize (401, 403), unless `"public"`;
 * 3. `query`: the schema applied to the query string (`readQuery` shapes it; by default each name's
 *    last value), 400 on failure;
 * 4. params: every `:param` percent-decoded strictly, then its schema from `params` if it has one;
 * 5. `precheck`: cheap refusals that need the principal and params, before the body is read;
 * 6. `body` (only routes that declare one): `readBody`, by default a JSON body of at most
 *    `bodyLimit` (MAX_BODY_BYTES unless told), then the schema;
 * 7. `handler`, whose Reply the router sends.
 */
export interface RouteSpec<
  Deps,
  P extends string,
  A extends Access,
  PS extends ParamSchemas<P>,
  QS extends z.ZodType | undefined,
  BS extends z.ZodType | undefined,
> {
  readonly method: Method;
  readonly path: P;
  readonly access: A;
  readonly params?: PS;
  readonly query?: QS;
  readonly readQuery?: (search: URLSearchParams) => unknown;
  readonly body?: BS;
  readonly bodyLimit?: number;
  /** Reads the body instead of the default JSON reader, for checks that must come before the schema. */
  readonly readBody?: (input: BeforeBody<Deps, P, A, PS, QS>) => Promise<unknown>;
  readonly precheck?: (input: BeforeBody<Deps, P, A, PS, QS>) => void | Promise<void>;
  readonly handler: (input: RouteInput<Deps, P, A, PS, QS, BS>) => Promise<Reply>;
}

interface AnyInput<Deps> {
  readonly req: IncomingMessage;
  readonly deps: Deps;
  readonly principal: Principal | undefined;
  readonly params: Readonly<Record<string, unknown>>;
  readonly query: unknown;
  body: unknown;
}

/** A route as the table holds it: the types checked where it was declared, erased. */
export interface Route<Deps> {
  readonly method: Method;
  readonly path: string;
  readonly access: Access;
  readonly params?: Readonly<Record<string, z.ZodType | undefined>>;
  readonly query?: z.ZodType;
  readonly readQuery?: (search: URLSearchParams) => unknown;
  readonly body?: z.ZodType;
  readonly bodyLimit?: number;
  readonly readBody?: (input: AnyInput<Deps>) => Promise<unknown>;
  readonly precheck?: (input: AnyInput<Deps>) => void | Promise<void>;
  readonly handler: (input: AnyInput<Deps>) => Promise<Reply>;
}

/**
 * The route declarer for handlers that take `Deps`: `const route = routeFor<HttpApiDeps>()`, then
 * `route({ method, path, access, query, handler })`. Typing happens here (params from the path,
 * query and body from their schemas, the principal from `access`); the table holds erased Routes.
 */
export function routeFor<Deps>() {
  return <
    const P extends string,
    const A extends Access,
    PS extends ParamSchemas<P> = Record<never, never>,
    QS extends z.ZodType | undefined = undefined,
    BS extends z.ZodType | undefined = undefined,
  >(
    spec: RouteSpec<Deps, P, A, PS, QS, BS>,
  ): Route<Deps> => spec as unknown as Route<Deps>;
}

export interface RouterOptions<Deps> {
  readonly routes: readonly Route<Deps>[];
  readonly deps: Deps;
  /** The principal of the token the request presents, or null (none, or not valid). */
  readonly authenticate: (req: IncomingMessage) => Promise<Principal | null>;
  readonly logger: Logger;
  /** MAX_BODY_BYTES: the default body limit, and how much of a body left unread is drained. */
  readonly maxBodyBytes: number;
}

/** The routes of one path template, compiled once. */
interface CompiledPath<Deps> {
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly byMethod: Map<string, Route<Deps>>;
  /** `Allow` of a 405: the methods in table order. */
  allow: string;
  methods: string;
}

const EMPTY_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

function compilePath<Deps>(template: string): CompiledPath<Deps> {
  if (!template.startsWith("/")) throw new Error(`Route path ${template} must start with /.`);
  const names: string[] = [];
  const source = template
    .split("/")
    .map((segment) => {
      if (!segment.startsWith(":")) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const name = segment.slice(1);
      if (!/^\w+$/.test(name) || names.includes(name)) throw new Error(`Route path ${template}: bad or repeated param :${name}.`);
      names.push(name);
      return "([^/]+)";
    })
    .join("\\/");
  return { pattern: new RegExp(`^${source}$`), names, byMethod: new Map(), allow: "", methods: "" };
}

/** Checks the table once, at start-up: a route the types would have refused still cannot slip in. */
function compile<Deps>(routes: readonly Route<Deps>[]): CompiledPath<Deps>[] {
  const byTemplate = new Map<string, CompiledPath<Deps>>();
  for (const route of routes) {
    const name = `${route.method} ${route.path}`;
    if (!isAccess(route.access)) throw new Error(`Route ${name} has no access rule: give it access "public", "any-token" or a list of roles.`);
    if (route.readBody && !route.body) throw new Error(`Route ${name} reads a body but declares no body schema.`);
    let path = byTemplate.get(route.path);
    if (!path) byTemplate.set(route.path, (path = compilePath<Deps>(route.path)));
    if (path.byMethod.has(route.method)) throw new Error(`Route ${name} is declared twice.`);
    for (const param of Object.keys(route.params ?? {})) {
      if (!path.names.includes(param)) throw new Error(`Route ${name} has a schema for :${param}, which its path does not name.`);
    }
    path.byMethod.set(route.method, route);
    path.allow = [...path.byMethod.keys()].join(", ");
    path.methods = [...path.byMethod.keys()].join(" or ");
  }
  return [...byTemplate.values()];
}

function parseOrThrow(schema: z.ZodType, value: unknown, prefix?: string): unknown {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const problem = describeZodError(parsed.error);
    throw new SwitchboardError("invalid_request", prefix ? `${prefix}: ${problem}` : problem);
  }
  return parsed.data;
}

function readParams<Deps>(route: Route<Deps>, names: readonly string[], match: RegExpExecArray): Readonly<Record<string, unknown>> {
  if (names.length === 0) return EMPTY_PARAMS;
  const params: Record<string, unknown> = {};
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const value = decodePathSegment(match[i + 1]!);
    const schema = route.params?.[name];
    params[name] = schema ? parseOrThrow(schema, value, name) : value;
  }
  return params;
}

/**
 * The router of a route table: answers every request it is given, from a route or with an error.
 * Everything per route is prepared here, once; a request costs one regex match per path template
 * up to its own, and the objects its parsed input needs.
 */
export function createRouter<Deps>(options: RouterOptions<Deps>) {
  const { deps, authenticate, logger, maxBodyBytes } = options;
  const paths = compile(options.routes);

  async function run(req: IncomingMessage, res: ServerResponse, url: URL) {
    const problem = pathProblem(url.pathname) ?? queryProblem(url.search);
    if (problem) throw new SwitchboardError("invalid_request", problem);
    let path: CompiledPath<Deps> | undefined;
    let match: RegExpExecArray | null = null;
    for (let i = 0; i < paths.length && !match; i++) {
      match = paths[i]!.pattern.exec(url.pathname);
      if (match) path = paths[i];
    }
    if (!path || !match) throw new SwitchboardError("not_found", `No route for ${url.pathname}.`);
    const route = path.byMethod.get(req.method ?? "");
    if (!route) {
      res.setHeader("Allow", path.allow);
      throw new SwitchboardError("method_not_allowed", `${req.method} is not allowed here; use ${path.methods}.`);
    }
    const principal = route.access === "public" ? undefined : authorize(route.access, await authenticate(req));
    const query = route.query ? parseOrThrow(route.query, route.readQuery ? route.readQuery(url.searchParams) : Object.fromEntries(url.searchParams)) : undefined;
    const input: AnyInput<Deps> = { req, deps, principal, params: readParams(route, path.names, match), query, body: undefined };
    if (route.precheck) {
      const pending = route.precheck(input);
      if (pending) await pending;
    }
    if (route.body) {
      const raw = route.readBody ? await route.readBody(input) : await readJson(req, route.bodyLimit ?? maxBodyBytes);
      input.body = parseOrThrow(route.body, raw);
    }
    send(req, res, maxBodyBytes, await route.handler(input));
  }

  return async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    try {
      await run(req, res, url);
    } catch (err) {
      const error = toSwitchboardError(err);
      const status = httpStatusOf(error);
      if (status >= 500) {
        const level = error.code === "internal" ? "error" : "warn";
        logger[level]({ err: error.cause ?? err, code: error.code, status, method: req.method, path: url.pathname }, "request answered with a server error");
      }
      if (error.retryAfterSeconds) res.setHeader("Retry-After", String(error.retryAfterSeconds));
      if (!res.headersSent) send(req, res, maxBodyBytes, json(status, errorBody(error)));
      else res.end();
    }
  };
}
