import { formatClock } from "@/lib/time-format";

export interface ChartSeries {
  name: string;
  /** One value per bucket, oldest first. */
  values: readonly number[];
}

/** Distinct in light and dark. */
export const SERIES_COLORS = ["#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899", "#84cc16", "#94a3b8"];

const WIDTH = 1200;
const HEIGHT = 260;
const PAD = { top: 10, right: 16, bottom: 26, left: 64 };

/** A line per series over time buckets, as inline SVG. The caller gives it an accessible summary. */
export function TimeSeriesChart({ buckets, series, label, formatValue }: { buckets: readonly string[]; series: readonly ChartSeries[]; label: string; formatValue(v: number): string }) {
  const max = Math.max(0, ...series.flatMap((s) => s.values));
  const yMax = max > 0 ? niceCeil(max) : 1;
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (buckets.length > 1 ? (i / (buckets.length - 1)) * innerW : innerW / 2);
  const y = (v: number) => PAD.top + innerH - (v / yMax) * innerH;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  const labelEvery = Math.max(1, Math.ceil(buckets.length / 8));

  return (
    <svg className="chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={label}>
      {ticks.map((t) => (
        <g key={t}>
          <line className="grid-line" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(t)} y2={y(t)} />
          <text x={PAD.left - 6} y={y(t) + 4} textAnchor="end">
            {formatValue(t)}
          </text>
        </g>
      ))}
      {buckets.map((b, i) =>
        i % labelEvery === 0 ? (
          <text key={b} x={x(i)} y={HEIGHT - 6} textAnchor="middle">
            {formatClock(b).slice(0, 5)}
          </text>
        ) : null,
      )}
      {series.map((s, si) => (
        <polyline
          key={s.name}
          fill="none"
          stroke={SERIES_COLORS[si % SERIES_COLORS.length]}
          strokeWidth={2}
          strokeLinejoin="round"
          points={s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}
        />
      ))}
    </svg>
  );
}

function niceCeil(v: number) {
  const magnitude = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= v) return step * magnitude;
  return 10 * magnitude;
}
