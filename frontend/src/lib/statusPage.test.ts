import { describe, expect, it } from "vitest";
import { effectiveStatus, grouped, headline, overallStatus, slugify } from "./statusPage";

describe("overallStatus", () => {
  it("is the worst component status, maintenance below any trouble", () => {
    expect(overallStatus([])).toBe("operational");
    expect(overallStatus(["operational", "maintenance"])).toBe("maintenance");
    expect(overallStatus(["maintenance", "degraded", "operational"])).toBe("degraded");
    expect(overallStatus(["partial_outage", "major_outage", "degraded"])).toBe("major_outage");
    expect(headline("operational")).toBe("All systems operational");
    expect(headline("partial_outage")).toBe("Partial outage");
  });
});

describe("grouped", () => {
  it("puts loose components first, then groups by position with their components by position and name", () => {
    const groups = [{ id: "g2", name: "Backend", position: 2 }, { id: "g1", name: "Frontend", position: 1 }, { id: "g3", name: "Empty", position: 3 }];
    const components = [
      { name: "API", group_id: "g2", position: 0 }, { name: "Auth", group_id: "g2", position: 0 },
      { name: "Web", group_id: "g1", position: 0 }, { name: "Status", group_id: null, position: 0 },
      { name: "Orphan", group_id: "gone", position: 0 }, { name: "DB", group_id: "g2", position: -1 },
    ];
    const out = grouped(groups, components);
    expect(out.map((s) => [s.group?.name ?? null, s.components.map((c) => c.name)])).toEqual([
      [null, ["Orphan", "Status"]], ["Frontend", ["Web"]], ["Backend", ["DB", "API", "Auth"]], ["Empty", []],
    ]);
  });
});

describe("slugify", () => {
  it("makes a URL slug of a name", () => {
    expect(slugify("  Acme Café — Status! ")).toBe("acme-cafe-status");
    expect(slugify("***")).toBe("");
  });
});

describe("effectiveStatus", () => {
  const incidents = [
    { status: "monitoring", components: [{ component_id: "a", impact: "partial_outage" }] },
    { status: "resolved", components: [{ component_id: "b", impact: "major_outage" }] },
  ];
  it("takes the worst of the component's status and its open incidents' impacts; a pinned status stands", () => {
    expect(effectiveStatus({ id: "a", status: "degraded", status_override: null }, incidents)).toBe("partial_outage");
    expect(effectiveStatus({ id: "b", status: "operational", status_override: null }, incidents)).toBe("operational");
    expect(effectiveStatus({ id: "a", status: "degraded", status_override: "degraded" }, incidents)).toBe("degraded");
  });
});
