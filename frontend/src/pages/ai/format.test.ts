import { describe, expect, it } from "vitest";
import { aiRunSnippet, breachText, budgetLines, formatUsd, scheduleText } from "./format";

describe("AI heartbeat words", () => {
  const secs = (s: number) => `${s}s`;
  it("states the schedule", () => {
    expect(scheduleText({ schedule: "simple", interval: 3600, cron: null, timezone: "UTC", grace: 600 }, secs)).toBe("a run every 3600s (grace 600s)");
    expect(scheduleText({ schedule: "cron", interval: null, cron: "0 * * * *", timezone: "Europe/Paris", grace: 60 }, secs)).toBe("runs on 0 * * * * Europe/Paris (grace 60s)");
    expect(scheduleText({ schedule: "none", interval: null, cron: null, timezone: "UTC", grace: 300 }, secs)).toMatch(/no schedule/);
  });
  it("lists budgets, unset ones as no limit", () => {
    expect(budgetLines({ max_failure_rate: 0.2, window_s: 3600, min_runs: 5, max_cost_per_day_usd: 25 })).toEqual([
      ["Failure rate", "at most 20 % over 60 min (from 5 runs)"], ["p95 latency", "no limit"],
      ["Cost per run", "no limit"], ["Cost per day", "at most $25.00"]]);
  });
  it("formats money, breaches and the run snippet", () => {
    expect(formatUsd(0.0042)).toBe("$0.0042");
    expect(formatUsd(12)).toBe("$12.00");
    expect(breachText({ budget: "cost_per_day_usd", value: 30, limit: 25 })).toBe("cost per day usd 30 (limit 25)");
    expect(aiRunSnippet("https://x.example", "abc")).toContain("https://x.example/api/v1/ai-heartbeats/abc/run");
  });
});
