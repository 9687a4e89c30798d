/** Lays a trace's span tree out as waterfall rows: depth-first, children by start time, bars relative to the trace. */

export interface SpanLike {
  span_id: string;
  name: string;
  service: string;
  start_unix_nano: number;
  duration_ns: number;
  status: string;
  children: SpanLike[];
}

export interface WaterfallRow<S extends SpanLike = SpanLike> {
  span: S;
  depth: number;
  /** Where the bar starts and how wide it is, in percent of the whole trace (0..100). */
  offsetPct: number;
  widthPct: number;
  /** Milliseconds from the trace's start to this span's start. */
  startMs: number;
  hasChildren: boolean;
  /** The span id of the parent row (null for a root). */
  parentId: string | null;
}

export interface Extent { startNs: number; endNs: number }

/**
 * The trace's time extent from its spans: the earliest start and the latest end. (Start times arrive as
 * JSON numbers, so nanoseconds past 2^53 are rounded to ~256 ns: far below a pixel of any waterfall.)
 */
export function extentOf(roots: SpanLike[]): Extent {
  let startNs = Infinity;
  let endNs = -Infinity;
  const stack = [...roots];
  while (stack.length) {
    const s = stack.pop()!;
    startNs = Math.min(startNs, s.start_unix_nano);
    endNs = Math.max(endNs, s.start_unix_nano + Math.max(0, s.duration_ns));
    stack.push(...s.children);
  }
  if (!Number.isFinite(startNs)) return { startNs: 0, endNs: 0 };
  return { startNs, endNs };
}

/** The rows to draw; the subtrees of `collapsed` span ids are left out (their own row stays). */
export function layoutWaterfall<S extends SpanLike>(roots: S[], collapsed: ReadonlySet<string> = new Set()): WaterfallRow<S>[] {
  const { startNs, endNs } = extentOf(roots);
  const total = Math.max(1, endNs - startNs);
  const rows: WaterfallRow<S>[] = [];
  const byStart = (a: SpanLike, b: SpanLike) => a.start_unix_nano - b.start_unix_nano || a.span_id.localeCompare(b.span_id);
  // An explicit stack, not recursion: a trace may nest deeper than the call stack likes.
  const stack: { span: S; depth: number; parentId: string | null }[] = [...roots].sort(byStart).reverse()
    .map((span) => ({ span, depth: 0, parentId: null }));
  while (stack.length) {
    const { span, depth, parentId } = stack.pop()!;
    const offset = ((span.start_unix_nano - startNs) / total) * 100;
    const width = (Math.max(0, span.duration_ns) / total) * 100;
    rows.push({
      span, depth, parentId,
      offsetPct: clamp(offset, 0, 100),
      widthPct: clamp(width, 0, 100 - clamp(offset, 0, 100)),
      startMs: (span.start_unix_nano - startNs) / 1e6,
      hasChildren: span.children.length > 0,
    });
    if (collapsed.has(span.span_id)) continue;
    const kids = ([...span.children] as S[]).sort(byStart).reverse();
    for (const child of kids) stack.push({ span: child, depth: depth + 1, parentId: span.span_id });
  }
  return rows;
}

/** Evenly spaced time ticks (in ms) for the waterfall's ruler: 1, 2 or 5 × a power of ten. */
export function ticks(totalMs: number, count = 5): number[] {
  if (!(totalMs > 0)) return [0];
  const raw = totalMs / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let t = 0; t <= totalMs + 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
