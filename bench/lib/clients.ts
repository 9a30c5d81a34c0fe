import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { Histogram, type SparseHistogram } from "./histogram";
import { BENCH_DIR } from "./util";

export type WorkerRequest =
  | { id: number; op: "connect"; urls: string[]; count: number; token: string; channel: string }
  | { id: number; op: "close"; keep: number }
  | { id: number; op: "window"; from: number; to: number }
  | { id: number; op: "stats" }
  | { id: number; op: "exit" };

export interface WorkerStats {
  sockets: number;
  connected: number;
  total: number;
  inWindow: number;
  arrivedInWindow: number;
  gaps: number;
  disconnects: number;
  hist: { buckets: SparseHistogram; count: number; maxMs: number; sumMs: number };
  cpuMicros: number;
}

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

export type WorkerReply = { id: number; ok: true; data: unknown } | { id: number; ok: false; error: string };

const REQUEST_TIMEOUT_MS = 180_000;

class Worker {
  private nextId = 1;
  private waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  readonly ready: Promise<void>;

  constructor(readonly child: ChildProcess) {
    let markReady: () => void = () => {};
    this.ready = new Promise<void>((resolve) => (markReady = resolve));
    child.on("message", (reply: WorkerReply) => {
      if (reply.id === 0) return markReady();
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      clearTimeout(w.timer);
      if (reply.ok) w.resolve(reply.data);
      else w.reject(new Error(reply.error));
    });
    child.once("exit", (code) => {
      for (const w of this.waiting.values()) {
        clearTimeout(w.timer);
        w.reject(new Error(`client worker exited (${code})`));
      }
      this.waiting.clear();
    });
  }

  get pid() {
    return this.child.pid!;
  }

  request<T>(req: WithoutId<WorkerRequest>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`client worker did not answer ${req.op} within ${REQUEST_TIMEOUT_MS / 1000} s`));
      }, REQUEST_TIMEOUT_MS);
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.child.send({ ...req, id });
    });
  }
}

export interface PoolStats {
  sockets: number;
  connected: number;
  total: number;
  inWindow: number;
  arrivedInWindow: number;
  gaps: number;
  disconnects: number;
  hist: Histogram;
  cpuMicros: number[];
}

/** The subscriber side of every benchmark: the same worker processes serve every target. */
export class ClientPool {
  private constructor(private readonly workers: Worker[]) {}

  static async start(count: number): Promise<ClientPool> {
    const workers: Worker[] = [];
    for (let i = 0; i < count; i++) {
      const child = fork(path.join(BENCH_DIR, "client-worker.ts"), [], {
        execArgv: ["--import", "tsx"],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      workers.push(new Worker(child));
    }
    const pool = new ClientPool(workers);
    await Promise.race([
      Promise.all(workers.map((w) => w.ready)),
      new Promise((_, reject) => setTimeout(() => reject(new Error("client workers did not start within 30 s")), 30_000).unref()),
    ]);
    return pool;
  }

  get pids() {
    return this.workers.map((w) => w.pid);
  }

  get size() {
    return this.workers.length;
  }

  /** Opens `total` more subscribed connections, split evenly over the workers; each picks a random url. */
  async connect(urls: string[], total: number, token: string, channel: string) {
    const per = this.split(total);
    const results = await Promise.all(
      this.workers.map((w, i) => w.request<{ ok: number; failed: number; ms: number }>({ op: "connect", urls, count: per[i]!, token, channel })),
    );
    return { ok: results.reduce((a, r) => a + r.ok, 0), failed: results.reduce((a, r) => a + r.failed, 0), ms: Math.max(...results.map((r) => r.ms)) };
  }

  /** Closes connections until `total` remain (evenly over the workers). */
  async closeTo(total: number) {
    const per = this.split(total);
    await Promise.all(this.workers.map((w, i) => w.request({ op: "close", keep: per[i]! })));
  }

  async window(from: number, to: number) {
    await Promise.all(this.workers.map((w) => w.request({ op: "window", from, to })));
  }

  async stats(): Promise<PoolStats> {
    const all = await Promise.all(this.workers.map((w) => w.request<WorkerStats>({ op: "stats" })));
    const hist = new Histogram();
    for (const s of all) hist.merge(s.hist);
    const sum = (k: "sockets" | "connected" | "total" | "inWindow" | "arrivedInWindow" | "gaps" | "disconnects") => all.reduce((a, s) => a + s[k], 0);
    return {
      sockets: sum("sockets"),
      connected: sum("connected"),
      total: sum("total"),
      inWindow: sum("inWindow"),
      arrivedInWindow: sum("arrivedInWindow"),
      gaps: sum("gaps"),
      disconnects: sum("disconnects"),
      hist,
      cpuMicros: all.map((s) => s.cpuMicros),
    };
  }

  async stop() {
    await Promise.allSettled(this.workers.map((w) => w.request({ op: "exit" })));
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
            const timer = setTimeout(() => {
              w.child.kill("SIGKILL");
              resolve();
            }, 3000);
            w.child.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
  }

  /** Last resort on error paths. */
  kill() {
    for (const w of this.workers) if (w.child.exitCode === null) w.child.kill("SIGKILL");
  }

  private split(total: number) {
    const n = this.workers.length;
    return this.workers.map((_, i) => Math.floor(total / n) + (i < total % n ? 1 : 0));
  }
}
