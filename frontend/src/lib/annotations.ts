/** Annotations (deploy markers and the like) as chart marks, and the form's local times as UTC. */

export interface AnnotationLike { name: string; time: string; start: string; end: string | null }
export interface Mark { at: number; end?: number | null; label: string }

/** Marks for the annotations that touch [first, last] (seconds), oldest first; a range keeps its end. */
export function toMarks(annotations: AnnotationLike[], first: number, last: number): Mark[] {
  return annotations
    .map((a) => {
      const at = Date.parse(a.start || a.time) / 1000;
      const end = a.end ? Date.parse(a.end) / 1000 : null;
      return { at, end, label: a.name };
    })
    .filter((m) => Number.isFinite(m.at) && (m.end ?? m.at) >= first && m.at <= last)
    .sort((a, b) => a.at - b.at);
}

/** A `datetime-local` input's value (the browser's local time) as RFC 3339 UTC; "" stays null. */
export function localInputToIso(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** Now (or `date`) as a `datetime-local` value in the browser's time zone, to the minute. */
export function toLocalInput(date: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
