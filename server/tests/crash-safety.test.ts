import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventSchema, type Ack, type SwitchboardEvent } from "../../lib/protocol";
import { machinePostgresAvailable } from "./support/services";
import { connect, connected, startServerProcess, waitFor, type ClientSocket, type DatabaseKind, type ServerProcess } from "./support/server-process";

/**
 * The crash-safety property: whatever the server acknowledged survives a SIGKILL with exactly the seq
 * it was acknowledged with, and every channel stays gapless from 1 to its head with no duplicate id.
 * Four HTTP publishers (batches of varying size) and one socket publisher write to two channels while
 * the server is killed mid-stream and restarted, more than once.
 */
const postgres = await machinePostgresAvailable();
const databases: DatabaseKind[] = ["embedded", ...(postgres ? (["postgres"] as const) : [])];

const CHANNELS = ["tasks", "agents"] as const;
const BATCH_SIZES = [1, 3, 7, 20, 50, 2, 13];
/** Acknowledged events after which the server is killed, one kill each; then publishing stops at TOTAL. */
const KILL_AT = [1500, 3000, 4500];
const TOTAL = 6000;

interface Acked {
  id: string;
  channel: string;
  seq: number;
}

/** What the publishers saw: every acknowledged event, and how many attempts were not acknowledged. */
class Ledger {
  readonly acked: Acked[] = [];
  failures = 0;
  /** Acknowledged event ids whose answers contradicted each other (same id twice, or an odd shape). */
  readonly anomalies: string[] = [];

  record(events: SwitchboardEvent[], expected: { channel: string; count: number }, source: string) {
    if (events.length !== expected.count) this.anomalies.push(`${source}: asked for ${expected.count} events, acknowledged ${events.length}`);
    for (const e of events) {
      const parsed = eventSchema.safeParse(e);
      if (!parsed.success || e.channel !== expected.channel) this.anomalies.push(`${source}: odd event in an answer: ${JSON.stringify(e)}`);
      this.acked.push({ id: e.id, channel: e.channel, seq: e.seq });
    }
    // One publish is one commit: its events take consecutive seqs.
    for (let i = 1; i < events.length; i++) {
      if (events[i]!.seq !== events[i - 1]!.seq + 1) this.anomalies.push(`${source}: seqs of one batch not consecutive: ${events.map((e) => e.seq).join(",")}`);
    }
  }
}

/** Pauses between attempts while the server is down; short, and only after a failure. */
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function httpPublisher(server: ServerProcess, p: number, ledger: Ledger, running: () => boolean) {
  return (async () => {
    for (let i = 0; running(); i++) {
      const channel = CHANNELS[(i + p) % CHANNELS.length]!;
      const count = BATCH_SIZES[(i * 3 + p) % BATCH_SIZES.length]!;
      const body = Array.from({ length: count }, (_, k) => ({ type: "task.created", agent: `http-${p}`, payload: { p, i, k } }));
      try {
        const res = await fetch(`${server.url}/api/v1/channels/${channel}/events`, {
          method: "POST",
          headers: { Authorization: `Bearer ${server.adminToken}`, "Content-Type": "application/json" },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        if (res.status !== 201) {
          ledger.failures++;
          await pause(20);
          continue;
        }
        ledger.record((JSON.parse(text) as { events: SwitchboardEvent[] }).events, { channel, count }, `http publisher ${p}`);
      } catch {
        // Connection refused or reset by the crash: not acknowledged.
        ledger.failures++;
        await pause(20);
      }
    }
  })();
}

function socketPublisher(server: ServerProcess, ledger: Ledger, running: () => boolean, sockets: ClientSocket[]) {
  return (async () => {
    let socket: ClientSocket | null = null;
    for (let i = 0; running(); i++) {
      try {
        if (!socket?.connected) {
          socket?.disconnect();
          socket = connect(server, server.adminToken);
          sockets.push(socket);
          await Promise.race([connected(socket), pause(5000).then(() => Promise.reject(new Error("connect timed out")))]);
        }
        const channel = CHANNELS[i % CHANNELS.length]!;
        const ack = (await socket
          .timeout(10_000)
          .emitWithAck("publish", { channel, type: "agent.heartbeat", agent: "socket", payload: { i } })) as Ack<{ event: SwitchboardEvent }>;
        if (ack.ok) ledger.record([ack.event], { channel, count: 1 }, "socket publisher");
        else {
          ledger.failures++;
          await pause(20);
        }
      } catch {
        ledger.failures++;
        await pause(20);
      }
    }
    socket?.disconnect();
  })();
}

/** Reads a channel's whole history over HTTP, page by page with `after`/`nextAfter`. */
async function readAll(server: ServerProcess, channel: string) {
  const events: SwitchboardEvent[] = [];
  let after = 0;
  for (let page = 0; page < 1000; page++) {
    const res = await fetch(`${server.url}/api/v1/channels/${channel}/events?after=${after}&limit=1000`, {
      headers: { Authorization: `Bearer ${server.adminToken}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { events: SwitchboardEvent[]; head: number; hasMore: boolean; nextAfter: number };
    events.push(...body.events);
    if (!body.hasMore) return { events, head: body.head };
    expect(body.nextAfter).toBeGreaterThan(after);
    after = body.nextAfter;
  }
  throw new Error(`history of ${channel} did not end after 1000 pages`);
}

/** The embedded PostgreSQL's postmaster, which outlives a SIGKILLed server (it is not in its process group's signal). */
function embeddedPostmasterPid(server: ServerProcess): number | null {
  const text = (() => {
    try {
      return fs.readFileSync(path.join(server.env.DATA_DIR!, "pg", "postmaster.pid"), "utf8");
    } catch {
      return null;
    }
  })();
  const pid = Number(text?.split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Running, and not a zombie waiting to be reaped by whichever process inherited it. */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = (() => {
    try {
      return fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      return "";
    }
  })();
  return !/^\d+ \(.*\) Z/.test(stat);
};

describe.each(databases)("crash safety: SIGKILL mid-stream loses nothing acknowledged (%s)", (database) => {
  let server: ServerProcess;
  const sockets: ClientSocket[] = [];
  let postmaster: number | null = null;

  beforeAll(async () => {
    server = await startServerProcess({ database });
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    if (database === "embedded") postmaster = embeddedPostmasterPid(server);
    await server?.stop();
    // A server killed with SIGKILL leaves its embedded postmaster running, and the restarted server
    // reuses it without owning it: stop that process of this test's own, by its pid.
    if (postmaster !== null && alive(postmaster)) {
      process.kill(postmaster, "SIGTERM");
      await waitFor(() => !alive(postmaster!), "the embedded postmaster to exit", 20_000);
    }
  });

  it(`keeps every acknowledged event at its seq through ${KILL_AT.length} crashes, gapless, without duplicates`, async () => {
    const ledger = new Ledger();
    let publishing = true;
    const running = () => publishing;
    const loops = [
      ...[0, 1, 2, 3].map((p) => httpPublisher(server, p, ledger, running)),
      socketPublisher(server, ledger, running, sockets),
    ];

    try {
      for (const [k, threshold] of KILL_AT.entries()) {
        await waitFor(() => ledger.acked.length >= threshold, `${threshold} acknowledged events before crash ${k + 1}`, 60_000);
        const before = ledger.acked.length;
        await server.kill();
        await server.restart();
        // The publishers come back by themselves after the restart.
        await waitFor(() => ledger.acked.length > before, `publishing to resume after crash ${k + 1}`, 30_000);
      }
      await waitFor(() => ledger.acked.length >= TOTAL, `${TOTAL} acknowledged events`, 60_000);
    } finally {
      publishing = false;
      await Promise.all(loops);
    }

    expect(ledger.anomalies).toEqual([]);
    // The crashes hit the publishers: attempts were cut off or refused while the server was down.
    expect(ledger.failures).toBeGreaterThan(0);

    const storedById = new Map<string, SwitchboardEvent>();
    for (const channel of CHANNELS) {
      const { events, head } = await readAll(server, channel);
      for (const e of events) {
        const parsed = eventSchema.safeParse(e);
        if (!parsed.success) throw new Error(`stored event is not a valid envelope: ${JSON.stringify(e)}: ${parsed.error.message}`);
        expect(e.channel).toBe(channel);
        if (storedById.has(e.id)) throw new Error(`duplicate id ${e.id} (seq ${storedById.get(e.id)!.seq} on ${storedById.get(e.id)!.channel} and ${e.seq} on ${channel})`);
        storedById.set(e.id, e);
      }
      // Gapless from 1 to the head, in order.
      const seqs = events.map((e) => e.seq);
      const holes = seqs.flatMap((s, i) => (s === i + 1 ? [] : [`position ${i} has seq ${s}`])).slice(0, 5);
      expect(holes, `${channel} seqs must be 1..${head}`).toEqual([]);
      expect(seqs.length).toBe(head);
    }

    const lost: string[] = [];
    const moved: string[] = [];
    for (const a of ledger.acked) {
      const stored = storedById.get(a.id);
      if (!stored) lost.push(`${a.channel}#${a.seq} ${a.id}`);
      else if (stored.seq !== a.seq || stored.channel !== a.channel) moved.push(`${a.id}: acknowledged ${a.channel}#${a.seq}, stored ${stored.channel}#${stored.seq}`);
    }
    expect(lost.slice(0, 10), `${lost.length} acknowledged events are missing`).toEqual([]);
    expect(moved.slice(0, 10), `${moved.length} acknowledged events moved`).toEqual([]);
    // No two acknowledgements named the same event or the same place.
    expect(new Set(ledger.acked.map((a) => a.id)).size).toBe(ledger.acked.length);
    expect(new Set(ledger.acked.map((a) => `${a.channel}#${a.seq}`)).size).toBe(ledger.acked.length);
  });
});
