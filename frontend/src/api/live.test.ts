import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import { applyEvent, applyEvents, keysFor, patchList, socketUrl, type LiveEvent } from "./live";

describe("the live feed", () => {
  it("opens the socket on this origin with the ticket", () => {
    expect(socketUrl("tkt_a+b", { protocol: "https:", host: "x.example" } as Location))
      .toBe("wss://x.example/api/v1/ws?token=tkt_a%2Bb");
    expect(socketUrl("t", { protocol: "http:", host: "127.0.0.1:8000" } as Location))
      .toBe("ws://127.0.0.1:8000/api/v1/ws?token=t");
  });
  it("an incident event makes incidents and statuses stale; unknown events nothing", () => {
    expect(keysFor({ type: "incident.triggered" })).toContainEqual(["incidents"]);
    expect(keysFor({ type: "notification.created" })).toEqual([["feed"]]);
    expect(keysFor({ type: "hello" })).toEqual([]);
  });
  it("invalidates the cached incident list", () => {
    const qc = new QueryClient();
    qc.setQueryData(["incidents", { status: ["open"] }], { items: [] });
    applyEvent(qc, { type: "incident.acknowledged" });
    expect(qc.getQueryState(["incidents", { status: ["open"] }])?.isInvalidated).toBe(true);
  });
  it("merges pings into the cached list and detail without refetching the list", () => {
    const qc = new QueryClient();
    const list = [{ id: "a", name: "a", status: "up", last_ping_at: null }, { id: "b", name: "b", status: "up", last_ping_at: null }];
    qc.setQueryData(["heartbeats", "all"], list);
    qc.setQueryData(["heartbeats", "a"], { id: "a", name: "a", status: "up", n_pings: 1 });
    qc.setQueryData(["heartbeats", "a", "pings"], { items: [] });
    const ping = (status: string, at: string, n: number | null): LiveEvent => ({ type: "heartbeat.updated", heartbeats: [{
      id: "a", cause: "ping", ping_kind: "success", status, last_ping_at: at, last_start_at: null, last_duration_ms: null,
      late_at: null, down_at: null, n_pings: n }] });
    applyEvents(qc, [ping("up", "2026-12-05T03:00:00Z", 2), ping("down", "2026-12-05T03:00:01Z", 3)]);
    const after = qc.getQueryData<typeof list>(["heartbeats", "all"])!;
    expect(after[0]).toMatchObject({ name: "a", status: "down", last_ping_at: "2026-12-05T03:00:01Z" });
    expect(after[1]).toBe(list[1]); // untouched rows keep their identity (no re-render)
    expect(qc.getQueryData(["heartbeats", "a"])).toMatchObject({ name: "a", status: "down", n_pings: 3 });
    expect(qc.getQueryState(["heartbeats", "all"])?.isInvalidated).toBe(false);
    expect(qc.getQueryState(["heartbeats", "a", "pings"])?.isInvalidated).toBe(true);
  });
  it("merges check results into monitors and the overview summary", () => {
    const qc = new QueryClient();
    qc.setQueryData(["monitors", "all"], [{ id: "m", status: "up", paused: false }]);
    qc.setQueryData(["overview"], { heartbeats: [], monitors: [{ id: "m", status: "up" }], ai_heartbeats: [] });
    applyEvent(qc, { type: "monitor.checked", monitors: [{ id: "m", status_changed: true, status: "down",
      last_checked_at: "2026-12-05T03:00:00Z", last_result: "down", last_latency_ms: 3, last_status_code: 500, last_error: "HTTP 500" }] });
    expect(qc.getQueryData<{ status: string }[]>(["monitors", "all"])![0].status).toBe("down");
    expect(qc.getQueryData<{ monitors: { status: string }[] }>(["overview"])!.monitors[0].status).toBe("down");
  });
  it("patchList keeps the same object when nothing applies", () => {
    const page = { items: [{ id: "x" }], total: 1 };
    expect(patchList(page, new Map([["y", { id: "y", status: "up" }]]))).toBe(page);
    expect(patchList(page, new Map([["x", { id: "x", status: "up" }]]))).toEqual({ items: [{ id: "x", status: "up" }], total: 1 });
  });
});
