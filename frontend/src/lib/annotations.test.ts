import { describe, expect, it } from "vitest";
import { localInputToIso, toLocalInput, toMarks } from "./annotations";

const at = (iso: string) => Date.parse(iso) / 1000;

describe("toMarks", () => {
  const list = [
    { name: "deploy v2", time: "2026-12-04T10:30:00Z", start: "2026-12-04T10:30:00Z", end: null },
    { name: "maintenance", time: "2026-12-04T08:00:00Z", start: "2026-12-04T08:00:00Z", end: "2026-12-04T10:05:00Z" },
    { name: "long ago", time: "2026-12-01T00:00:00Z", start: "2026-12-01T00:00:00Z", end: null },
    { name: "later", time: "2026-12-04T12:00:01Z", start: "2026-12-04T12:00:01Z", end: null },
  ];

  it("keeps the marks inside the chart's range, a band that ends inside it included, oldest first", () => {
    const marks = toMarks(list, at("2026-12-04T10:00:00Z"), at("2026-12-04T12:00:00Z"));
    expect(marks).toEqual([
      { at: at("2026-12-04T08:00:00Z"), end: at("2026-12-04T10:05:00Z"), label: "maintenance" },
      { at: at("2026-12-04T10:30:00Z"), end: null, label: "deploy v2" },
    ]);
  });
});

describe("local times", () => {
  it("round-trips a datetime-local value through UTC", () => {
    const d = new Date(2026, 11, 4, 9, 7);
    expect(toLocalInput(d)).toBe("2026-12-04T09:07");
    expect(localInputToIso(toLocalInput(d))).toBe(d.toISOString());
    expect(localInputToIso("")).toBeNull();
    expect(localInputToIso("nonsense")).toBeNull();
  });
});
