import { rawRequest } from "./http/test-request";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { SwitchboardError } from "../channels/errors";
import type { Hub } from "../channels/hub";
import type { Principal } from "../channels/subscriber";
import type { TokenVerifier } from "../auth/tokens";
import type { Logger } from "../logger";
import type { DashboardViews } from "../views/dashboard-views";
import { apiRoutes, createHttpApi, type HealthReport } from "./http-api";
import { isAccess } from "./http/access";

const principals: Record<string, Principal> = {
  viewer: { role: "viewer", tokenId: "v" },
  publisher: { role: "publisher", tokenId: "p" },
};

/** The API over fakes, on a real HTTP server: what it calls, in order, and what it logs. */
async function setup(overrides: { hub?: Partial<Hub>; views?: Partial<DashboardViews>; health?: () => Promise<HealthReport> } = {}) {
  const calls: string[] = [];
  const logs: { level: string; obj: Record<string, unknown> }[] = [];
  const logger = {
    error: (obj: Record<string, unknown>) => logs.push({ level: "error", obj }),
    warn: (obj: Record<string, unknown>) => logs.push({ level: "warn", obj }),
  } as unknown as Logger;
  const hub = {
    assertMayPublish: (principal: Principal, channel: string) => {
      calls.push(`assertMayPublish ${principal.role} ${channel}`);
      if (channel !== "tasks") throw new SwitchboardError("unknown_channel", "no");
      if (principal.role === "viewer") throw new SwitchboardError("forbidden", "viewers cannot publish");
    },
    publish: async (_p: Principal, _c: string, inputs: readonly unknown[]) => {
      calls.push(`publish ${inputs.length}`);
      return [];
    },
    channels: () => [],
    ...overrides.hub,
  } as unknown as Hub;
  const verifier = {
    verify: async (token: string | undefined) => {
      calls.push("verify");
      return (token && principals[token]) ?? null;
    },
  } as unknown as TokenVerifier;
  const handle = createHttpApi({
    hub,
    views: (overrides.views ?? {}) as DashboardViews,
    verifier,
    logger,
    maxBodyBytes: 1024 * 1024,
    health: overrides.health ?? (async () => ({ status: "ok", db: "up", redis: "disabled" })),
    metrics: async () => ({ contentType: "text/plain", body: "" }),
  });
  return { calls, logs, request: await serve(handle) };
}

/** `handle` on a real HTTP server; returns a client for it. */
async function serve(handle: ReturnType<typeof createHttpApi>) {
  const server = http.createServer((req, res) => void handle(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  servers.push(server);
  const port = (server.address() as AddressInfo).port;
  return (method: string, path: string, options?: Parameters<typeof rawRequest>[3]) => rawRequest(port, method, path, options);
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe("HTTP API: publish refuses before it reads", () => {
  it("checks the token and the channel before the body, which a refused viewer never finishes sending", async () => {
    const { calls, request } = await setup();
    const res = await request("POST", "/api/v1/channels/tasks/events", { token: "viewer", body: "[{not json", declared: 500_000 });
    expect(res.status).toBe(403);
    expect(res.body.error?.code).toBe("forbidden");
    expect(calls).toEqual(["verify", "assertMayPublish viewer tasks"]);
  });

  it("refuses an unknown channel, and a declared size over MAX_BODY_BYTES, unread", async () => {
    const { calls, request } = await setup();
    expect((await request("POST", "/api/v1/channels/nope/events", { token: "publisher", body: "x", declared: 10 })).status).toBe(404);
    const big = await request("POST", "/api/v1/channels/tasks/events", { token: "publisher", body: "x", declared: 2 * 1024 * 1024 });
    expect(big.status).toBe(413);
    expect(big.headers.connection).toBe("close");
    expect(big.body.error?.message).toContain("MAX_BODY_BYTES");
    expect(calls.filter((c) => c.startsWith("publish"))).toEqual([]);
  });

  it("counts events before validating any: 1,001 events, the fifth invalid, are 413", async () => {
    const { calls, request } = await setup();
    const events = Array.from({ length: 1001 }, (_, i) => (i === 4 ? { type: 42 } : { type: "task.created" }));
    const res = await request("POST", "/api/v1/channels/tasks/events", { token: "publisher", body: JSON.stringify(events) });
    expect(res).toMatchObject({ status: 413, body: { error: { code: "payload_too_large" } } });
    expect(calls).not.toContain("publish 1001");
    const one = await request("POST", "/api/v1/channels/tasks/events", { token: "publisher", body: JSON.stringify({ type: "Bad" }) });
    expect(one.status).toBe(400);
    expect(one.body.error?.message).toMatch(/^type: /); // a single event's errors are not prefixed with an index
    expect((await request("POST", "/api/v1/channels/tasks/events", { token: "publisher", body: JSON.stringify({ type: "task.created" }) })).status).toBe(201);
    expect(calls).toContain("publish 1");
  });
});

describe("HTTP API: every 5xx is logged with its cause", () => {
  it("logs an internal error with the error itself", async () => {
    const boom = new Error("boom");
    const { logs, request } = await setup({
      hub: {
        channels: () => {
          throw boom;
        },
      },
    });
    const res = await request("GET", "/api/v1/channels", { token: "viewer" });
    expect(res).toMatchObject({ status: 500, body: { error: { code: "internal" } } });
    expect(logs).toEqual([{ level: "error", obj: expect.objectContaining({ err: boom, status: 500, code: "internal" }) }]);
  });

  it("logs an unavailable answer with its cause, and sends Retry-After", async () => {
    const cause = new Error("connection refused");
    const { logs, request } = await setup({
      views: {
        activity: async () => {
          throw new SwitchboardError("unavailable", "database down", { retryAfterSeconds: 2, cause });
        },
      },
    });
    const res = await request("GET", "/api/v1/views/activity", { token: "viewer" });
    expect(res).toMatchObject({ status: 503, headers: { "retry-after": "2" }, body: { error: { code: "unavailable" } } });
    expect(logs).toEqual([{ level: "warn", obj: expect.objectContaining({ err: cause, status: 503 }) }]);
  });

  it("logs a degraded health answer", async () => {
    const { logs, request } = await setup({ health: async () => ({ status: "degraded", db: "down", redis: "disabled" }) });
    expect((await request("GET", "/api/v1/health")).status).toBe(503);
    expect(logs).toEqual([{ level: "warn", obj: expect.objectContaining({ err: expect.any(Error) }) }]);
  });

  it("logs nothing for 4xx, malformed escapes included", async () => {
    const { logs, request } = await setup();
    for (const path of ["/api/v1/channels/%ZZ/events", "/api/v1/%", "/api/v1/channels?x=%E0%A4%A", "/api/v1/views/tasks?project=%00"]) {
      const res = await request("GET", path, { token: "viewer" });
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
    }
    expect(logs).toEqual([]);
  });
});

describe("HTTP API: the route table", () => {
  /** Every route's path with its params filled in. */
  const samplePath = (path: string) => path.replace(/:(\w+)/g, (_, name: string) => (name === "channel" ? "tasks" : name));

  /** The API over deps that record every call made to them and answer none. */
  async function recordingApi() {
    const calls: string[] = [];
    const recorder = (of: string) =>
      new Proxy(
        {},
        {
          get: (_target, name) => (...args: unknown[]) => {
            calls.push(`${of}.${String(name)}`);
            if (of === "verifier") return Promise.resolve(args[0] && principals[String(args[0])] ? principals[String(args[0])] : null);
            throw new Error(`${of}.${String(name)} was called`);
          },
        },
      );
    const handle = createHttpApi({
      hub: recorder("hub") as Hub,
      views: recorder("views") as DashboardViews,
      verifier: recorder("verifier") as TokenVerifier,
      logger: recorder("logger") as Logger,
      maxBodyBytes: 1024 * 1024,
      health: async () => (calls.push("health"), { status: "ok", db: "up", redis: "disabled" }),
      metrics: async () => (calls.push("metrics"), { contentType: "text/plain", body: "" }),
    });
    return { calls, request: await serve(handle) };
  }

  it("gives every route an access rule, and only these are public", () => {
    for (const route of apiRoutes) expect(isAccess(route.access), `${route.method} ${route.path}`).toBe(true);
    expect(apiRoutes.filter((r) => r.access === "public").map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /api/v1/health",
      "POST /api/v1/session",
      "DELETE /api/v1/session",
      "GET /metrics",
    ]);
  });

  it.each(apiRoutes.filter((r) => r.access !== "public").map((r) => [r.method, r.path] as const))(
    "answers %s %s without a token, or with an invalid one, 401 before reading anything else",
    async (method, path) => {
      const { calls, request } = await recordingApi();
      // A query that would not validate and a body that never completes: neither is looked at.
      const target = `${samplePath(path)}?limit=x&ts=x&minutes=x`;
      for (const token of [undefined, "not-a-token"]) {
        const res = await request(method, target, { token, body: "[{not json", declared: 500 });
        expect(res).toMatchObject({ status: 401, body: { error: { code: "unauthorized" } } });
      }
      expect(calls).toEqual(["verifier.verify", "verifier.verify"]);
    },
  );

  it("answers the public routes that need nothing without looking at a token", async () => {
    const { calls, request } = await recordingApi();
    expect((await request("GET", "/api/v1/health")).status).toBe(200);
    expect((await request("GET", "/metrics")).status).toBe(200);
    const signOut = await request("DELETE", "/api/v1/session");
    expect(signOut.status).toBe(204);
    expect(signOut.headers["set-cookie"]?.[0]).toMatch(/^sb_session=; .*Max-Age=0/);
    expect(calls).toEqual(["health", "metrics"]);
  });
});

describe("HTTP API: inputs are checked in the order they always were", () => {
  it("checks a history page's bounds before its filters, and a conversation's a before its b", async () => {
    const { request } = await setup();
    const bounds = await request("GET", "/api/v1/channels/tasks/events?limit=0&agent=a%20b", { token: "viewer" });
    expect(bounds).toMatchObject({ status: 400, body: { error: { code: "invalid_request", message: expect.stringMatching(/^limit: /) } } });
    expect(bounds.body.error?.message).not.toContain("agent");
    const filter = await request("GET", "/api/v1/channels/tasks/events?agent=ok&agent=a%20b,c", { token: "viewer" });
    expect(filter).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/^agent\.1: /) } } });
    const sides = await request("GET", `/api/v1/views/conversations/${"a".repeat(1001)}/${"b".repeat(1001)}`, { token: "viewer" });
    expect(sides).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/^a: /) } } });
    expect(sides.body.error?.message).not.toContain("b:");
  });

  it("passes a history page's parsed query and filters to the hub and answers its JSON text as it is", async () => {
    const seen: unknown[] = [];
    const { request } = await setup({
      hub: {
        history: async (channel: string, query: unknown) => {
          seen.push(channel, query);
          return { eventsJson: '[{"seq":3}]', head: 9, hasMore: true, lastSeq: 3 } as never;
        },
      },
    });
    const res = await request("GET", "/api/v1/channels/tasks/events?after=2&limit=1&type=task.*,task.created&agent=x", { token: "viewer" });
    expect(res).toMatchObject({ status: 200, body: { events: [{ seq: 3 }], head: 9, hasMore: true, nextAfter: 3 } });
    expect(seen).toEqual([
      "tasks",
      { after: 2, before: undefined, limit: 1, filter: { agents: ["x"], projects: undefined, types: ["task.created"], typePrefixes: ["task."] } },
    ]);
  });
});

describe("HTTP API: session", () => {
  it("signs in with a token from the body, within 4096 bytes, and says whose the session is", async () => {
    const { calls, request } = await setup();
    const signIn = await request("POST", "/api/v1/session", { body: JSON.stringify({ token: "viewer" }) });
    expect(signIn).toMatchObject({ status: 200, body: { role: "viewer" } });
    expect(signIn.headers["set-cookie"]?.[0]).toMatch(/^sb_session=viewer; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    expect(signIn.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(await request("POST", "/api/v1/session", { body: JSON.stringify({ token: "nope" }) })).toMatchObject({
      status: 401,
      body: { error: { code: "unauthorized", message: "That token is not valid." } },
    });
    expect((await request("POST", "/api/v1/session", { body: JSON.stringify({ token: "" }) })).status).toBe(400);
    expect(await request("POST", "/api/v1/session", { body: "{", declared: 4097 })).toMatchObject({ status: 413, body: { error: { code: "payload_too_large" } } });
    expect(calls).toEqual(["verify", "verify"]);
    expect((await request("GET", "/api/v1/session", { token: "publisher" })).body).toEqual({ role: "publisher", channels: ["tasks", "agents", "budget", "messages", "system"] });
    expect((await request("GET", "/api/v1/session")).status).toBe(401);
  });
});
