import { useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "./client";

export type Heartbeat = Schemas["HeartbeatOut"];
export type Monitor = Schemas["MonitorOut"];
export type AiHeartbeat = Schemas["AiHeartbeatOut"];
export type Incident = Schemas["IncidentOut"];
export type IncidentDetail = Schemas["IncidentDetail"];

interface Paged<T> { items: T[]; total_pages: number }

/** Every page of a list endpoint (100 a page), up to `maxPages`. */
export async function fetchAll<T>(page: (n: number) => Promise<Paged<T>>, maxPages = 50): Promise<T[]> {
  const first = await page(1);
  const items = [...first.items];
  for (let n = 2; n <= Math.min(first.total_pages, maxPages); n++) items.push(...(await page(n)).items);
  return items;
}

export function useHeartbeats() {
  return useQuery({
    queryKey: ["heartbeats", "all"],
    queryFn: () => fetchAll(async (page) => unwrap(await api.GET("/api/v1/heartbeats", { params: { query: { page, per_page: 100 } } }))),
    refetchInterval: 30_000,
  });
}

export function useMonitors() {
  return useQuery({
    queryKey: ["monitors", "all"],
    queryFn: () => fetchAll(async (page) => unwrap(await api.GET("/api/v1/monitors", { params: { query: { page, per_page: 100 } } }))),
    refetchInterval: 30_000,
  });
}

export function useAiHeartbeats() {
  return useQuery({
    queryKey: ["ai-heartbeats", "all"],
    queryFn: () => fetchAll(async (page) => unwrap(await api.GET("/api/v1/ai-heartbeats", { params: { query: { page, per_page: 100 } } }))),
    refetchInterval: 30_000,
  });
}

export type IncidentStatus = "triggered" | "acknowledged" | "resolved" | "open";

export function useIncidents(status: IncidentStatus[] | null, page = 1) {
  return useQuery({
    queryKey: ["incidents", { status, page }],
    queryFn: async () => unwrap(await api.GET("/api/v1/incidents", {
      params: { query: { status: status ?? undefined, page, per_page: 50 } },
    })),
    refetchInterval: 60_000,
  });
}
