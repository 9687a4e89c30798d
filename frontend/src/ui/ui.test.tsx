// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";
import { safeNext } from "../pages/auth/AuthLayout";
import { overviewRows } from "../pages/Overview";
import { MemoryRouter } from "react-router";
import { ApiError } from "../api/client";
import { Alert, LoadError, StatusBadge, TextField } from ".";

describe("form fields", () => {
  it("are found by their label, with hint and error described", () => {
    render(<TextField label="E-mail" hint="Your work address" error="not an address" defaultValue="x" />);
    const input = screen.getByLabelText("E-mail");
    expect(input).toHaveProperty("value", "x");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    const described = (input.getAttribute("aria-describedby") ?? "").split(" ").map((id) => document.getElementById(id)?.textContent);
    expect(described).toEqual(["Your work address", "not an address"]);
  });
  it("an error alert is announced", () => {
    render(<Alert>Wrong password</Alert>);
    expect(screen.getByRole("alert").textContent).toBe("Wrong password");
  });
  it("status badges carry their tone", () => {
    const { container } = render(<><StatusBadge status="down" /><StatusBadge status="up" /><StatusBadge status="new" /></>);
    expect([...container.querySelectorAll(".badge")].map((b) => b.className))
      .toEqual(["badge badge-bad", "badge badge-ok", "badge"]);
  });
});

describe("sign-in redirects", () => {
  it("only ever go to a path on this site", () => {
    expect(safeNext("/incidents/1")).toBe("/incidents/1");
    expect(safeNext("//evil.example")).toBe("/");
    expect(safeNext("https://evil.example")).toBe("/");
    expect(safeNext("/\\evil.example")).toBe("/");
    expect(safeNext(null)).toBe("/");
  });
});

describe("the overview", () => {
  const hb = (id: string, name: string, status: string) => ({ id, name, status, last_ping_at: null, last_duration_ms: null, uptime_pct: 100, spark: [] });
  const mon = (id: string, name: string, status: string, paused = false) => ({ id, name, type: "http", status, paused, last_checked_at: null,
    last_latency_ms: null, uptime_pct: 99.5, spark: [1, 2, null] });
  it("lists every kind, the worst first", () => {
    const rows = overviewRows({
      heartbeats: [hb("1", "backup", "up"), hb("2", "etl", "down")],
      monitors: [mon("3", "site", "late"), mon("4", "old", "up", true)],
      ai_heartbeats: [{ id: "5", name: "agent", status: "new", last_event_at: null, uptime_pct: null }],
    });
    expect(rows.map((r) => `${r.name}:${r.status}`)).toEqual(["etl:down", "site:late", "agent:new", "backup:up", "old:paused"]);
    expect(rows[0].href).toBe("/heartbeats/2");
    expect(rows.find((r) => r.name === "agent")?.href).toBe("/ai-heartbeats/5");
    expect(rows.find((r) => r.name === "site")).toMatchObject({ uptime: 99.5, spark: [1, 2, null] });
  });
  it("sorts 1,000 monitors with the down ones first", () => {
    const many = Array.from({ length: 1000 }, (_, i) => mon(String(i), `m${i}`, i % 7 ? "up" : "down"));
    const rows = overviewRows({ heartbeats: [], monitors: many, ai_heartbeats: [] });
    expect(rows).toHaveLength(1000);
    expect(rows[0].status).toBe("down");
  });
});

describe("a detail page whose record failed to load", () => {
  beforeEach(cleanup);
  const show = (error: unknown) => render(
    <MemoryRouter><LoadError error={error} what="Incident" back="/incidents" backLabel="Incidents" /></MemoryRouter>);
  it("a malformed id (422) or a missing record (404) is a not-found page with a way back, not the raw message", () => {
    for (const status of [422, 404]) {
      const { unmount } = show(new ApiError(status, { error: "incident_id: Input should be a valid UUID", code: "VALIDATION_FAILED" }));
      expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Incident not found");
      expect(screen.getByRole("link", { name: "← Incidents" }).getAttribute("href")).toBe("/incidents");
      expect(screen.queryByText(/valid UUID/)).toBeNull();
      expect(screen.queryByRole("alert")).toBeNull();
      unmount();
    }
  });
  it("other failures stay an error alert", () => {
    show(new ApiError(503, { error: "The database is unavailable", code: "UNAVAILABLE" }));
    expect(screen.getByRole("alert").textContent).toBe("The database is unavailable");
  });
});
