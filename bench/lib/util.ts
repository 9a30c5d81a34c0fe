import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const BENCH_DIR = path.resolve(import.meta.dirname, "..");
export const PROJECT_ROOT = path.resolve(BENCH_DIR, "..");
export const RESULTS_DIR = path.join(BENCH_DIR, "results");

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Wall clock in ms with sub-ms precision, comparable between processes on this machine. */
export const wallMs = () => performance.timeOrigin + performance.now();

/** CLOCK_MONOTONIC in µs: the clock V8's .cpuprofile timestamps use on Linux. */
export const monoMicros = () => Number(process.hrtime.bigint() / 1000n);

const started = Date.now();
export function log(message: string) {
  const s = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  console.log(`[${s}s] ${message}`);
}

/** One free loopback port, found the same way the integration tests find theirs. */
export { freePort } from "../../server/tests/support/services";

/** VmRSS of a process, in bytes. */
export function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

const TICKS_PER_SECOND = 100;

/** utime + stime of a process, in ms (0 if it is gone). */
export function cpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Busy and total jiffies of the whole machine, from /proc/stat. */
export function machineTicks(): { busy: number; total: number } {
  const line = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/**
 * Measures CPU use over an interval: per named group of pids (as % of one core), the whole machine
 * (as % of all cores), and "other" (% of one core used by processes in none of the groups: other
 * work on the machine that disturbs the measurement).
 */
export class CpuMeter {
  private readonly start = new Map<number, number>();
  private readonly machine = machineTicks();
  private readonly t0 = performance.now();

  constructor(private readonly groups: Record<string, number[]>) {
    for (const pids of Object.values(groups)) for (const p of pids) this.start.set(p, cpuMs(p));
    this.machine = machineTicks();
    this.t0 = performance.now();
  }

  read(): Record<string, number> {
    const elapsed = performance.now() - this.t0;
    const out: Record<string, number> = {};
    let ours = 0;
    for (const [k, pids] of Object.entries(this.groups)) {
      // A process that exited meanwhile reads 0: count nothing for it rather than a negative.
      const used = pids.reduce((a, p) => a + Math.max(0, cpuMs(p) - (this.start.get(p) ?? 0)), 0);
      out[k] = Math.round((used / elapsed) * 100);
      ours += out[k];
    }
    const m = machineTicks();
    const busy = (m.busy - this.machine.busy) / Math.max(1, m.total - this.machine.total);
    out.machine = Math.round(busy * 100);
    out.other = Math.max(0, Math.round(busy * CORES * 100 - ours));
    return out;
  }
}

const CORES = os.cpus().length;

export const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");
export const fmtMs = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : Math.round(n).toString()) : "–");
