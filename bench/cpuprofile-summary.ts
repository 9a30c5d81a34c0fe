// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per package,
// optionally within a time window (CLOCK_MONOTONIC µs, the clock of the profile's timestamps).
// CLI: node --import tsx bench/cpuprofile-summary.ts FILE.cpuprofile [--from US] [--to US] [--top N]
import fs from "node:fs";
import path from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SummaryRow {
  name: string;
  where: string;
  selfMs: number;
  /** Share of the busy (non-idle) time in the window. */
  pct: number;
}

export interface ProfileSummary {
  windowMs: number;
  busyMs: number;
  idleMs: number;
  /** Busy time as % of one core. */
  busyPctOfCore: number;
  gcMs: number;
  topFunctions: SummaryRow[];
  byPackage: SummaryRow[];
}

const SPECIAL = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

/** Which package or area a frame belongs to: a node_modules package, a folder of this repo, Node itself. */
export function packageOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (SPECIAL.has(functionName)) return functionName;
  if (!url) return "(V8 builtins / native)";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    const pkg = rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
    if (pkg === ".prisma" || pkg.startsWith("@prisma/")) return "prisma";
    return pkg;
  }
  if (url.startsWith("node:")) {
    const parts = url.slice(5).split("/");
    return `node:${parts[0] === "internal" ? parts.slice(1, 3).join("/") : parts[0]}`;
  }
  const file = url.replace(/^file:\/\//, "");
  const rel = path.relative(path.resolve(import.meta.dirname, ".."), file);
  if (!rel.startsWith("..")) {
    if (rel.startsWith("server/db/generated")) return "prisma (generated client)";
    const parts = rel.split("/");
    return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts.length === 2 ? parts[0]! : rel;
  }
  return url;
}

function where(frame: CallFrame): string {
  if (!frame.url) return "";
  const nm = frame.url.lastIndexOf("node_modules/");
  const short = nm >= 0 ? frame.url.slice(nm + "node_modules/".length) : frame.url.replace(/^file:\/\/.*?\/(server|bench|lib)\//, "$1/");
  return `${short}:${frame.lineNumber + 1}`;
}

export function summarize(profile: CpuProfile, opts: { fromUs?: number; toUs?: number; top?: number } = {}): ProfileSummary {
  const from = opts.fromUs ?? Number.NEGATIVE_INFINITY;
  const to = opts.toUs ?? Number.POSITIVE_INFINITY;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfByNode = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < from || t >= to) continue;
    // A sample stands for the time until the next one.
    const dur = profile.timeDeltas[i + 1] ?? 0;
    const id = profile.samples[i]!;
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + dur);
  }
  const fn = new Map<string, SummaryRow>();
  const pkg = new Map<string, SummaryRow>();
  let idle = 0;
  let gc = 0;
  let total = 0;
  for (const [id, us] of selfByNode) {
    const frame = byId.get(id)!.callFrame;
    total += us;
    if (frame.functionName === "(idle)") {
      idle += us;
      continue;
    }
    if (frame.functionName === "(garbage collector)") gc += us;
    const name = frame.functionName || "(anonymous)";
    const key = `${name}@${frame.url}:${frame.lineNumber}:${frame.columnNumber}`;
    const row = fn.get(key) ?? { name, where: where(frame), selfMs: 0, pct: 0 };
    row.selfMs += us / 1000;
    fn.set(key, row);
    const p = packageOf(frame);
    const prow = pkg.get(p) ?? { name: p, where: "", selfMs: 0, pct: 0 };
    prow.selfMs += us / 1000;
    pkg.set(p, prow);
  }
  const busyMs = (total - idle) / 1000;
  const finish = (rows: Iterable<SummaryRow>, top: number) =>
    [...rows]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top)
      .map((r) => ({ ...r, selfMs: Math.round(r.selfMs * 10) / 10, pct: Math.round((r.selfMs / Math.max(busyMs, 1e-9)) * 1000) / 10 }));
  const windowMs = (Math.min(to, profile.endTime) - Math.max(from, profile.startTime)) / 1000;
  return {
    windowMs: Math.round(windowMs),
    busyMs: Math.round(busyMs),
    idleMs: Math.round(idle / 1000),
    busyPctOfCore: Math.round((busyMs / Math.max(windowMs, 1e-9)) * 100),
    gcMs: Math.round(gc / 1000),
    topFunctions: finish(fn.values(), opts.top ?? 20),
    byPackage: finish(pkg.values(), opts.top ?? 20),
  };
}

export function formatSummary(s: ProfileSummary): string {
  const lines = [
    `window ${s.windowMs} ms, busy ${s.busyMs} ms (${s.busyPctOfCore} % of one core), idle ${s.idleMs} ms, GC ${s.gcMs} ms`,
    "",
    "self time by package/area:",
    ...s.byPackage.map((r) => `  ${r.pct.toFixed(1).padStart(5)} %  ${r.selfMs.toFixed(0).padStart(7)} ms  ${r.name}`),
    "",
    "top functions by self time:",
    ...s.topFunctions.map((r) => `  ${r.pct.toFixed(1).padStart(5)} %  ${r.selfMs.toFixed(0).padStart(7)} ms  ${r.name}  ${r.where}`),
  ];
  return lines.join("\n");
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith("--") && !/^\d+$/.test(a));
  if (!file) {
    console.error("usage: node --import tsx bench/cpuprofile-summary.ts FILE.cpuprofile [--from US] [--to US] [--top N]");
    process.exit(2);
  }
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
  console.log(formatSummary(summarize(profile, { fromUs: opt("--from"), toUs: opt("--to"), top: opt("--top") })));
}
