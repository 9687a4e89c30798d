import { describe, expect, it } from "vitest";
import { direction, formatMoney, yearlySaving } from "./money";

describe("formatMoney", () => {
  it("reads minor units and drops .00 on whole amounts", () => {
    expect(formatMoney(2900, "usd", "en-US")).toBe("$29");
    expect(formatMoney(1999, "usd", "en-US")).toBe("$19.99");
    expect(formatMoney(29000, "eur", "en-US")).toBe("€290");
    expect(formatMoney(500, "x1", "en-US")).toBe("5.00 X1");
  });
});

describe("plans", () => {
  it("orders tiers free < pro < team < enterprise", () => {
    expect(direction("free", "pro")).toBe(1);
    expect(direction("team", "pro")).toBe(-1);
    expect(direction("team", "team")).toBe(0);
  });
  it("says what paying yearly saves", () => {
    expect(yearlySaving(2900, 29000)).toBe(17);
    expect(yearlySaving(2900, 34800)).toBe(0);
    expect(yearlySaving(0, 0)).toBe(0);
  });
});
