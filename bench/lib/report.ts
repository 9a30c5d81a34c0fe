import fs from "node:fs";
import path from "node:path";
import type { BenchResults, TargetResult } from "../run";
import type { LadderResult, StepResult } from "./scenarios";
import type { TargetKey } from "./targets";
import { PROJECT_ROOT, RESULTS_DIR, fmtInt, fmtMs } from "./util";

const KEYS: TargetKey[] = ["raw", "single", "cluster"];
const SHORT: Record<TargetKey, string> = { raw: "(a) floor", single: "(b) 1 node", cluster: "(c) 2 nodes" };
const COLORS: Record<TargetKey, string> = { raw: "#6b7280", single: "#2563eb", cluster: "#ea580c" };

const ladderOf = (r: BenchResults, key: TargetKey, n: number): LadderResult | undefined =>
  r.targets.find((t) => t.key === key)?.ladders.find((l) => l.subscribers === n);

const same = (a: number, b: number) => Math.abs(a - b) / Math.max(a, b) < 1e-6;

/** The highest offered load a ladder sustained (offered, not counted: at a few events per second the count rounds). */
const bestOf = (l: LadderResult | undefined): StepResult | null => {
  const ok = l?.steps.filter((s) => s.sustained) ?? [];
  return ok.length ? ok.reduce((a, b) => (b.offeredDeliveriesPerSec > a.offeredDeliveriesPerSec ? b : a)) : null;
};

/** The highest offered load every given target sustained (same doubling steps for all). */
export function commonLoad(r: BenchResults, n: number, keys: TargetKey[]): { offered: number; steps: Partial<Record<TargetKey, StepResult>> } | null {
  const ladders = keys.map((k) => ladderOf(r, k, n));
  if (ladders.some((l) => !l)) return null;
  const candidates = ladders[0]!.steps.filter((s) => s.sustained).map((s) => s.offeredDeliveriesPerSec).sort((a, b) => b - a);
  for (const offered of candidates) {
    const steps: Partial<Record<TargetKey, StepResult>> = {};
    let all = true;
    keys.forEach((k, i) => {
      const s = ladders[i]!.steps.find((x) => x.sustained && same(x.offeredDeliveriesPerSec, offered));
      if (s) steps[k] = s;
      else all = false;
    });
    if (all) return { offered, steps };
  }
  return null;
}

export interface TargetCheck {
  goal: string;
  required: string;
  result: string;
  met: boolean | null;
}

export function checkTargets(r: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const counts = [...new Set(r.targets.flatMap((t) => t.ladders.map((l) => l.subscribers)))].sort((a, b) => a - b);
  for (const n of counts) {
    const raw = bestOf(ladderOf(r, "raw", n));
    const sb = bestOf(ladderOf(r, "single", n));
    if (raw && sb) {
      const ratio = sb.offeredDeliveriesPerSec / raw.offeredDeliveriesPerSec;
      checks.push({
        goal: `(b) deliveries/s, ${fmtInt(n)} subscribers`,
        required: "≥ 0.7 × floor",
        result: `${fmtInt(sb.offeredDeliveriesPerSec)} vs ${fmtInt(raw.offeredDeliveriesPerSec)} = ${ratio.toFixed(2)} ×`,
        met: ratio >= 0.7,
      });
    }
    const common = commonLoad(r, n, ["raw", "single"]);
    if (common) {
      const ratio = common.steps.single!.p99 / common.steps.raw!.p99;
      checks.push({
        goal: `(b) p99 at the same load, ${fmtInt(n)} subscribers`,
        required: "≤ 2 × floor",
        result: `${fmtMs(common.steps.single!.p99)} vs ${fmtMs(common.steps.raw!.p99)} ms at ${fmtInt(common.offered)} deliveries/s = ${ratio.toFixed(2)} ×`,
        met: ratio <= 2,
      });
    }
  }
  const ing = r.targets.find((t) => t.key === "single")?.ingest;
  if (ing) checks.push({ goal: "(b) ingest, persisted", required: "≥ 10,000 events/s", result: `${fmtInt(ing.eventsPerSec)} events/s`, met: ing.eventsPerSec >= 10_000 });
  const ingC = r.targets.find((t) => t.key === "cluster")?.ingest;
  if (ingC) checks.push({ goal: "(c) ingest, persisted (for reference)", required: "≥ 10,000 events/s", result: `${fmtInt(ingC.eventsPerSec)} events/s`, met: ingC.eventsPerSec >= 10_000 });
  const memRaw = r.targets.find((t) => t.key === "raw")?.memory;
  for (const key of ["single", "cluster"] as const) {
    const m = r.targets.find((t) => t.key === key)?.memory;
    if (m && memRaw) {
      const ratio = m.perConnectionKB / memRaw.perConnectionKB;
      checks.push({
        goal: `${SHORT[key]} memory per idle connection`,
        required: "≤ 1.5 × floor",
        result: `${m.perConnectionKB.toFixed(1)} vs ${memRaw.perConnectionKB.toFixed(1)} KB = ${ratio.toFixed(2)} ×`,
        met: ratio <= 1.5,
      });
    }
  }
  if (r.history) {
    for (const c of r.history.cases) {
      checks.push({
        goal: `history, last 1,000 filtered of ${fmtInt(r.history.events)}: ${c.name}${c.path.startsWith("GET") ? " (HTTP GET)" : ""}`,
        required: "p99 < 20 ms",
        result: `p99 ${fmtMs(c.p99)} ms (p50 ${fmtMs(c.p50)})`,
        met: c.p99 < 20,
      });
    }
  }
  return checks;
}

const cpuCell = (cpu: Record<string, number>, keys: string[]) => keys.map((k) => cpu[k] ?? "–").join(" / ");

function fanoutTable(r: BenchResults): string[] {
  const counts = [...new Set(r.targets.flatMap((t) => t.ladders.map((l) => l.subscribers)))].sort((a, b) => a - b);
  const lines = [
    "| subscribers | target | max sustained deliveries/s | × floor | p50 / p99 at that load (ms) | p99 at the common load (ms) | server CPU per delivery | CPU % of a core at that load: server / clients / postgres / redis / other |",
    "|---:|---|---:|---:|---:|---:|---:|---|",
  ];
  for (const n of counts) {
    const common = commonLoad(r, n, KEYS.filter((k) => ladderOf(r, k, n)));
    const raw = bestOf(ladderOf(r, "raw", n));
    for (const key of KEYS) {
      const l = ladderOf(r, key, n);
      if (!l) continue;
      const b = bestOf(l);
      const cs = common?.steps[key];
      lines.push(
        `| ${fmtInt(n)} | ${SHORT[key]} | ${b ? fmtInt(b.offeredDeliveriesPerSec) : "none"} | ${b && raw ? (b.offeredDeliveriesPerSec / raw.offeredDeliveriesPerSec).toFixed(2) : "–"} | ${b ? `${fmtMs(b.p50)} / ${fmtMs(b.p99)}` : "–"} | ${cs ? `${fmtMs(cs.p99)} @ ${fmtInt(common!.offered)}/s` : "–"} | ${b ? `${b.serverUsPerDelivery.toFixed(1)} µs` : "–"} | ${b ? cpuCell(b.cpu, ["server", "clients", "postgres", "redis", "other"]) : "–"} |`,
      );
    }
  }
  return lines;
}

function ladderTable(t: TargetResult): string[] {
  const lines: string[] = [];
  for (const l of t.ladders) {
    lines.push("", `**${t.label}, ${fmtInt(l.connected)} subscribers**`, "");
    lines.push("| offered deliveries/s | events/s | received/s | delivered | p50 ms | p99 ms | max ms | ack p50 / p99 ms | server µs/delivery | CPU % server / clients / publisher / postgres / redis / other | verdict |");
    lines.push("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
    const rows = [...l.steps.map((s) => ({ s, discarded: false })), ...(l.discarded ?? []).map((s) => ({ s, discarded: true }))];
    for (const { s, discarded } of rows.sort((a, b) => a.s.offeredDeliveriesPerSec - b.s.offeredDeliveriesPerSec)) {
      lines.push(
        `| ${discarded ? "~~" : ""}${fmtInt(s.offeredDeliveriesPerSec)}${discarded ? "~~ (disturbed, re-run)" : s.disturbed ? " ⚠" : ""}${s.refinement ? "*" : ""} | ${s.rate < 10 ? s.rate.toFixed(2) : fmtInt(s.rate)} | ${fmtInt(s.receivedPerSec)} | ${(s.completeness * 100).toFixed(1)} % | ${fmtMs(s.p50)} | ${fmtMs(s.p99)} | ${fmtMs(s.max)} | ${fmtMs(s.publish.ackP50)} / ${fmtMs(s.publish.ackP99)} | ${Number.isFinite(s.serverUsPerDelivery) ? s.serverUsPerDelivery.toFixed(1) : "–"} | ${cpuCell(s.cpu, ["server", "clients", "publisher", "postgres", "redis", "other"])} | ${s.sustained ? "sustained" : `no: ${s.why}`} |`,
      );
    }
  }
  return lines;
}

export function markdown(r: BenchResults): string {
  const L: string[] = [];
  L.push(`# Benchmark results (${r.mode})`, "");
  L.push(`\`${r.command}\`, ${r.startedAt} → ${r.finishedAt ?? "?"} (${r.durationSeconds ?? "?"} s).`, "");
  L.push(`Machine: ${Object.entries(r.machine).map(([k, v]) => `${k} ${v}`).join(", ")}.`, "");
  const commits = [...r.targets.map((t) => `${SHORT[t.key]} ${t.commit ?? "?"}`), ...(r.history ? [`history ${r.history.commit ?? "?"}`] : [])];
  L.push(`Code each part ran (HEAD when its server processes started): ${commits.join(", ")}.`, "");
  L.push("## Targets", "", "| figure | required | result | met |", "|---|---|---|---|");
  for (const c of checkTargets(r)) L.push(`| ${c.goal} | ${c.required} | ${c.result} | ${c.met === null ? "–" : c.met ? "**met**" : "**not met**"} |`);
  L.push("", "## Fanout: deliveries/s and latency vs subscribers", "");
  L.push(
    "Max sustained = the highest offered rate at which every event published in the measurement window reached every subscriber, deliveries arrived at ≥ 90 % of the offered rate while the window lasted, with no gap notice, no disconnect, no throttled or failed publish, and p99 ≤ 500 ms. The common load is the highest step all three targets sustained.",
    "",
  );
  L.push(...fanoutTable(r));
  L.push("", "### p99 at the same load, every load all three sustained", "");
  L.push("| subscribers | offered deliveries/s | (a) floor p50 / p99 ms | (b) 1 node p50 / p99 ms | (b) p99 ÷ floor p99 | (c) 2 nodes p50 / p99 ms | (c) p99 ÷ floor p99 |", "|---:|---:|---:|---:|---:|---:|---:|");
  for (const n of [...new Set(r.targets.flatMap((t) => t.ladders.map((l) => l.subscribers)))].sort((a, b) => a - b)) {
    const raw = ladderOf(r, "raw", n);
    if (!raw) continue;
    for (const s of raw.steps.filter((x) => x.sustained).sort((a, b) => a.offeredDeliveriesPerSec - b.offeredDeliveriesPerSec)) {
      const at = (k: TargetKey) => ladderOf(r, k, n)?.steps.find((x) => x.sustained && same(x.offeredDeliveriesPerSec, s.offeredDeliveriesPerSec));
      const b = at("single");
      const c = at("cluster");
      if (!b && !c) continue;
      const cell = (x?: StepResult) => (x ? `${fmtMs(x.p50)} / ${fmtMs(x.p99)}${x.disturbed ? " ⚠" : ""}` : "–");
      L.push(
        `| ${fmtInt(n)} | ${fmtInt(s.offeredDeliveriesPerSec)} | ${cell(s)} | ${cell(b)} | ${b ? (b.p99 / s.p99).toFixed(1) : "–"} | ${cell(c)} | ${c ? (c.p99 / s.p99).toFixed(1) : "–"} |`,
      );
    }
  }
  L.push("", "⚠: other processes on the machine used more than 30 % of a core during that step.");
  L.push("", "### Server CPU per delivery at the same load", "");
  L.push(
    "Server process CPU (utime + stime from /proc, all nodes) divided by deliveries, at each load all three sustained: what each delivery costs the server, whatever bounds the throughput figure on this machine.",
    "",
  );
  L.push("| subscribers | offered deliveries/s | (a) floor | (b) 1 node | (b) ÷ floor | (c) 2 nodes | (c) ÷ floor |", "|---:|---:|---:|---:|---:|---:|---:|");
  for (const n of [...new Set(r.targets.flatMap((t) => t.ladders.map((l) => l.subscribers)))].sort((a, b) => a - b)) {
    const raw = ladderOf(r, "raw", n);
    if (!raw) continue;
    for (const s of raw.steps.filter((x) => x.sustained).sort((a, b) => a.offeredDeliveriesPerSec - b.offeredDeliveriesPerSec)) {
      const at = (k: TargetKey) => ladderOf(r, k, n)?.steps.find((x) => x.sustained && same(x.offeredDeliveriesPerSec, s.offeredDeliveriesPerSec));
      const b = at("single");
      const c = at("cluster");
      if (!b && !c) continue;
      const us = (x?: StepResult) => (x && Number.isFinite(x.serverUsPerDelivery) ? `${x.serverUsPerDelivery.toFixed(1)} µs` : "–");
      L.push(
        `| ${fmtInt(n)} | ${fmtInt(s.offeredDeliveriesPerSec)} | ${us(s)} | ${us(b)} | ${b ? (b.serverUsPerDelivery / s.serverUsPerDelivery).toFixed(1) : "–"} | ${us(c)} | ${c ? (c.serverUsPerDelivery / s.serverUsPerDelivery).toFixed(1) : "–"} |`,
      );
    }
  }
  L.push("", "## Ingest (HTTP POST batches, persisted and fanned out)", "");
  L.push("| target | events/s acknowledged | POST p50 / p99 (ms) | failed requests | fanout to the subscribers of \"tasks\" | CPU % server / producers / postgres / redis / other |", "|---|---:|---:|---:|---|---|");
  for (const t of r.targets) {
    for (const i of [t.ingest, t.ingestMoreProducers]) {
    if (!i) continue;
    L.push(
      `| ${t.label}, ${i.producers} producers | ${fmtInt(i.eventsPerSec)} | ${fmtMs(i.requestP50)} / ${fmtMs(i.requestP99)} | ${i.failedRequests} | ${fmtInt(i.fanout.received)} of ${fmtInt(i.fanout.expected)} delivered, ${fmtInt(i.fanout.gaps)} gap notices (${i.subscribers} subscribers) | ${cpuCell(i.cpu, ["server", "producers", "postgres", "redis", "other"])} |`,
    );
    }
  }
  L.push("", "## Memory per idle connection (server RSS, websocket connected and subscribed to one channel)", "");
  L.push(
    "RSS (VmRSS, all server processes) read after a full GC forced through the inspector, before and after opening the connections; the last column is the same without forcing a GC (then whatever garbage the heap holds at that moment counts).",
    "",
  );
  L.push("| target | connections | RSS before → after (MB) | per 1,000 connections | per connection | × floor | without forced GC |", "|---|---:|---:|---:|---:|---:|---:|");
  const memRaw = r.targets.find((t) => t.key === "raw")?.memory;
  for (const t of r.targets) {
    const m = t.memory;
    if (!m) continue;
    L.push(
      `| ${t.label} | ${fmtInt(m.connections)} | ${m.rssBeforeMB.toFixed(1)} → ${m.rssAfterMB.toFixed(1)} | ${m.perThousandMB.toFixed(1)} MB | ${m.perConnectionKB.toFixed(1)} KB | ${memRaw ? (m.perConnectionKB / memRaw.perConnectionKB).toFixed(2) : "–"} | ${m.plain ? `${m.plain.perConnectionKB.toFixed(1)} KB` : "–"} |`,
    );
  }
  if (r.history) {
    L.push("", `## History: newest 1,000 filtered events on ${fmtInt(r.history.events)} events`, "");
    L.push(`Seeded in ${r.history.seedSeconds.toFixed(1)} s; the event table with its indexes is ${r.history.tableMB.toFixed(0)} MB.`, "");
    L.push(
      "Each sample is one request, sequential, timed at the client (so it includes the client's JSON parse of ~1,000 events). The last two columns: EXPLAIN ANALYZE of the same filter written as literal SQL, and what auto_explain logged for the server's own statements that took 5 ms or more (count during the case, their median).",
      "",
    );
    L.push("| filter | path | events | p50 ms | p99 ms | max ms | literal SQL in the database | server statements ≥ 5 ms |", "|---|---|---:|---:|---:|---:|---|---|");
    for (const c of r.history.cases) {
      const plan = c.plan?.replace(/\s*\(cost=.*$/, "").replace(/^->\s*/, "");
      const sp = c.serverPlans;
      const spCell = !sp ? "–" : !sp.available ? "log not readable" : sp.slow ? `${sp.slow} of ${c.samples + 10}, median ${fmtMs(sp.p50)} ms` : `none of ${c.samples + 10}`;
      L.push(
        `| ${c.name} | ${c.path} | ${c.events} | ${fmtMs(c.p50)} | ${fmtMs(c.p99)} | ${fmtMs(c.max)} | ${c.dbExecutionMs !== undefined ? `${fmtMs(c.dbExecutionMs)} ms (${plan ?? ""})` : "–"} | ${spCell} |`,
      );
    }
    const withPlan = r.history.cases.find((c) => c.serverPlans?.plan);
    if (withPlan?.serverPlans?.plan) {
      L.push("", `The plan PostgreSQL used for the server's statement (${withPlan.name}, ${withPlan.path}), from auto_explain:`, "", "```", withPlan.serverPlans.plan.replace(/^\t/gm, ""), "```");
    }
  }
  if (r.profile) {
    L.push("", "## CPU profiles (`node --cpu-prof`), self time", "");
    for (const [who, phases] of [["Switchboard, 1 node", r.profile.switchboard], ["raw floor", r.profile.raw]] as const) {
      for (const p of phases) {
        const s = p.summary;
        const cpu = p.cpu ? ` Process CPU during the window (% of a core): ${Object.entries(p.cpu).map(([k, v]) => `${k} ${v}`).join(", ")}.` : "";
        L.push(`### ${who}: ${p.name}`, "", `${p.description}. Window ${fmtInt(s.windowMs)} ms; the main thread was busy ${s.busyPctOfCore} % of it, GC ${fmtInt(s.gcMs)} ms.${cpu}`, "");
        L.push("| by package / area | self % |", "|---|---:|");
        for (const row of s.byPackage.slice(0, 10)) L.push(`| ${row.name} | ${row.pct.toFixed(1)} |`);
        L.push("", "| top function | where | self % |", "|---|---|---:|");
        for (const row of s.topFunctions.slice(0, 15)) L.push(`| \`${row.name}\` | ${row.where} | ${row.pct.toFixed(1)} |`);
        L.push("");
      }
    }
  }
  L.push("", "## Every ladder step", "", "`*` marks a refinement step (bisection between the last sustained and the first failed rate).");
  for (const t of r.targets) L.push(...ladderTable(t));
  if (r.notes.length) L.push("", "## Notes", "", ...r.notes.map((n) => `- ${n}`));
  L.push("");
  return L.join("\n");
}

function niceMax(v: number) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Two panels: max sustained deliveries/s, and p99 at the common load, against subscribers (log x). */
export function svgChart(r: BenchResults): string {
  const counts = [...new Set(r.targets.flatMap((t) => t.ladders.map((l) => l.subscribers)))].sort((a, b) => a - b);
  // One load for the latency panel: the highest that every target sustained at every subscriber count.
  const loads = counts.map((n) => commonLoad(r, n, KEYS.filter((k) => ladderOf(r, k, n)))?.offered ?? null);
  const chartLoad = loads.some((l) => l === null) ? null : Math.min(...(loads as number[]));
  const W = 960;
  const H = 420;
  const panelW = 400;
  const panelH = 270;
  const top = 70;
  const lefts = [80, 560];
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="600">Fanout vs subscribers (${esc(r.mode)} run, ${esc(String(r.machine.cpus))} cores, ${esc(r.startedAt.slice(0, 10))})</text>`);
  const minN = Math.min(...counts);
  const maxN = Math.max(...counts);
  const xOf = (left: number, n: number) =>
    counts.length < 2 ? left + panelW / 2 : left + 20 + ((Math.log(n) - Math.log(minN)) / (Math.log(maxN) - Math.log(minN))) * (panelW - 40);
  const panels: { title: string; unit: string; value: (k: TargetKey, n: number) => number | null }[] = [
    { title: "max sustained deliveries/s", unit: "deliveries/s", value: (k, n) => bestOf(ladderOf(r, k, n))?.offeredDeliveriesPerSec ?? null },
    {
      title: chartLoad ? `p99 publish→receive latency at ${fmtInt(chartLoad)} deliveries/s` : "p99 publish→receive latency",
      unit: "ms",
      value: (k, n) => ladderOf(r, k, n)?.steps.find((x) => x.sustained && chartLoad !== null && same(x.offeredDeliveriesPerSec, chartLoad))?.p99 ?? null,
    },
  ];
  panels.forEach((panel, pi) => {
    const left = lefts[pi]!;
    const values = counts.flatMap((n) => KEYS.map((k) => panel.value(k, n))).filter((v): v is number => v !== null && Number.isFinite(v));
    const yMax = niceMax(Math.max(...values, 0) * 1.05);
    const yOf = (v: number) => top + panelH - (v / yMax) * panelH;
    out.push(`<text x="${left + panelW / 2}" y="${top - 14}" text-anchor="middle" font-size="13" font-weight="600">${esc(panel.title)}</text>`);
    out.push(`<rect x="${left}" y="${top}" width="${panelW}" height="${panelH}" fill="none" stroke="#d1d5db"/>`);
    for (let i = 0; i <= 5; i++) {
      const v = (yMax * i) / 5;
      const y = yOf(v);
      out.push(`<line x1="${left}" x2="${left + panelW}" y1="${y}" y2="${y}" stroke="#f3f4f6"/>`);
      const label = panel.unit === "ms" ? (yMax >= 50 ? fmtInt(v) : fmtMs(v)) : v >= 1000 ? `${fmtInt(v / 1000)}k` : fmtInt(v);
      out.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end" fill="#374151">${label}</text>`);
    }
    for (const n of counts) {
      const x = xOf(left, n);
      out.push(`<line x1="${x}" x2="${x}" y1="${top + panelH}" y2="${top + panelH + 5}" stroke="#6b7280"/>`);
      out.push(`<text x="${x}" y="${top + panelH + 18}" text-anchor="middle" fill="#374151">${fmtInt(n)}</text>`);
    }
    out.push(`<text x="${left + panelW / 2}" y="${top + panelH + 36}" text-anchor="middle" fill="#374151">subscribers (log scale)</text>`);
    out.push(`<text transform="translate(${left - 56} ${top + panelH / 2}) rotate(-90)" text-anchor="middle" fill="#374151">${esc(panel.unit)}</text>`);
    for (const k of KEYS) {
      const pts = counts.map((n) => [n, panel.value(k, n)] as const).filter((p): p is readonly [number, number] => p[1] !== null && Number.isFinite(p[1]));
      if (!pts.length) continue;
      const d = pts.map(([n, v], i) => `${i ? "L" : "M"}${xOf(left, n).toFixed(1)},${yOf(v).toFixed(1)}`).join(" ");
      out.push(`<path d="${d}" fill="none" stroke="${COLORS[k]}" stroke-width="2.5"${k === "cluster" ? ' stroke-dasharray="6 4"' : ""}/>`);
      for (const [n, v] of pts) {
        out.push(`<circle cx="${xOf(left, n).toFixed(1)}" cy="${yOf(v).toFixed(1)}" r="4" fill="${COLORS[k]}"><title>${esc(`${SHORT[k]}, ${n} subscribers: ${panel.unit === "ms" ? `${fmtMs(v)} ms` : `${fmtInt(v)} deliveries/s`}`)}</title></circle>`);
      }
    }
  });
  const labels: Record<TargetKey, string> = { raw: "(a) raw Socket.IO floor", single: "(b) Switchboard, 1 node", cluster: "(c) Switchboard, 2 nodes + Redis" };
  KEYS.forEach((k, i) => {
    const x = 150 + i * 250;
    const y = H - 22;
    out.push(`<line x1="${x}" x2="${x + 28}" y1="${y - 4}" y2="${y - 4}" stroke="${COLORS[k]}" stroke-width="2.5"${k === "cluster" ? ' stroke-dasharray="6 4"' : ""}/>`);
    out.push(`<text x="${x + 36}" y="${y}" fill="#111827">${esc(labels[k])}</text>`);
  });
  out.push("</svg>", "");
  return out.join("\n");
}

/** Full runs write latest.*, and the chart into docs/; quick runs write *-quick.* beside them. */
export function writeReports(r: BenchResults, quick: boolean): string[] {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const base = quick ? "latest-quick" : "latest";
  const json = path.join(RESULTS_DIR, `${base}.json`);
  const md = path.join(RESULTS_DIR, `${base}.md`);
  const svg = quick ? path.join(RESULTS_DIR, "subscribers-quick.svg") : path.join(PROJECT_ROOT, "docs", "benchmarks-subscribers.svg");
  fs.writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  fs.writeFileSync(md, markdown(r));
  if (r.targets.some((t) => t.ladders.length)) fs.writeFileSync(svg, svgChart(r));
  return [json, md, svg].map((f) => path.relative(PROJECT_ROOT, f));
}
