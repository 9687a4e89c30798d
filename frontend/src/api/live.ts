import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, unwrap } from "./client";

const FLUSH_MS = 50;

export type LiveState = "connecting" | "open" | "closed";

export interface LiveEvent {
  type: string;
  [key: string]: unknown;
}

/** Which cached queries an event from the feed makes stale (refetched if on screen). */
export function keysFor(event: LiveEvent): string[][] {
  if (event.type.startsWith("incident.")) return [["incidents"], ["incident"], ["heartbeats"], ["monitors"], ["ai-heartbeats"], ["overview"]];
  if (event.type.startsWith("notification.")) return [["feed"]];
  if (event.type === "heartbeat.updated") {
    return ((event as HeartbeatUpdated).heartbeats ?? []).flatMap((h) => [["heartbeats", h.id, "pings"], ["heartbeats", h.id, "runs"]]);
  }
  if (event.type === "monitor.checked") {
    return ((event as MonitorChecked).monitors ?? []).map((m) => ["monitors", m.id, "checks"]);
  }
  if (event.type.startsWith("monitor.") || event.type.startsWith("check.")) return [["monitors"]];
  if (event.type.startsWith("heartbeat.")) return [["heartbeats"]];
  if (event.type.startsWith("ai_heartbeat.")) return [["ai-heartbeats"]];
  return [];
}

/**
 * The new state of every heartbeat that was pinged or missed a deadline in the last window (the server
 * sends at most one such event per team per 0.2 s, with the latest state of each heartbeat).
 */
export interface HeartbeatUpdated extends LiveEvent {
  type: "heartbeat.updated";
  heartbeats: { id: string; cause: "ping" | "deadline"; ping_kind: string | null; status: string;
    last_ping_at: string | null; last_start_at: string | null; last_duration_ms: number | null;
    late_at: string | null; down_at: string | null; n_pings: number | null }[];
}

/** The status and last result of every monitor checked in the last window. */
export interface MonitorChecked extends LiveEvent {
  type: "monitor.checked";
  monitors: { id: string; status_changed: boolean; status: string; last_checked_at: string | null;
    last_result: string | null; last_latency_ms: number | null; last_status_code: number | null; last_error: string | null }[];
}

type Patch = Record<string, unknown> & { id: string };

/** The latest state per id carried by these events (a later event about one id wins). */
export function statePatches(events: LiveEvent[]): { heartbeats: Map<string, Patch>; monitors: Map<string, Patch> } {
  const heartbeats = new Map<string, Patch>();
  const monitors = new Map<string, Patch>();
  for (const e of events) {
    if (e.type === "heartbeat.updated") {
      for (const state of (e as HeartbeatUpdated).heartbeats ?? []) {
        const { cause: _c, ping_kind: _k, ...h } = state;
        const patch = { ...h } as Patch;
        if (patch.n_pings === null) delete patch.n_pings;
        heartbeats.set(h.id, patch);
      }
    } else if (e.type === "monitor.checked") {
      for (const state of (e as MonitorChecked).monitors ?? []) {
        const { status_changed: _s, ...m } = state;
        monitors.set(m.id, m as Patch);
      }
    }
  }
  return { heartbeats, monitors };
}

/** A cached list (an array, or a page with `items`) with these patches merged into its rows; the same object if none applies. */
export function patchList<T>(data: T, patches: Map<string, Patch>): T {
  const rows = Array.isArray(data) ? data : (data as { items?: unknown })?.items;
  if (!Array.isArray(rows) || patches.size === 0) return data;
  let changed = false;
  const next = rows.map((row: { id?: string }) => {
    const p = row?.id ? patches.get(row.id) : undefined;
    if (!p) return row;
    changed = true;
    return { ...row, ...p };
  });
  if (!changed) return data;
  return (Array.isArray(data) ? next : { ...(data as object), items: next }) as T;
}

/**
 * Apply a batch of events: state events are merged into the cached lists and detail records in place
 * (a thousand pings a second must not refetch a thousand-row list), the rest mark their queries stale.
 */
export function applyEvents(qc: QueryClient, events: LiveEvent[]): void {
  const { heartbeats, monitors } = statePatches(events);
  const merge = (prefix: string, patches: Map<string, Patch>) => {
    if (patches.size === 0) return;
    qc.setQueriesData({ queryKey: [prefix, "all"] }, (old: unknown) => old === undefined ? old : patchList(old, patches));
    for (const [id, p] of patches) {
      qc.setQueryData([prefix, id], (old: unknown) => (old && typeof old === "object" ? { ...old, ...p } : old));
    }
  };
  merge("heartbeats", heartbeats);
  merge("monitors", monitors);
  if (heartbeats.size || monitors.size) {
    qc.setQueriesData({ queryKey: ["overview"] }, (old: unknown) => {
      if (!old || typeof old !== "object") return old;
      const o = old as { heartbeats?: unknown; monitors?: unknown };
      return { ...o, heartbeats: patchList(o.heartbeats, heartbeats), monitors: patchList(o.monitors, monitors) };
    });
  }
  const stale = new Map<string, string[]>();
  for (const e of events) for (const key of keysFor(e)) stale.set(JSON.stringify(key), key);
  for (const key of stale.values()) void qc.invalidateQueries({ queryKey: key });
}

export function applyEvent(qc: QueryClient, event: LiveEvent): void {
  applyEvents(qc, [event]);
}

/** The WebSocket URL on this origin (works behind the dev server's proxy too). */
export function socketUrl(ticket: string, loc: Location = window.location): string {
  const scheme = loc.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${loc.host}/api/v1/ws?token=${encodeURIComponent(ticket)}`;
}

/**
 * The tenant's live feed (incidents, monitors, notifications): a single-use ticket from
 * POST /api/v1/ws/ticket (the session cookie + CSRF), then the socket; reconnects with backoff and
 * refetches what it may have missed.
 */
export function useLiveFeed(enabled: boolean): LiveState {
  const qc = useQueryClient();
  const [state, setState] = useState<LiveState>("connecting");
  useEffect(() => {
    if (!enabled) return;
    let socket: WebSocket | null = null;
    let timer: number | undefined;
    let pinger: number | undefined;
    let attempt = 0;
    let stopped = false;
    let pending: LiveEvent[] = [];
    let flushTimer: number | undefined;
    const flush = () => {
      flushTimer = undefined;
      const batch = pending;
      pending = [];
      applyEvents(qc, batch);
    };

    const connect = async () => {
      setState("connecting");
      try {
        const { ticket } = unwrap(await api.POST("/api/v1/ws/ticket"));
        if (stopped) return;
        socket = new WebSocket(socketUrl(ticket));
      } catch {
        schedule();
        return;
      }
      socket.onopen = () => {
        attempt = 0;
        setState("open");
        // Anything that happened while we were away: refetch the live views.
        for (const key of [["incidents"], ["heartbeats"], ["monitors"], ["ai-heartbeats"], ["feed"], ["overview"]]) {
          void qc.invalidateQueries({ queryKey: key });
        }
        pinger = window.setInterval(() => socket?.readyState === WebSocket.OPEN && socket.send("ping"), 25_000);
      };
      socket.onmessage = (msg) => {
        try {
          pending.push(JSON.parse(String(msg.data)) as LiveEvent);
        } catch {
          return; /* not JSON: ignore */
        }
        // Events that arrive together are applied together: one cache update and one render per burst.
        if (flushTimer === undefined) flushTimer = window.setTimeout(flush, FLUSH_MS);
      };
      socket.onclose = () => {
        window.clearInterval(pinger);
        setState("closed");
        schedule();
      };
    };
    const schedule = () => {
      if (stopped) return;
      attempt += 1;
      timer = window.setTimeout(connect, Math.min(30_000, 500 * 2 ** Math.min(attempt, 6)));
    };
    void connect();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      window.clearInterval(pinger);
      window.clearTimeout(flushTimer);
      socket?.close();
    };
  }, [enabled, qc]);
  return state;
}
