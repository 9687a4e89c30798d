/** The on-call pages' pure logic (unit-tested): lists typed as text, wall times in a chosen time zone,
 * the phase of windows and silences, rule reordering, and the editors' drafts ↔ API bodies. */

export type TargetType = "user" | "schedule" | "channel";
export interface Target { type: TargetType; id: string }

/** "db, api ,, db" → ["db", "api"]: a comma-separated field as the API's list. */
export function splitList(text: string): string[] {
  return [...new Set(text.split(",").map((t) => t.trim()).filter(Boolean))];
}

const pad = (n: number) => String(n).padStart(2, "0");

/** Milliseconds to add to a UTC instant to read the wall clock of `timeZone` at that instant. */
function zoneOffset(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return wall - Math.floor(instant / 1000) * 1000;
}

/** A `datetime-local` value read as wall-clock time in `timeZone` → the UTC instant (ISO 8601, with Z).
 * In a DST gap the clock is read with the offset before the change, like most calendars do. */
export function zonedToUtc(local: string, timeZone: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local);
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  try {
    const first = wall - zoneOffset(wall, timeZone);
    const second = wall - zoneOffset(first, timeZone);
    return new Date(second).toISOString().replace(/\.000Z$/, "Z");
  } catch {
    return null; // an unknown time zone: the API names the field
  }
}

/** The wall clock of `timeZone` at `instant`, as a `datetime-local` value. */
export function utcToZoned(instant: Date | string, timeZone: string): string {
  const t = typeof instant === "string" ? Date.parse(instant) : instant.getTime();
  const d = new Date(t + zoneOffset(t, timeZone));
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export type Phase = "active" | "upcoming" | "past";

/** A maintenance window is in force, still to come (its next occurrence) or over (none left). */
export function windowPhase(w: { active: boolean; current_or_next?: { starts_at: string } | null }): Phase {
  if (w.active) return "active";
  return w.current_or_next ? "upcoming" : "past";
}

export function silencePhase(s: { starts_at: string; ends_at: string }, now: number = Date.now()): Phase {
  if (Date.parse(s.ends_at) <= now) return "past";
  return Date.parse(s.starts_at) <= now ? "active" : "upcoming";
}

/** Move one item of `list` by `delta` places (clamped); a new array. */
export function moveItem<T>(list: T[], index: number, delta: number): T[] {
  const to = Math.max(0, Math.min(list.length - 1, index + delta));
  if (to === index || index < 0 || index >= list.length) return list.slice();
  const out = list.slice();
  const [item] = out.splice(index, 1);
  out.splice(to, 0, item);
  return out;
}

/** Rules in the order routing evaluates them: the default route last, then by position, then age. */
export function routingOrder<R extends { is_default: boolean; position: number; created_at: string; id: string }>(rules: R[]): R[] {
  return rules.slice().sort((a, b) => Number(a.is_default) - Number(b.is_default) || a.position - b.position
    || a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
}

/** Move rule `id` up (-1) or down (+1) among the ordinary rules: the positions to store (10, 20, …), only
 * for the rules whose position changes. The default route never moves (it always goes last). */
export function reorderRules<R extends { id: string; is_default: boolean; position: number; created_at: string }>(
  rules: R[], id: string, delta: number): { id: string; position: number }[] {
  const ordered = routingOrder(rules).filter((r) => !r.is_default);
  const moved = moveItem(ordered, ordered.findIndex((r) => r.id === id), delta);
  return moved.map((r, i) => ({ id: r.id, position: (i + 1) * 10 }))
    .filter((p) => rules.find((r) => r.id === p.id)?.position !== p.position);
}

/** The next position for a new rule: after every ordinary rule. */
export function nextPosition(rules: { is_default: boolean; position: number }[]): number {
  return Math.min(100_000, Math.max(0, ...rules.filter((r) => !r.is_default).map((r) => r.position)) + 10);
}

/** What a rule matches, in words ("everything" when it has no matcher). */
export function describeMatchers(r: { source_type?: string | null; source_ids?: string[]; tags: string[]; severities: string[];
  host?: string | null; service?: string | null; project?: string | null; is_default?: boolean }): string {
  if (r.is_default) return "everything no other rule matched";
  const parts: string[] = [];
  if (r.source_type) parts.push(`source ${r.source_type}`);
  if (r.source_ids?.length) parts.push(`${r.source_ids.length} chosen source(s)`);
  if (r.tags.length) parts.push(`tags ${r.tags.join(" + ")}`);
  if (r.severities.length) parts.push(`severity ${r.severities.join(" or ")}`);
  if (r.host) parts.push(`host ${r.host}`);
  if (r.service) parts.push(`service ${r.service}`);
  if (r.project) parts.push(`project ${r.project}`);
  return parts.length ? parts.join(" · ") : "everything";
}

// --- escalation policies ------------------------------------------------------------------------

export interface StepDraft { delay: string; targets: Target[]; round_robin: boolean }
export interface PolicyDraft { name: string; description: string; repeat: string; repeat_delay: string; steps: StepDraft[] }

export const emptyStep = (): StepDraft => ({ delay: "0", targets: [], round_robin: false });
export const emptyPolicy = (): PolicyDraft => ({ name: "", description: "", repeat: "0", repeat_delay: "30", steps: [emptyStep()] });

export function policyToDraft(p: { name: string; description?: string | null; repeat: number; repeat_delay_minutes: number;
  steps: { delay_minutes: number; targets: Target[]; round_robin?: boolean }[] }): PolicyDraft {
  return {
    name: p.name, description: p.description ?? "", repeat: String(p.repeat), repeat_delay: String(p.repeat_delay_minutes),
    steps: p.steps.map((s) => ({ delay: String(s.delay_minutes), targets: s.targets.map((t) => ({ type: t.type, id: t.id })), round_robin: !!s.round_robin })),
  };
}

const int = (text: string, fallback: number) => {
  const n = Number(text.trim());
  return text.trim() !== "" && Number.isFinite(n) ? Math.trunc(n) : fallback;
};

export function draftToPolicy(d: PolicyDraft) {
  return {
    name: d.name, description: d.description.trim() || null, repeat: int(d.repeat, 0), repeat_delay_minutes: int(d.repeat_delay, 30),
    steps: d.steps.map((s) => ({ delay_minutes: int(s.delay, 0), targets: s.targets, round_robin: s.round_robin })),
  };
}

/** "Step 1 at once: Ann, #ops · Step 2 after 15 min: Primary" */
export function describeSteps(steps: { delay_minutes: number; targets: Target[] }[], nameOf: (t: Target) => string): string {
  return steps.map((s, i) => `Step ${i + 1} ${s.delay_minutes ? `after ${s.delay_minutes} min` : "at once"}: ${s.targets.map(nameOf).join(", ")}`).join(" · ");
}

// --- schedule layers ----------------------------------------------------------------------------

export interface RestrictionDraft { days: number[]; start: string; end: string }
export interface LayerDraft { name: string; rotation: "daily" | "weekly" | "custom"; shift_hours: string; start: string; users: string[]; restrictions: RestrictionDraft[] }

export const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** Layer starts are the schedule's local wall-clock time ("2026-12-07T09:00:00"): kept as such. */
export function layerToDraft(l: { name: string; rotation: string; shift_hours: number; start: string; users: string[];
  restrictions: { days?: number[]; start: string; end: string }[] }): LayerDraft {
  return {
    name: l.name, rotation: (["daily", "weekly", "custom"].includes(l.rotation) ? l.rotation : "custom") as LayerDraft["rotation"],
    shift_hours: String(l.shift_hours), start: l.start.slice(0, 16), users: l.users.slice(),
    restrictions: l.restrictions.map((r) => ({ days: (r.days ?? []).slice(), start: r.start, end: r.end })),
  };
}

export function draftToLayer(d: LayerDraft) {
  return {
    name: d.name, rotation: d.rotation, shift_hours: d.rotation === "custom" ? int(d.shift_hours, 0) : null,
    start: d.start.length === 16 ? `${d.start}:00` : d.start, users: d.users,
    restrictions: d.restrictions.map((r) => ({ days: r.days.slice().sort((a, b) => a - b), start: r.start, end: r.end })),
  };
}

export function describeRestriction(r: { days?: number[]; start: string; end: string }): string {
  const days = r.days?.length ? r.days.map((d) => DAYS[d]).join(", ") : "every day";
  return `${days} ${r.start}–${r.end}`;
}
