/** `<input type="datetime-local">` values and ISO times, in the browser's time zone. */

export function toLocalInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A datetime-local value as an ISO time with the browser's offset (the API needs one). */
export function fromLocalInput(value: string): string {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}

export function startOfDay(date: Date): Date {
  const d = new Date(date);
  d.setHours(0, 0, 0, 0);
  return d;
}

export function addDays(date: Date, days: number): Date {
  const d = new Date(date);
  d.setDate(d.getDate() + days);
  return d;
}

/** The part of [start, end) that falls inside [dayStart, dayStart + 1 day), as fractions of the day. */
export function dayFraction(start: Date, end: Date, dayStart: Date): [number, number] | null {
  const dayEnd = addDays(dayStart, 1);
  const a = Math.max(start.getTime(), dayStart.getTime());
  const b = Math.min(end.getTime(), dayEnd.getTime());
  if (b <= a) return null;
  const span = dayEnd.getTime() - dayStart.getTime();
  return [(a - dayStart.getTime()) / span, (b - dayStart.getTime()) / span];
}
