import { describe, expect, it } from "vitest";
import { formatUptime, sparkSegments } from "./spark";
import { visibleRange } from "./virtual";

describe("the virtual list", () => {
  it("draws only the rows in view plus the overscan, and pads the rest", () => {
    expect(visibleRange(0, 440, 44, 1000, 5)).toEqual({ start: 0, end: 15, before: 0, after: 985 * 44 });
    const mid = visibleRange(44 * 500, 440, 44, 1000, 5);
    expect(mid).toEqual({ start: 495, end: 515, before: 495 * 44, after: 485 * 44 });
    expect(visibleRange(44 * 999, 440, 44, 1000, 5)).toMatchObject({ end: 1000, after: 0 });
  });
  it("copes with short lists and odd scroll positions", () => {
    expect(visibleRange(0, 440, 44, 3)).toEqual({ start: 0, end: 3, before: 0, after: 0 });
    expect(visibleRange(-50, 440, 44, 0)).toEqual({ start: 0, end: 0, before: 0, after: 0 });
    expect(visibleRange(1e9, 440, 44, 10)).toMatchObject({ start: 10, end: 10, after: 0 });
  });
});

describe("sparklines", () => {
  it("scales between the lowest and highest value and breaks at gaps", () => {
    expect(sparkSegments([1, 2, 3], 102, 12)).toEqual(["1.0,11.0 51.0,6.0 101.0,1.0"]);
    expect(sparkSegments([1, null, 3, 1], 8, 12)).toEqual(["1.0,11.0", "5.0,1.0 7.0,11.0"]);
    expect(sparkSegments([5, 5], 10, 12)).toEqual(["1.0,6.0 9.0,6.0"]);
    expect(sparkSegments([null, null], 10, 12)).toEqual([]);
  });
  it("formats uptime without rounding up to 100 %", () => {
    expect(formatUptime(100)).toBe("100 %");
    expect(formatUptime(99.999)).toBe("99.99 %");
    expect(formatUptime(87.5)).toBe("87.50 %");
    expect(formatUptime(null)).toBe("–");
  });
});
