import { describe, expect, it } from "vitest";
import { addDays, dayFraction, fromLocalInput, startOfDay, toLocalInput } from "./time";

describe("calendar arithmetic", () => {
  it("round-trips a datetime-local value", () => {
    const d = new Date(2026, 11, 4, 9, 30);
    expect(toLocalInput(d)).toBe("2026-12-04T09:30");
    expect(new Date(fromLocalInput("2026-12-04T09:30")).getTime()).toBe(d.getTime());
  });
  it("clips a shift to a day", () => {
    const day = startOfDay(new Date(2026, 11, 4));
    expect(dayFraction(new Date(2026, 11, 4, 6), new Date(2026, 11, 4, 18), day)).toEqual([0.25, 0.75]);
    expect(dayFraction(new Date(2026, 11, 3, 12), new Date(2026, 11, 5, 12), day)).toEqual([0, 1]);
    expect(dayFraction(new Date(2026, 11, 5), new Date(2026, 11, 6), day)).toBeNull();
    expect(addDays(day, 1).getDate()).toBe(5);
  });
});
