import { sparkSegments } from "../lib/spark";

/** A tiny inline line chart (no chart library: a thousand of them must be cheap); `label` says what it shows. */
export function Sparkline({ values, label, width = 96, height = 24 }: { values: (number | null)[]; label: string; width?: number; height?: number }) {
  const segments = sparkSegments(values, width, height);
  if (segments.length === 0) return <span className="muted spark-empty">no data</span>;
  return (
    <svg className="spark" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      {segments.map((points, i) => points.includes(" ")
        ? <polyline key={i} points={points} fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinejoin="round" />
        : <circle key={i} cx={points.split(",")[0]} cy={points.split(",")[1]} r="1.5" fill="currentColor" />)}
    </svg>
  );
}
