import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "./client";
import type { paths } from "./schema";

// Types by endpoint rather than by schema name: FastAPI renames a schema when two domains use one name.
type Ok<P extends keyof paths, M extends keyof paths[P]> =
  paths[P][M] extends { responses: { 200: { content: { "application/json": infer T } } } } ? T : never;
type Item<T> = T extends { items: (infer I)[] } ? I : never;

export type Heartbeat = Ok<"/api/v1/heartbeats/{heartbeat_id}", "get">;
export type Monitor = Item<Ok<"/api/v1/monitors", "get">>;
export type AiHeartbeat = Item<Ok<"/api/v1/ai-heartbeats", "get">>;
export type Incident = Item<Ok<"/api/v1/incidents", "get">>;
export type IncidentDetail = Ok<"/api/v1/incidents/{incident_id}", "get">;
export type OverviewData = Ok<"/api/v1/overview", "get">;

interface Paged<T> { items: T[]; total_pages: number }

/** Every page of a list endpoint (100 a page), up to `maxPages`: the first, then the rest side by side. */
export async function fetchAll<T>(page: (n: number) => Promise<Paged<T>>, maxPages = 50): Promise<T[]> {
  const first = await page(1);
  const rest = Array.from({ length: Math.max(0, Math.min(first.total_pages, maxPages) - 1) }, (_, i) => page(i + 2));
  return [...first.items, ...(await Promise.all(rest)).flatMap((p) => p.items)];
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

/** Every heartbeat, AI heartbeat and monitor with uptime and a sparkline, in one request (kept current by the live feed). */
export function useOverview() {
  return useQuery({
    queryKey: ["overview"],
    queryFn: async () => unwrap(await api.GET("/api/v1/overview")),
    refetchInterval: 60_000,
  });
}
