/** Turning an OQL answer into chart series, and its errors into a position in the editor. */

export interface Column { name: string; type: string }
export type Cell = string | number | boolean | null;

export interface ChartData {
  times: number[];
  series: { label: string; values: (number | null)[] }[];
}

const isTime = (c: Column) => /date|time/i.test(c.type) || /^(time|bucket|timestamp)$/i.test(c.name);
const isNumeric = (c: Column) => /int|float|decimal|double|number|uint/i.test(c.type);

/** Epoch seconds of a cell holding a time (RFC 3339 text, possibly with nanoseconds, or a number). */
export function toEpochSeconds(value: Cell): number | null {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return null;
  // JavaScript dates take milliseconds: drop digits past them.
  const trimmed = value.replace(/(\.\d{3})\d+/, "$1");
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(trimmed) ? trimmed : `${trimmed}Z`);
  return Number.isNaN(ms) ? null : ms / 1000;
}

/**
 * A TIMESERIES answer as aligned series: one time column, the numeric columns as values, and any other
 * column as a group key (one series per group and value column). Null when the answer has no time column
 * or no numeric column (then a table is all there is to show).
 */
export function toChart(columns: Column[], rows: Cell[][]): ChartData | null {
  const t = columns.findIndex(isTime);
  if (t < 0) return null;
  const values = columns.map((c, i) => ({ c, i })).filter(({ c, i }) => i !== t && isNumeric(c));
  if (!values.length) return null;
  const groups = columns.map((c, i) => ({ c, i })).filter(({ c, i }) => i !== t && !isNumeric(c));
  const times = [...new Set(rows.map((r) => toEpochSeconds(r[t])).filter((x): x is number => x !== null))].sort((a, b) => a - b);
  const index = new Map(times.map((x, i) => [x, i]));
  const series = new Map<string, (number | null)[]>();
  for (const row of rows) {
    const at = toEpochSeconds(row[t]);
    if (at === null) continue;
    const group = groups.map(({ i }) => String(row[i] ?? "∅")).join(" · ");
    for (const { c, i } of values) {
      const label = [group, values.length > 1 || !group ? c.name : ""].filter(Boolean).join(" · ");
      if (!series.has(label)) series.set(label, new Array(times.length).fill(null));
      const v = row[i];
      series.get(label)![index.get(at)!] = typeof v === "number" ? v : v === null ? null : Number(v);
    }
  }
  return { times, series: [...series].map(([label, vals]) => ({ label, values: vals })) };
}

/** The character offset of a 1-based line and column in `text` (to put the caret on an error). */
export function offsetOf(text: string, line: number, column: number): number {
  const lines = text.split("\n");
  let offset = 0;
  for (let i = 0; i < Math.min(line - 1, lines.length); i++) offset += lines[i].length + 1;
  return Math.min(text.length, offset + Math.max(0, column - 1));
}
