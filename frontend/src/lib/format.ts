/** Formatting helpers shared by the pages (and unit-tested). */

const UNITS: [number, string][] = [
  [86400, "d"],
  [3600, "h"],
  [60, "min"],
  [1, "s"],
];

/** 90 -> "1 min 30 s", 3600 -> "1 h", 0 -> "0 s". */
export function formatSeconds(total: number): string {
  if (!Number.isFinite(total) || total <= 0) return "0 s";
  const parts: string[] = [];
  let rest = Math.round(total);
  for (const [size, unit] of UNITS) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

/** Milliseconds as people read them: 850 ms, 2.4 s, 3 min 5 s. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  return formatSeconds(ms / 1000);
}

/** "3 min ago", "in 20 s", "just now". */
export function timeAgo(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return "never";
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "—";
  const diff = Math.round((now - then) / 1000);
  if (Math.abs(diff) < 5) return "just now";
  const text = formatSeconds(Math.abs(diff)).split(" ").slice(0, 2).join(" ");
  return diff > 0 ? `${text} ago` : `in ${text}`;
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}
