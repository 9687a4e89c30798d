import { describe, expect, it } from "vitest";
import { formatDuration, formatSeconds, timeAgo } from "./format";

describe("formatSeconds", () => {
  it("reads like a person would say it", () => {
    expect(formatSeconds(0)).toBe("0 s");
    expect(formatSeconds(45)).toBe("45 s");
    expect(formatSeconds(90)).toBe("1 min 30 s");
    expect(formatSeconds(3600)).toBe("1 h");
    expect(formatSeconds(86400 + 7200 + 60)).toBe("1 d 2 h");
  });
});

describe("formatDuration", () => {
  it("picks the unit by size", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(2400)).toBe("2.4 s");
    expect(formatDuration(42_000)).toBe("42 s");
    expect(formatDuration(185_000)).toBe("3 min 5 s");
  });
});

describe("timeAgo", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");
  it("says past and future", () => {
    expect(timeAgo(null, now)).toBe("never");
    expect(timeAgo("2026-01-01T11:59:58Z", now)).toBe("just now");
    expect(timeAgo("2026-01-01T11:57:00Z", now)).toBe("3 min ago");
    expect(timeAgo("2026-01-01T12:00:20Z", now)).toBe("in 20 s");
    expect(timeAgo("garbage", now)).toBe("—");
  });
});
