import http from "node:http";
import net from "node:net";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SOCKET_PATH } from "../../lib/protocol";
import { machinePostgresAvailable } from "./support/services";
import { api, createToken, startServerProcess, waitFor, type ServerProcess } from "./support/server-process";

const postgres = await machinePostgresAvailable();

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One HTTP/1.1 connection driven by hand: the test decides when each byte of a request body goes
 * out, sees answers as they arrive (also mid-upload), and can send a second request on the same
 * connection. Parses Content-Length and chunked answers.
 */
class RawConnection {
  readonly socket: net.Socket;
  readonly responses: RawResponse[] = [];
  error: NodeJS.ErrnoException | null = null;
  ended = false;
  closed = false;
  private buffer = Buffer.alloc(0);

  constructor(url: string) {
    const { hostname, port } = new URL(url);
    this.socket = net.connect({ host: hostname, port: Number(port) });
    this.socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    this.socket.on("error", (err) => (this.error = err));
    this.socket.on("end", () => (this.ended = true));
    this.socket.on("close", () => (this.closed = true));
  }

  /** Writes and waits until the kernel took it (backpressure), failing on a connection error. */
  async write(data: string | Buffer) {
    if (this.error) throw this.error;
    await new Promise<void>((resolve, reject) => this.socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  private parse() {
    for (;;) {
      const headEnd = this.buffer.indexOf("\r\n\r\n");
      if (headEnd < 0) return;
      const [statusLine, ...lines] = this.buffer.subarray(0, headEnd).toString("latin1").split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      let rest = this.buffer.subarray(headEnd + 4);
      let body: Buffer;
      if (headers["transfer-encoding"] === "chunked") {
        const parts: Buffer[] = [];
        let complete = false;
        for (;;) {
          const lineEnd = rest.indexOf("\r\n");
          if (lineEnd < 0) break;
          const size = parseInt(rest.subarray(0, lineEnd).toString("latin1"), 16);
          if (rest.length < lineEnd + 2 + size + 2) break;
          parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
          rest = rest.subarray(lineEnd + 2 + size + 2);
          if (size === 0) {
            complete = true;
            break;
          }
        }
        if (!complete) return;
        body = Buffer.concat(parts);
      } else {
        const length = Number(headers["content-length"] ?? 0);
        if (rest.length < length) return;
        body = rest.subarray(0, length);
        rest = rest.subarray(length);
      }
      this.responses.push({ status: Number(statusLine!.split(" ")[1]), headers, body: body.toString("utf8") });
      this.buffer = rest;
    }
  }

  close() {
    this.socket.destroy();
  }
}

/** A request sent as it is, path bytes and all (fetch would normalize some of them). */
function rawRequest(server: ServerProcess, method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const { hostname, port } = new URL(server.url);
  return new Promise<RawResponse>((resolve, reject) => {
    const req = http.request({ host: hostname, port: Number(port), method, path, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers as Record<string, string>, body: text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

const errorCode = (res: RawResponse) => (JSON.parse(res.body) as { error: { code: string } }).error.code;

describe.skipIf(!postgres)("HTTP edges: cheap refusals, bounded bodies, byte limits, malformed requests", () => {
  let server: ServerProcess;
  let viewer: string;
  let publisher: string;
  let heavyPublisher: string;
  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    server = await startServerProcess({
      database: "postgres",
      // MAX_BODY_BYTES stays at its default of 8 MiB; the byte bucket is small, and per token.
      env: { PUBLISH_BYTES_RATE: "65536", PUBLISH_BYTES_BURST: "262144" },
    });
    [viewer, publisher, heavyPublisher] = await Promise.all([
      createToken(server, "viewer"),
      createToken(server, "publisher"),
      createToken(server, "publisher"),
    ]);
  });
  afterAll(async () => {
    const output = server?.output() ?? "";
    expect(await server?.stop()).toBe(0);
    // Nothing any test sent was answered with a 5xx (each would be logged with its cause).
    expect(output).not.toContain("request answered with a server error");
  });

  it("answers a viewer's 8 MB upload (not even JSON) with 403 mid-upload, drains it, keeps the connection, and others publish meanwhile", async () => {
    const total = 8_000_000;
    const chunk = Buffer.alloc(64 * 1024, "x");
    const conn = new RawConnection(server.url);
    try {
      await conn.write(
        `POST /api/v1/channels/tasks/events HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${viewer}\r\nContent-Type: application/json\r\nContent-Length: ${total}\r\n\r\n`,
      );
      await conn.write(chunk);
      let sent = chunk.length;
      // The answer comes while almost all of the body is still to be sent: the server read none of it.
      await waitFor(() => conn.responses.length === 1, "the 403 before the body is sent");
      expect(sent).toBeLessThan(total);
      const [refusal] = conn.responses;
      expect(refusal!.status).toBe(403);
      expect(JSON.parse(refusal!.body)).toMatchObject({ error: { code: "forbidden" } });
      expect(refusal!.headers.connection).not.toBe("close");

      // Another client publishes while the upload goes on; it completes.
      const publishing = api(server, "POST", "/api/v1/channels/tasks/events", {
        token: publisher,
        body: { type: "task.created", payload: { taskId: "during-upload" } },
      });
      while (sent < total) {
        const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
        await conn.write(piece); // never EPIPE / ECONNRESET: the server drains what it refused
        sent += piece.length;
        if (sent % (1024 * 1024) < chunk.length) await new Promise((r) => setImmediate(r));
      }
      expect((await publishing).status).toBe(201);

      // The same connection serves the next request: the refused body was drained, not reset.
      await conn.write(`GET /api/v1/channels HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${viewer}\r\n\r\n`);
      await waitFor(() => conn.responses.length === 2 || conn.error || conn.closed, "the second answer on the connection");
      expect(conn.error).toBeNull();
      expect(conn.responses[1]!.status).toBe(200);
    } finally {
      conn.close();
    }
  });

  it("answers a declared body over MAX_BODY_BYTES before reading it, with Connection: close, and ends the connection gracefully", async () => {
    for (const [token, status, code] of [
      [viewer, 403, "forbidden"],
      [publisher, 413, "payload_too_large"],
    ] as const) {
      const conn = new RawConnection(server.url);
      try {
        await conn.write(
          `POST /api/v1/channels/tasks/events HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${9 * 1024 * 1024}\r\n\r\n`,
        );
        await conn.write(Buffer.alloc(256 * 1024, "["));
        await waitFor(() => conn.responses.length === 1 || conn.error, "the refusal");
        expect(conn.error).toBeNull(); // the answer arrived before any reset
        expect(conn.responses[0]).toMatchObject({ status, headers: { connection: "close" } });
        expect(errorCode(conn.responses[0]!)).toBe(code);
        // Half-closed after the answer: the client sees the end of the connection.
        await waitFor(() => conn.ended || conn.closed, "the server's FIN");
      } finally {
        conn.close();
      }
    }
    // A body of unknown length (chunked) that runs past the limit is cut off with 413, the same way.
    const conn = new RawConnection(server.url);
    try {
      await conn.write(`POST /api/v1/channels/tasks/events HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${publisher}\r\nTransfer-Encoding: chunked\r\n\r\n`);
      const piece = Buffer.alloc(1024 * 1024, " ");
      for (let i = 0; i < 9 && conn.responses.length === 0 && !conn.error; i++) {
        await conn.write(`${piece.length.toString(16)}\r\n`);
        await conn.write(piece);
        await conn.write("\r\n");
      }
      await waitFor(() => conn.responses.length === 1 || conn.error, "the 413 for a chunked body");
      expect(conn.error).toBeNull();
      expect(conn.responses[0]).toMatchObject({ status: 413, headers: { connection: "close" } });
    } finally {
      conn.close();
    }
    expect((await api(server, "GET", "/api/v1/health")).status).toBe(200);
  });

  it("counts events before validating them: 1,001 events with an invalid fifth get 413, 1,000 get the 400", async () => {
    const events = (n: number) =>
      Array.from({ length: n }, (_, i) => (i === 4 ? { type: "NOT A TYPE" } : { type: "task.created", payload: { taskId: `t${i}` } }));
    const tooMany = await api(server, "POST", "/api/v1/channels/tasks/events", { token: publisher, body: events(1001) });
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.error).toMatchObject({ code: "payload_too_large", message: expect.stringContaining("1001") });
    const invalid = await api(server, "POST", "/api/v1/channels/tasks/events", { token: publisher, body: events(1000) });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error?.message).toContain("4.type");
    // A viewer is refused before the body counts at all; so is a publisher on an admin-only channel.
    expect((await api(server, "POST", "/api/v1/channels/tasks/events", { token: viewer, body: events(1001) })).status).toBe(403);
    expect((await api(server, "POST", "/api/v1/channels/system/events", { token: publisher, rawBody: "{not json" })).status).toBe(403);
    expect((await api(server, "POST", "/api/v1/channels/nope/events", { token: publisher, rawBody: "{not json" })).status).toBe(404);
    expect((await api(server, "POST", "/api/v1/channels/tasks/events", { rawBody: "{not json" })).status).toBe(401);
  });

  it("limits payload bytes per token: 429 with Retry-After naming the byte limit; other tokens are unaffected", async () => {
    const big = (n: number) => Array.from({ length: n }, (_, i) => ({ type: "task.updated", payload: { taskId: `b${i}`, blob: "y".repeat(60_000) } }));
    const first = await api(server, "POST", "/api/v1/channels/tasks/events", { token: heavyPublisher, body: big(4) });
    expect(first.status).toBe(201);
    const second = await api(server, "POST", "/api/v1/channels/tasks/events", { token: heavyPublisher, body: big(1) });
    expect(second.status).toBe(429);
    expect(second.body.error).toMatchObject({ code: "rate_limited", message: expect.stringMatching(/^Byte rate exceeded/) });
    expect(Number(second.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await api(server, "POST", "/api/v1/channels/tasks/events", { token: publisher, body: big(1) })).status).toBe(201);
  });

  const ts = encodeURIComponent(new Date().toISOString());
  const malformed: [method: string, path: string][] = [
    // paths
    ["POST", "/api/v1/channels/%ZZ/events"],
    ["GET", "/api/v1/channels/%ZZ/events"],
    ["GET", "/api/v1/channels/%/events"],
    ["GET", "/api/v1/channels/tasks%/events"],
    ["GET", "/api/v1/channels/%E0%A4%A/events"],
    ["GET", "/api/v1/channels/%C0%80/events"],
    ["GET", "/api/v1/channels/%ED%A0%80/events"],
    ["GET", `/api/v1/channels/%ZZ/seq-before?ts=${ts}`],
    ["GET", "/api/v1/views/conversations/%E0%A4%A/b"],
    ["GET", "/api/v1/views/conversations/a/%ZZ"],
    ["GET", "/api/v1/views/conversations/%/%"],
    ["GET", "/api/v1/%"],
    ["GET", "/api/v1/%ZZ"],
    ["GET", "/api/v1/views/%"],
    ["DELETE", "/api/v1/session%"],
    ["GET", "/%"],
    ["GET", "/agents/%ZZ"],
    ["GET", "/%E0%A4%A"],
    ["GET", "/metrics%"],
    // queries
    ["GET", "/api/v1/channels/tasks/events?type=%ZZ"],
    ["GET", "/api/v1/channels/tasks/events?after=%"],
    ["GET", "/api/v1/channels/tasks/events?agent=%E0%A4%A"],
    ["GET", "/api/v1/channels/tasks/events?limit=%ZZ"],
    ["GET", "/api/v1/channels/tasks/events?%ZZ=1"],
    ["GET", "/api/v1/channels/tasks/events?project=%ED%A0%80"],
    ["GET", "/api/v1/views/tasks?project=%"],
    ["GET", "/api/v1/views/activity?minutes=%ZZ"],
    ["GET", "/api/v1/views/agents?offlineAfterSeconds=%"],
    ["GET", "/api/v1/views/budget?hours=%C0%80"],
    ["GET", "/api/v1/views/conversations?limit=%ZZ"],
    ["GET", "/api/v1/channels?x=%ZZ"],
    ["GET", "/api/v1/session?x=%"],
    ["GET", "/api/v1/health?%"],
    ["GET", "/tasks?x=%ZZ"],
    ["POST", "/agents/%ZZ"],
  ];
  it.each(malformed)("answers %s %s with a 4xx, never a 5xx", async (method, path) => {
    const res = await rawRequest(server, method, path, auth(server.adminToken));
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(errorCode(res)).toMatch(/^(invalid_request|not_found|unknown_channel)$/);
    if (path.includes("%ZZ") || path.includes("%E0%A4%A")) expect(res.status).toBe(400);
  });

  it("ignores a session cookie that does not decode, for the API and the socket handshake", async () => {
    const channels = "/api/v1/channels";
    expect((await rawRequest(server, "GET", channels, { ...auth(viewer), Cookie: "sb_session=%ZZ" })).status).toBe(200);
    for (const cookie of ["sb_session=%ZZ", "sb_session=%", "sb_session=%E0%A4%A", "sb_session=%00", "a=%ZZ; sb_session=%ZZ"]) {
      const res = await rawRequest(server, "GET", channels, { Cookie: cookie });
      expect(res.status).toBe(401);
      expect(errorCode(res)).toBe("unauthorized");
    }
    expect((await rawRequest(server, "GET", "/api/v1/session", { Cookie: `sb_session=%ZZ; sb_session=${encodeURIComponent(viewer)}` })).status).toBe(200);

    const handshake = (cookie: string) =>
      new Promise<string>((resolve) => {
        const socket = io(server.url, { path: SOCKET_PATH, transports: ["websocket"], reconnection: false, forceNew: true, extraHeaders: { Cookie: cookie } });
        socket.once("connect", () => {
          socket.disconnect();
          resolve("connected");
        });
        socket.once("connect_error", (err) => {
          socket.disconnect();
          resolve(err.message);
        });
      });
    expect(await handshake("sb_session=%ZZ")).toBe("unauthorized");
    expect(await handshake(`sb_session=%ZZ; sb_session=${encodeURIComponent(viewer)}`)).toBe("connected");
  });

  const nul: string[] = [
    "/api/v1/views/tasks?project=a%00b",
    "/api/v1/views/tasks?agent=%00",
    "/api/v1/views/tasks?limit=%00",
    "/api/v1/views/conversations/a%00/b",
    "/api/v1/views/conversations/a/b%00",
    "/api/v1/views/conversations?limit=1%00",
    "/api/v1/views/activity?minutes=%00",
    "/api/v1/views/agents?offlineAfterSeconds=%00",
    "/api/v1/views/budget?hours=%00",
    "/api/v1/views/budget?bucketMinutes=15%00",
    "/api/v1/channels/tasks/events?agent=%00",
    "/api/v1/channels/tasks/events?project=x%00",
    "/api/v1/channels/tasks/events?type=task.%00",
    `/api/v1/channels/tasks/seq-before?ts=${ts}%00`,
    "/api/v1/channels/tasks%00/events",
    "/api/v1/channels?x%00=1",
    "/agents?x=%00",
  ];
  it.each(nul)("answers a NUL in %s with 400", async (path) => {
    const res = await rawRequest(server, "GET", path, auth(server.adminToken));
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe("invalid_request");
  });

  it("validates view labels like event labels, and answers a wrong method 405 with Allow", async () => {
    for (const path of ["/api/v1/views/tasks?project=a%20b", "/api/v1/views/tasks?agent=", `/api/v1/views/tasks?project=${"p".repeat(129)}`, `/api/v1/views/conversations/${"a".repeat(1001)}/c`]) {
      expect((await rawRequest(server, "GET", path, auth(viewer))).status).toBe(400);
    }
    expect((await rawRequest(server, "GET", "/api/v1/views/tasks?project=demo.p-1&agent=a:b@c/d", auth(viewer))).status).toBe(200);
    expect((await rawRequest(server, "GET", "/api/v1/views/conversations/alice/bob", auth(viewer))).status).toBe(200);
    // A conversation's sides are free-form message fields, not labels.
    expect((await rawRequest(server, "GET", "/api/v1/views/conversations/Alice%20Smith/b%C3%B6b", auth(viewer))).status).toBe(200);
    const wrong = await rawRequest(server, "PUT", "/api/v1/channels", auth(viewer));
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe("GET");
    expect(errorCode(wrong)).toBe("method_not_allowed");
  });

  it("is healthy after all of it", async () => {
    expect((await api(server, "GET", "/api/v1/health")).body).toMatchObject({ status: "ok" });
    const res = await api(server, "POST", "/api/v1/channels/tasks/events", { token: publisher, body: { type: "task.created", payload: { taskId: "after" } } });
    expect(res.status).toBe(201);
  });
});
