/** A small inline SVG line of values, oldest first; decorative (the number beside it carries the meaning). */
export function Sparkline({ values, width = 120, height = 28, label }: { values: readonly number[]; width?: number; height?: number; label?: string }) {
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(" ");
  return (
    <svg className="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role={label ? "img" : undefined} aria-label={label} aria-hidden={label ? undefined : true}>
      {values.length > 1 ? (
        <>
          <polygon points={`0,${height} ${points} ${width},${height}`} className="sparkline-area" />
          <polyline points={points} className="sparkline-line" fill="none" />
        </>
      ) : null}
    </svg>
  );
}
