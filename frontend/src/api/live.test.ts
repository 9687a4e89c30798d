import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import { applyEvent, keysFor, socketUrl } from "./live";

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
});
