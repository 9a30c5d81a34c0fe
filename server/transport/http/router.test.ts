import { rawRequest } from "./test-request";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { SwitchboardError } from "../../channels/errors";
import type { Principal } from "../../channels/subscriber";
import type { Logger } from "../../logger";
import { requestUrl } from "../request-checks";
import { readJson } from "./body";
import { json } from "./reply";
import { createRouter, routeFor, type Route } from "./router";

interface Deps {
  calls: string[];
}

const route = routeFor<Deps>();

const principals: Record<string, Principal> = {
  admin: { role: "admin", tokenId: "a" },
  viewer: { role: "viewer", tokenId: "v" },
};

/** A router over `routes` on a real HTTP server: what ran, in order, and what it logged. */
async function serve(routes: readonly Route<Deps>[]) {
  const deps: Deps = { calls: [] };
  const logs: { level: string; obj: Record<string, unknown> }[] = [];
  const logger = {
    error: (obj: Record<string, unknown>) => logs.push({ level: "error", obj }),
    warn: (obj: Record<string, unknown>) => logs.push({ level: "warn", obj }),
  } as unknown as Logger;
  const router = createRouter({
    routes,
    deps,
    logger,
    maxBodyBytes: 1024 * 1024,
    authenticate: async (req) => {
      deps.calls.push("authenticate");
      const token = req.headers.authorization?.slice("Bearer ".length);
      return (token ? principals[token] : undefined) ?? null;
    },
  });
  const server = http.createServer((req, res) => void router(req, res, requestUrl(req.url)));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  const request = (method: string, path: string, options?: Parameters<typeof rawRequest>[3]) => rawRequest(port, method, path, options);
  return { calls: deps.calls, logs, request };
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const table = [
  route({
    method: "GET",
    path: "/things/:id",
    access: "any-token",
    params: { id: z.string().max(3) },
    query: z.object({ n: z.coerce.number().int().default(1) }),
    handler: async ({ deps, principal, params, query }) => {
      expectTypeOf(principal).toEqualTypeOf<Principal>();
      expectTypeOf(params).toEqualTypeOf<{ id: string }>();
      expectTypeOf(query).toEqualTypeOf<{ n: number }>();
      deps.calls.push(`get ${params.id} ${query.n}`);
      return json(200, { id: params.id, n: query.n, role: principal.role });
    },
  }),
  route({
    method: "DELETE",
    path: "/things/:id",
    access: ["admin"],
    handler: async ({ deps, params }) => {
      expectTypeOf(params).toEqualTypeOf<{ id: string }>();
      deps.calls.push(`delete ${params.id}`);
      return json(200, {});
    },
  }),
  route({
    method: "POST",
    path: "/things/:id/parts/:part",
    access: "any-token",
    precheck: ({ deps, params }) => {
      deps.calls.push(`precheck ${params.id} ${params.part}`);
      if (params.part === "no") throw new SwitchboardError("forbidden", "not this part");
    },
    readBody: async ({ req, deps }) => {
      const raw = await readJson(req, 100);
      deps.calls.push("read");
      if (Array.isArray(raw) && raw.length > 2) throw new SwitchboardError("payload_too_large", "at most 2");
      return raw;
    },
    body: z.array(z.object({ x: z.number() })),
    handler: async ({ deps, body }) => {
      expectTypeOf(body).toEqualTypeOf<{ x: number }[]>();
      deps.calls.push(`post ${body.length}`);
      return json(201, { n: body.length });
    },
  }),
  route({
    method: "GET",
    path: "/open",
    access: "public",
    handler: async ({ principal, params, query, body }) => {
      expectTypeOf(principal).toEqualTypeOf<undefined>();
      expectTypeOf(params).toEqualTypeOf<Record<never, never>>();
      expectTypeOf(query).toEqualTypeOf<undefined>();
      expectTypeOf(body).toEqualTypeOf<undefined>();
      return json(200, { open: true });
    },
  }),
  route({
    method: "POST",
    path: "/open",
    access: "public",
    body: z.object({ a: z.string() }),
    bodyLimit: 10,
    handler: async ({ body }) => json(200, body),
  }),
  route({
    method: "GET",
    path: "/boom",
    access: "public",
    handler: async () => {
      throw new Error("boom");
    },
  }),
];

describe("router: matching", () => {
  it("answers an unknown path 404 and a known path's other method 405 with Allow, before authenticating", async () => {
    const { calls, request } = await serve(table);
    expect(await request("GET", "/nothing")).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
    expect(await request("GET", "/things/1/2")).toMatchObject({ status: 404 });
    const wrong = await request("PUT", "/things/1");
    expect(wrong).toMatchObject({ status: 405, headers: { allow: "GET, DELETE" }, body: { error: { code: "method_not_allowed", message: "PUT is not allowed here; use GET or DELETE." } } });
    expect((await request("DELETE", "/open")).headers.allow).toBe("GET, POST");
    expect(calls).toEqual([]);
  });

  it("decodes params strictly and applies their schemas, naming the param", async () => {
    const { request } = await serve(table);
    expect((await request("GET", "/things/a%20b", { token: "viewer" })).body).toMatchObject({ id: "a b", n: 1 });
    const long = await request("GET", "/things/abcd", { token: "viewer" });
    expect(long).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });
    expect(long.body.error?.message).toMatch(/^id: /);
    expect((await request("GET", "/things/%ZZ", { token: "viewer" })).status).toBe(400);
    expect((await request("GET", "/things/%00", { token: "viewer" })).status).toBe(400);
    expect((await request("GET", "/things/a?n=%ZZ", { token: "viewer" })).status).toBe(400);
  });
});

describe("router: access", () => {
  it("authenticates every route that is not public, before its query, params or body", async () => {
    const { calls, request } = await serve(table);
    for (const [method, path] of [
      ["GET", "/things/abcd?n=x"],
      ["DELETE", "/things/1"],
      ["POST", "/things/1/parts/no"],
    ]) {
      const res = await request(method!, path!, { body: "[", declared: 50 });
      expect(res, `${method} ${path}`).toMatchObject({ status: 401, body: { error: { code: "unauthorized" } } });
      expect((await request(method!, path!, { token: "nobody" })).status).toBe(401);
    }
    expect(calls.every((c) => c === "authenticate")).toBe(true);
  });

  it("refuses a role the route does not list with 403, and lets the listed one through", async () => {
    const { calls, request } = await serve(table);
    expect(await request("DELETE", "/things/1", { token: "viewer" })).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    expect((await request("DELETE", "/things/1", { token: "admin" })).status).toBe(200);
    expect(calls).toEqual(["authenticate", "authenticate", "delete 1"]);
  });

  it("never authenticates a public route", async () => {
    const { calls, request } = await serve(table);
    expect(await request("GET", "/open", { token: "viewer" })).toMatchObject({ status: 200, body: { open: true } });
    expect(calls).toEqual([]);
  });

  it("refuses at start-up a table with a route that has no access rule, a duplicate, or a stray param schema", () => {
    const base = { method: "GET", path: "/x/:id", handler: async () => json(200, {}) } as const;
    const build = (...routes: unknown[]) => () =>
      createRouter({ routes: routes as Route<Deps>[], deps: { calls: [] }, logger: {} as Logger, maxBodyBytes: 1, authenticate: async () => null });
    expect(build(base)).toThrow(/GET \/x\/:id has no access rule/);
    expect(build({ ...base, access: [] })).toThrow(/no access rule/);
    expect(build({ ...base, access: ["root"] })).toThrow(/no access rule/);
    expect(build({ ...base, access: "any-token" }, { ...base, access: "public" })).toThrow(/declared twice/);
    expect(build({ ...base, access: "public", params: { other: z.string() } })).toThrow(/:other/);
    expect(build({ ...base, access: "public", readBody: async () => null })).toThrow(/no body schema/);
    expect(build({ ...base, access: "public" })).not.toThrow();
    // The same mistakes do not compile: `access` is required and takes only the known rules.
    // @ts-expect-error access is missing
    route({ method: "GET", path: "/x", handler: async () => json(200, {}) });
    // @ts-expect-error not a rule
    route({ method: "GET", path: "/x", access: "anyone", handler: async () => json(200, {}) });
    // @ts-expect-error the params schema names a param the path does not have
    route({ method: "GET", path: "/x/:id", access: "public", params: { other: z.string() }, handler: async () => json(200, {}) });
  });
});

describe("router: body", () => {
  it("runs the precheck before the body is read, and the schema after the route's reader", async () => {
    const { calls, request } = await serve(table);
    const refused = await request("POST", "/things/1/parts/no", { token: "viewer", body: "[{not json", declared: 80 });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    expect(calls).toEqual(["authenticate", "precheck 1 no"]);
    calls.length = 0;
    // Three invalid elements: the reader's count refuses them before the schema sees one.
    expect((await request("POST", "/things/1/parts/p", { token: "viewer", body: '[{"x":"a"},{},{}]' })).status).toBe(413);
    expect(calls).toEqual(["authenticate", "precheck 1 p", "read"]);
    const invalid = await request("POST", "/things/1/parts/p", { token: "viewer", body: '[{"x":1},{"x":"a"}]' });
    expect(invalid).toMatchObject({ status: 400, body: { error: { code: "invalid_request", message: expect.stringMatching(/^1\.x: /) } } });
    expect((await request("POST", "/things/1/parts/p", { token: "viewer", body: '[{"x":1}]' })).body).toEqual({ n: 1 });
  });

  it("reads a body with the route's limit, refusing a larger declared one unread", async () => {
    const { request } = await serve(table);
    expect((await request("POST", "/open", { body: '{"a":"b"}' })).body).toEqual({ a: "b" });
    const big = await request("POST", "/open", { body: "{", declared: 11 });
    expect(big).toMatchObject({ status: 413, body: { error: { code: "payload_too_large" } } });
    expect((await request("POST", "/open", { body: "{}" })).status).toBe(400);
    expect((await request("POST", "/open", { body: "" })).status).toBe(400);
  });
});

describe("router: errors", () => {
  it("answers an unknown error 500 without its details, and logs it with the cause", async () => {
    const { logs, request } = await serve(table);
    expect(await request("GET", "/boom")).toMatchObject({ status: 500, body: { error: { code: "internal", message: "Internal error; it has been logged." } } });
    expect(logs).toEqual([{ level: "error", obj: expect.objectContaining({ err: expect.objectContaining({ message: "boom" }), status: 500, path: "/boom" }) }]);
  });
});
