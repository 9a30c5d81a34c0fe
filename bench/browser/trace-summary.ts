/**
 * Attributes the renderer main thread's long tasks in a Chromium trace (CDP `Tracing`, categories in
 * TRACE_CATEGORIES): for every top-level task over the threshold, its wall time, its thread (CPU)
 * time, where the wall time went (script, GC, style/layout, paint, parsing, the rest) and, from the
 * V8 CPU profiler's samples, the functions that ran. A task whose CPU time is far below its wall time
 * was descheduled (another process had the core), not busy.
 */
import fs from "node:fs";
import path from "node:path";

export const TRACE_CATEGORIES = [
  "-*",
  "toplevel",
  "devtools.timeline",
  "disabled-by-default-devtools.timeline",
  "v8",
  "v8.execute",
  "disabled-by-default-v8.gc",
  "blink.user_timing",
];
// Not "disabled-by-default-v8.cpu_profiler": starting the profiler takes the main thread 100–200 ms
// (it logs every compiled function), which would show up as a long task in every trace window. The
// bench runs one CDP Profiler for the whole measurement instead and passes its profile here.

/** A V8 CPU profile as CDP's Profiler.stop returns it; timestamps are on the trace's clock (µs). */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface TraceEvent {
  name: string;
  cat: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  id?: string;
  args?: Record<string, unknown>;
}

export type Bucket = "script" | "gc" | "styleLayout" | "paint" | "parse" | "other";

export interface LongTaskAttribution {
  /** ms since the trace's first main-thread task. */
  atMs: number;
  wallMs: number;
  /** Thread time, when the trace has it: far below wallMs means the thread waited for a core. */
  cpuMs: number | null;
  /** Wall time by kind of work (self time of the task's nested trace events). */
  breakdownMs: Record<Bucket, number>;
  /** The deepest named trace events with the most self time, e.g. "FunctionCall", "MajorGC". */
  topEvents: { name: string; ms: number }[];
  /** V8 profiler samples inside the task, by leaf function ("(garbage collector)", "name url:line:col"). */
  topFunctions: { fn: string; ms: number; code?: string }[];
  /** The app frames (not framework or library) that were on the stack the longest. */
  topAppFrames: { fn: string; ms: number; code?: string }[];
}

const isTask = (e: TraceEvent) => e.name === "RunTask" || e.name === "ThreadControllerImpl::RunTask";

function bucketOf(e: TraceEvent): Bucket {
  const n = e.name;
  if (/GC|Scavenge|MarkCompact|Sweep|Mark|Heap/i.test(n) || /v8\.gc|blink_gc/.test(e.cat)) return "gc";
  if (/^(UpdateLayoutTree|Layout|RecalculateStyles|InvalidateLayout|ScheduleStyleRecalculation|LayoutShift|HitTest|UpdateLayerTree|IntersectionObserver|ResizeObserver)/.test(n)) return "styleLayout";
  if (/^(Paint|PrePaint|Layerize|UpdateLayer|CompositeLayers|Commit|PaintImage|Decode|Rasterize|ScrollLayer|AnimationFrame)/.test(n)) return "paint";
  if (/^(ParseHTML|ParseAuthorStyleSheet)/.test(n)) return "parse";
  if (/^(FunctionCall|EvaluateScript|TimerFire|EventDispatch|FireAnimationFrame|FireIdleCallback|RunMicrotasks|XHR|v8\.|V8\.|ScheduledAction|RunConsoleTask|WebSocket)/i.test(n) || /v8\.execute/.test(e.cat)) return "script";
  return "other";
}

const round = (n: number) => Math.round(n * 10) / 10;

/** Reads a trace file written by Tracing (JSON object with `traceEvents`, or a bare array). */
export function readTraceEvents(text: string): TraceEvent[] {
  const parsed = JSON.parse(text) as TraceEvent[] | { traceEvents: TraceEvent[] };
  return Array.isArray(parsed) ? parsed : parsed.traceEvents;
}

interface ProfileNode {
  id: number;
  parent?: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber?: number; columnNumber?: number };
}

/** The V8 CPU profile samples of thread (pid, tid), with trace timestamps, from the trace or a separate profile. */
function profileSamples(events: TraceEvent[], pid: number, tid: number, cpuProfile?: CpuProfile) {
  const nodes = new Map<string, Map<number, ProfileNode>>();
  const cursor = new Map<string, number>();
  const samples: { ts: number; profile: string; node: number }[] = [];
  if (cpuProfile) {
    // CDP's nodes name their children; the trace's name their parent.
    const byId = new Map(cpuProfile.nodes.map((n) => [n.id, { ...n }]));
    for (const n of cpuProfile.nodes) for (const child of n.children ?? []) byId.get(child)!.parent = n.id;
    nodes.set("cdp", byId);
    let t = cpuProfile.startTime;
    (cpuProfile.samples ?? []).forEach((node, i) => {
      t += cpuProfile.timeDeltas?.[i] ?? 0;
      samples.push({ ts: t, profile: "cdp", node });
    });
  }
  for (const e of events) {
    if (e.pid !== pid || e.id === undefined) continue;
    const data = e.args?.data as Record<string, unknown> | undefined;
    if (e.name === "Profile") {
      if (e.tid !== tid) continue;
      nodes.set(e.id, new Map());
      cursor.set(e.id, Number(data?.startTime ?? e.ts));
    } else if (e.name === "ProfileChunk" && nodes.has(e.id)) {
      const profile = data?.cpuProfile as { nodes?: ProfileNode[]; samples?: number[] } | undefined;
      for (const node of profile?.nodes ?? []) nodes.get(e.id)!.set(node.id, node);
      const deltas = (data?.timeDeltas as number[] | undefined) ?? [];
      let t = cursor.get(e.id)!;
      (profile?.samples ?? []).forEach((node, i) => {
        t += deltas[i] ?? 0;
        samples.push({ ts: t, profile: e.id!, node });
      });
      cursor.set(e.id, t);
    }
  }
  samples.sort((a, b) => a.ts - b.ts);
  const stackOf = (profile: string, node: number): ProfileNode[] => {
    const byId = nodes.get(profile)!;
    const stack: ProfileNode[] = [];
    for (let n = byId.get(node); n; n = n.parent === undefined ? undefined : byId.get(n.parent)) stack.push(n);
    return stack;
  };
  return { samples, stackOf };
}

/** Where (url, 0-based line, 0-based column) points in a built chunk: a few characters of the minified code. */
export function codeAt(nextDir: string, url: string, line = 0, column = 0): string | undefined {
  const match = /\/_next\/(static\/.+?\.js)/.exec(url);
  if (!match) return undefined;
  try {
    const lines = fs.readFileSync(path.join(nextDir, match[1]!), "utf8").split("\n");
    const text = lines[line] ?? "";
    return text.slice(Math.max(0, column - 30), column + 90);
  } catch {
    return undefined;
  }
}

const frameLabel = (n: ProfileNode) => {
  const { functionName, url, lineNumber, columnNumber } = n.callFrame;
  if (!url) return functionName || "(anonymous)";
  return `${functionName || "(anonymous)"} ${url.replace(/^.*\/_next\//, "")}:${lineNumber ?? 0}:${columnNumber ?? 0}`;
};

/**
 * The long tasks of the busiest renderer main thread. `nextDir` (the build) lets it quote the
 * minified code each top function starts at.
 */
export function attributeLongTasks(events: TraceEvent[], { thresholdMs = 50, nextDir, cpuProfile }: { thresholdMs?: number; nextDir?: string; cpuProfile?: CpuProfile } = {}): { mainThread: string; tasks: LongTaskAttribution[]; tracedMs: number } {
  const { main, onMain, topTasks, tracedMs } = mainThreadTasks(events);
  if (!main) return { mainThread: "none", tasks: [], tracedMs: 0 };
  const first = topTasks[0]?.ts ?? 0;
  const { samples, stackOf } = profileSamples(events, main.pid, main.tid, cpuProfile);

  const tasks: LongTaskAttribution[] = [];
  let cursor = 0;
  for (const task of topTasks) {
    const dur = task.dur ?? 0;
    if (dur <= thresholdMs * 1000) continue;
    const end = task.ts + dur;
    while (cursor < onMain.length && onMain[cursor]!.ts < task.ts) cursor++;
    const { breakdown, byName } = selfTimes(task, onMain, cursor);
    // Profiler samples inside the task: time to the next sample, charged to the leaf function.
    const leaf = new Map<string, { ms: number; node: ProfileNode }>();
    const app = new Map<string, { ms: number; node: ProfileNode }>();
    for (let i = lowerBound(samples, task.ts); i < samples.length && samples[i]!.ts < end; i++) {
      const s = samples[i]!;
      const ms = (Math.min(samples[i + 1]?.ts ?? end, end) - s.ts) / 1000;
      const frames = stackOf(s.profile, s.node);
      const top = frames[0];
      if (!top) continue;
      const key = frameLabel(top);
      leaf.set(key, { ms: (leaf.get(key)?.ms ?? 0) + ms, node: top });
      const seen = new Set<string>();
      for (const f of frames) {
        // App code: the page's own chunks, not the framework's or node_modules'.
        if (!/\/_next\/static\/chunks\/(app\/|(?!framework|main|polyfills|webpack|turbopack))/.test(f.callFrame.url)) continue;
        const label = frameLabel(f);
        if (seen.has(label)) continue;
        seen.add(label);
        app.set(label, { ms: (app.get(label)?.ms ?? 0) + ms, node: f });
      }
    }
    const top = (m: Map<string, { ms: number; node: ProfileNode }>, n: number) =>
      [...m.entries()]
        .sort((a, b) => b[1].ms - a[1].ms)
        .slice(0, n)
        .map(([fn, { ms, node }]) => ({
          fn,
          ms: round(ms),
          ...(nextDir && node.callFrame.url ? { code: codeAt(nextDir, node.callFrame.url, node.callFrame.lineNumber, node.callFrame.columnNumber) } : {}),
        }));
    tasks.push({
      atMs: round((task.ts - first) / 1000),
      wallMs: round(dur / 1000),
      cpuMs: task.tdur === undefined ? null : round(task.tdur / 1000),
      breakdownMs: breakdown,
      topEvents: [...byName.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([name, ms]) => ({ name, ms: round(ms) })),
      topFunctions: top(leaf, 6),
      topAppFrames: top(app, 6),
    });
  }
  return { mainThread: `${main.pid}:${main.tid}`, tasks, tracedMs: round(tracedMs) };
}

/** Wall (and thread) self time by kind of work of the events nested in `task`; `from` indexes `onMain` at the task. */
function selfTimes(task: TraceEvent, onMain: TraceEvent[], from: number) {
  const dur = task.dur ?? 0;
  const end = task.ts + dur;
  const self = new Map<TraceEvent, { wall: number; cpu: number }>([[task, { wall: dur, cpu: task.tdur ?? 0 }]]);
  const stack: TraceEvent[] = [task];
  for (let i = from; i < onMain.length && onMain[i]!.ts < end; i++) {
    const e = onMain[i]!;
    if (e === task) continue;
    while (stack.length > 1 && e.ts >= stack.at(-1)!.ts + (stack.at(-1)!.dur ?? 0)) stack.pop();
    const parent = stack.at(-1)!;
    const d = Math.min(e.dur ?? 0, parent.ts + (parent.dur ?? 0) - e.ts);
    const c = e.tdur ?? 0;
    const p = self.get(parent)!;
    p.wall -= d;
    p.cpu -= c;
    self.set(e, { wall: d, cpu: c });
    stack.push(e);
  }
  const breakdown: Record<Bucket, number> = { script: 0, gc: 0, styleLayout: 0, paint: 0, parse: 0, other: 0 };
  const cpuBreakdown: Record<Bucket, number> = { script: 0, gc: 0, styleLayout: 0, paint: 0, parse: 0, other: 0 };
  const byName = new Map<string, number>();
  const cpuByName = new Map<string, number>();
  for (const [e, { wall, cpu }] of self) {
    // A script event's own time is the script itself; its children took the rest.
    const bucket = isTask(e) ? "other" : bucketOf(e);
    breakdown[bucket] += wall / 1000;
    cpuBreakdown[bucket] += Math.max(0, cpu) / 1000;
    byName.set(e.name, (byName.get(e.name) ?? 0) + wall / 1000);
    cpuByName.set(e.name, (cpuByName.get(e.name) ?? 0) + Math.max(0, cpu) / 1000);
  }
  for (const k of Object.keys(breakdown) as Bucket[]) breakdown[k] = round(breakdown[k]);
  return { breakdown, cpuBreakdown, byName, cpuByName };
}

/**
 * The main thread's load over a whole trace: per second of trace, ms of thread (CPU) time by kind of
 * work, ms of wall time in tasks, and rendering updates (frames) — independent of how busy the machine is.
 */
export function mainThreadLoad(events: TraceEvent[], cpuProfile?: CpuProfile) {
  const { main, onMain, topTasks, tracedMs } = mainThreadTasks(events);
  const cpu: Record<Bucket, number> = { script: 0, gc: 0, styleLayout: 0, paint: 0, parse: 0, other: 0 };
  const cpuByName = new Map<string, number>();
  let wall = 0;
  let cursor = 0;
  for (const task of topTasks) {
    while (cursor < onMain.length && onMain[cursor]!.ts < task.ts) cursor++;
    const times = selfTimes(task, onMain, cursor);
    for (const k of Object.keys(cpu) as Bucket[]) cpu[k] += times.cpuBreakdown[k];
    for (const [name, ms] of times.cpuByName) cpuByName.set(name, (cpuByName.get(name) ?? 0) + ms);
    wall += (task.dur ?? 0) / 1000;
  }
  // The profiler's view of the same span: self time by function, and time on the stack by app frame.
  const selfByFunction = new Map<string, number>();
  const onStackByFunction = new Map<string, number>();
  if (main && cpuProfile && topTasks.length) {
    const { samples, stackOf } = profileSamples([], main.pid, main.tid, cpuProfile);
    const from = topTasks[0]!.ts;
    const to = from + tracedMs * 1000;
    for (let i = lowerBound(samples, from); i < samples.length && samples[i]!.ts < to; i++) {
      const ms = (Math.min(samples[i + 1]?.ts ?? to, to) - samples[i]!.ts) / 1000;
      const frames = stackOf(samples[i]!.profile, samples[i]!.node);
      if (!frames[0] || frames[0].callFrame.functionName === "(idle)") continue;
      const leaf = frameLabel(frames[0]);
      selfByFunction.set(leaf, (selfByFunction.get(leaf) ?? 0) + ms);
      for (const label of new Set(frames.map(frameLabel))) onStackByFunction.set(label, (onStackByFunction.get(label) ?? 0) + ms);
    }
  }
  const topPerSecond = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => ({ name, msPerSecond: round((ms / tracedMs) * 1000) }));
  const perSecond = (ms: number) => round((ms / tracedMs) * 1000);
  const frames = onMain.filter((e) => e.name === "PrePaint").length;
  const cpuTotal = Object.values(cpu).reduce((a, b) => a + b, 0);
  return {
    tracedMs: round(tracedMs),
    cpuMsPerSecond: perSecond(cpuTotal),
    cpuMsPerSecondByKind: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, perSecond(v)])) as Record<Bucket, number>,
    taskWallMsPerSecond: perSecond(wall),
    framesPerSecond: round((frames / tracedMs) * 1000),
    /** Trace events by own CPU time (the "other" bucket is mostly the tasks' own time and IPC). */
    topEventsByCpu: topPerSecond(cpuByName, 12),
    topSelfFunctions: topPerSecond(selfByFunction, 15),
    topOnStack: topPerSecond(onStackByFunction, 25),
  };
}

function lowerBound(samples: { ts: number }[], ts: number) {
  let low = 0;
  let high = samples.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (samples[mid]!.ts < ts) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The busiest renderer main thread's events (complete events, sorted) and its top-level tasks. */
function mainThreadTasks(events: TraceEvent[]) {
  // Pair B/E events into complete events, per thread.
  const complete: TraceEvent[] = [];
  const open = new Map<string, TraceEvent[]>();
  const mainThreads: { pid: number; tid: number }[] = [];
  for (const e of events) {
    if (e.ph === "M" && e.name === "thread_name" && (e.args?.name as string) === "CrRendererMain") mainThreads.push({ pid: e.pid, tid: e.tid });
    else if (e.ph === "X") complete.push(e);
    else if (e.ph === "B") {
      const key = `${e.pid}:${e.tid}`;
      if (!open.has(key)) open.set(key, []);
      open.get(key)!.push(e);
    } else if (e.ph === "E") {
      const begin = open.get(`${e.pid}:${e.tid}`)?.pop();
      if (begin) complete.push({ ...begin, ph: "X", dur: e.ts - begin.ts });
    }
  }
  // The page's main thread: the renderer main thread with the most task time.
  let main = mainThreads[0];
  let best = -1;
  for (const t of mainThreads) {
    let total = 0;
    for (const e of complete) if (e.pid === t.pid && e.tid === t.tid && isTask(e)) total += e.dur ?? 0;
    if (total > best) [best, main] = [total, t];
  }
  if (!main) return { main: undefined, onMain: [], topTasks: [], tracedMs: 0 };
  const onMain = complete.filter((e) => e.pid === main.pid && e.tid === main.tid && (e.dur ?? 0) >= 0).sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
  const topTasks: TraceEvent[] = [];
  for (const e of onMain) {
    if (!isTask(e)) continue;
    const last = topTasks.at(-1);
    if (last && e.ts < last.ts + (last.dur ?? 0)) continue; // nested in the previous task
    topTasks.push(e);
  }
  const first = topTasks[0]?.ts ?? 0;
  const tracedMs = topTasks.length ? (topTasks.at(-1)!.ts + (topTasks.at(-1)!.dur ?? 0) - first) / 1000 : 0;
  return { main, onMain, topTasks, tracedMs };
}

/** One line per long task, for the console. */
export function describeLongTask(t: LongTaskAttribution): string {
  const parts = Object.entries(t.breakdownMs)
    .filter(([, ms]) => ms >= 1)
    .map(([k, ms]) => `${k} ${ms}`)
    .join(", ");
  const cpu = t.cpuMs === null ? "" : `, CPU ${t.cpuMs} ms${t.cpuMs < t.wallMs * 0.6 ? " (descheduled: waited for a core)" : ""}`;
  const fns = t.topFunctions
    .slice(0, 3)
    .map((f) => `${f.fn} ${f.ms}`)
    .join("; ");
  return `at ${t.atMs} ms: ${t.wallMs} ms wall${cpu}; ${parts}; top: ${fns}`;
}
