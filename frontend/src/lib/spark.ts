/**
 * The SVG polyline points of a sparkline of `values` in a `width`×`height` box (1 px margin); gaps (null)
 * break the line into segments. The lowest value sits at the bottom, the highest at the top; a flat series
 * is drawn mid-height.
 */
export function sparkSegments(values: (number | null)[], width: number, height: number): string[] {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (known.length === 0) return [];
  const lo = Math.min(...known);
  const hi = Math.max(...known);
  const step = values.length > 1 ? (width - 2) / (values.length - 1) : 0;
  const y = (v: number) => (hi === lo ? height / 2 : 1 + (height - 2) * (1 - (v - lo) / (hi - lo)));
  const segments: string[] = [];
  let current: string[] = [];
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      if (current.length) segments.push(current.join(" "));
      current = [];
      return;
    }
    current.push(`${(1 + i * step).toFixed(1)},${y(v).toFixed(1)}`);
  });
  if (current.length) segments.push(current.join(" "));
  return segments;
}

/** "99.95 %", "100 %", "–" for no figure. */
export function formatUptime(pct: number | null | undefined): string {
  if (pct === null || pct === undefined) return "–";
  if (pct >= 100) return "100 %";
  return `${(Math.floor(pct * 100) / 100).toFixed(2)} %`;
}
