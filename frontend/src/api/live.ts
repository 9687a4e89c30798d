import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, unwrap } from "./client";

export type LiveState = "connecting" | "open" | "closed";

export interface LiveEvent {
  type: string;
  [key: string]: unknown;
}

/** Which cached queries an event from the feed makes stale. */
export function keysFor(event: LiveEvent): string[][] {
  if (event.type.startsWith("incident.")) return [["incidents"], ["incident"], ["heartbeats"], ["monitors"], ["ai-heartbeats"]];
  if (event.type.startsWith("notification.")) return [["feed"]];
  if (event.type.startsWith("monitor.") || event.type.startsWith("check.")) return [["monitors"]];
  if (event.type.startsWith("heartbeat.")) return [["heartbeats"]];
  return [];
}

export function applyEvent(qc: QueryClient, event: LiveEvent): void {
  for (const key of keysFor(event)) void qc.invalidateQueries({ queryKey: key });
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
        for (const key of [["incidents"], ["heartbeats"], ["monitors"], ["ai-heartbeats"], ["feed"]]) {
          void qc.invalidateQueries({ queryKey: key });
        }
        pinger = window.setInterval(() => socket?.readyState === WebSocket.OPEN && socket.send("ping"), 25_000);
      };
      socket.onmessage = (msg) => {
        try {
          applyEvent(qc, JSON.parse(String(msg.data)) as LiveEvent);
        } catch {
          /* not JSON: ignore */
        }
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
      socket?.close();
    };
  }, [enabled, qc]);
  return state;
}
