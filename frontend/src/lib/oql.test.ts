import { describe, expect, it } from "vitest";
import { offsetOf, toChart, toEpochSeconds } from "./oql";

describe("OQL answers as charts", () => {
  it("reads nanosecond RFC 3339 times", () => {
    expect(toEpochSeconds("2026-12-04T19:14:31.123456789Z")).toBeCloseTo(1796411671.123, 3);
    expect(toEpochSeconds("2026-12-04 19:14:31")).toBe(1796411671);
    expect(toEpochSeconds(12)).toBe(12);
    expect(toEpochSeconds("nope")).toBeNull();
  });
  it("one series per group and value column, aligned on time", () => {
    const chart = toChart(
      [{ name: "time", type: "DateTime64(9, 'UTC')" }, { name: "severity", type: "String" }, { name: "count()", type: "UInt64" }],
      [["2026-01-01T00:00:00Z", "ERROR", 2], ["2026-01-01T00:05:00Z", "ERROR", 3], ["2026-01-01T00:05:00Z", "INFO", 7]],
    );
    expect(chart?.times).toEqual([1767225600, 1767225900]);
    expect(chart?.series).toEqual([{ label: "ERROR", values: [2, 3] }, { label: "INFO", values: [null, 7] }]);
  });
  it("no chart without a time or a number", () => {
    expect(toChart([{ name: "service", type: "String" }, { name: "n", type: "UInt64" }], [["a", 1]])).toBeNull();
    expect(toChart([{ name: "time", type: "DateTime" }, { name: "service", type: "String" }], [])).toBeNull();
  });
  it("puts the caret on the error's line and column", () => {
    expect(offsetOf("SELECT\ncount() FRM spans", 2, 9)).toBe(15);
    expect(offsetOf("abc", 9, 9)).toBe(3);
  });
});
