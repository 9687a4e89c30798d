import { describe, expect, it } from "vitest";
import {
  describeMatchers, draftToLayer, draftToPolicy, emptyPolicy, isTimeZone, layerToDraft, moveItem, nextPosition, policyToDraft,
  reorderRules, routingOrder, silencePhase, splitList, utcToZoned, windowPhase, zonedToUtc,
} from "./logic";

describe("splitList", () => {
  it("trims, drops blanks and repeats", () => {
    expect(splitList(" db, api ,, db ")).toEqual(["db", "api"]);
    expect(splitList("")).toEqual([]);
  });
});

describe("wall time in a time zone", () => {
  it("reads a datetime-local value in the chosen zone, summer and winter", () => {
    expect(zonedToUtc("2026-07-01T09:00", "Europe/Berlin")).toBe("2026-07-01T07:00:00Z");
    expect(zonedToUtc("2026-12-24T18:30", "Europe/Berlin")).toBe("2026-12-24T17:30:00Z");
    expect(zonedToUtc("2026-12-24T18:30", "America/New_York")).toBe("2026-12-24T23:30:00Z");
    expect(zonedToUtc("2026-12-24T18:30", "UTC")).toBe("2026-12-24T18:30:00Z");
    expect(zonedToUtc("2026-03-01T05:00", "Asia/Kolkata")).toBe("2026-02-28T23:30:00Z");
  });
  it("lands on the right side of a DST change", () => {
    // Berlin jumps 02:00 → 03:00 on 2026-03-29: 03:30 is CEST (+2), 01:30 is CET (+1).
    expect(zonedToUtc("2026-03-29T03:30", "Europe/Berlin")).toBe("2026-03-29T01:30:00Z");
    expect(zonedToUtc("2026-03-29T01:30", "Europe/Berlin")).toBe("2026-03-29T00:30:00Z");
  });
  it("round-trips and refuses nonsense", () => {
    expect(utcToZoned("2026-12-24T17:30:00Z", "Europe/Berlin")).toBe("2026-12-24T18:30");
    expect(utcToZoned(new Date("2026-07-01T07:00:00Z"), "America/Los_Angeles")).toBe("2026-07-01T00:00");
    expect(zonedToUtc("tomorrow", "UTC")).toBeNull();
    expect(zonedToUtc("2026-12-24T18:30", "Mars/Olympus")).toBeNull();
    expect(isTimeZone("Europe/Berlin")).toBe(true);
    expect(isTimeZone("Mars/Olympus")).toBe(false);
  });
});

describe("phases", () => {
  it("sorts maintenance windows into active, upcoming and past", () => {
    expect(windowPhase({ active: true, current_or_next: { starts_at: "x" } })).toBe("active");
    expect(windowPhase({ active: false, current_or_next: { starts_at: "x" } })).toBe("upcoming");
    expect(windowPhase({ active: false, current_or_next: null })).toBe("past");
  });
  it("sorts silences by their span", () => {
    const now = Date.parse("2026-12-05T12:00:00Z");
    expect(silencePhase({ starts_at: "2026-12-05T11:00:00Z", ends_at: "2026-12-05T13:00:00Z" }, now)).toBe("active");
    expect(silencePhase({ starts_at: "2026-12-05T12:30:00Z", ends_at: "2026-12-05T13:00:00Z" }, now)).toBe("upcoming");
    expect(silencePhase({ starts_at: "2026-12-05T10:00:00Z", ends_at: "2026-12-05T12:00:00Z" }, now)).toBe("past");
  });
});

describe("routing rule order", () => {
  const rule = (id: string, position: number, is_default = false, created_at = "2026-01-01") => ({ id, position, is_default, created_at });
  const rules = [rule("default", 0, true), rule("c", 30), rule("a", 10), rule("b", 10, false, "2026-02-01")];

  it("evaluates by position and age, the default route last", () => {
    expect(routingOrder(rules).map((r) => r.id)).toEqual(["a", "b", "c", "default"]);
  });
  it("moving a rule renumbers only what changed", () => {
    expect(reorderRules(rules, "c", -1)).toEqual([{ id: "c", position: 20 }, { id: "b", position: 30 }]);
    expect(reorderRules(rules, "a", -1)).toEqual([{ id: "b", position: 20 }]); // a stays first; b gets its own place
    expect(reorderRules(rules, "default", -1)).toEqual([{ id: "b", position: 20 }]);
  });
  it("places a new rule after the others", () => {
    expect(nextPosition(rules)).toBe(40);
    expect(nextPosition([rule("default", 0, true)])).toBe(10);
  });
  it("moves list items within bounds", () => {
    expect(moveItem([1, 2, 3], 0, -1)).toEqual([1, 2, 3]);
    expect(moveItem([1, 2, 3], 0, 1)).toEqual([2, 1, 3]);
    expect(moveItem([1, 2, 3], 2, 5)).toEqual([1, 2, 3]);
  });
  it("says what a rule matches", () => {
    expect(describeMatchers({ tags: ["db"], severities: ["critical", "error"], service: "api" }))
      .toBe("tags db · severity critical or error · service api");
    expect(describeMatchers({ tags: [], severities: [] })).toBe("everything");
    expect(describeMatchers({ tags: [], severities: [], is_default: true })).toBe("everything no other rule matched");
  });
});

describe("editor drafts", () => {
  it("turns a policy into a draft and back", () => {
    const policy = { name: "ops", description: null, repeat: 2, repeat_delay_minutes: 10,
      steps: [{ delay_minutes: 0, targets: [{ type: "user" as const, id: "u1" }], round_robin: false },
        { delay_minutes: 15, targets: [{ type: "schedule" as const, id: "s1" }, { type: "channel" as const, id: "c1" }], round_robin: true }] };
    expect(draftToPolicy(policyToDraft(policy))).toEqual(policy);
    const d = { ...emptyPolicy(), name: "x", repeat: "", repeat_delay: "abc" };
    expect(draftToPolicy(d)).toMatchObject({ repeat: 0, repeat_delay_minutes: 30, description: null, steps: [{ delay_minutes: 0, targets: [] }] });
  });
  it("keeps a layer's local handoff time and sends hours only for custom rotations", () => {
    const layer = { name: "Primary", rotation: "weekly", shift_hours: 168, start: "2026-12-07T09:00:00", users: ["u1", "u2"],
      restrictions: [{ days: [4, 0], start: "09:00", end: "17:00" }] };
    const draft = layerToDraft(layer);
    expect(draft.start).toBe("2026-12-07T09:00");
    expect(draftToLayer(draft)).toEqual({ ...layer, shift_hours: null, restrictions: [{ days: [0, 4], start: "09:00", end: "17:00" }] });
    expect(draftToLayer({ ...draft, rotation: "custom", shift_hours: "12" }).shift_hours).toBe(12);
  });
});
