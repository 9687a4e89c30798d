import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import type { Body, Item, Ok } from "../../api/endpoints";
import { fetchAll } from "../../api/queries";

export type StatusPage = Ok<"/api/v1/status-pages/{page_id}", "get">;
export type Group = Item<Ok<"/api/v1/status-pages/{page_id}/groups", "get">>;
export type Component = Item<Ok<"/api/v1/status-pages/{page_id}/components", "get">>;
export type PageIncident = Item<Ok<"/api/v1/status-pages/{page_id}/incidents", "get">>;
export type ComponentIn = Body<"/api/v1/status/components/{component_id}", "put">;
export type IncidentState = PageIncident["status"];
export const INCIDENT_STATES: IncidentState[] = ["investigating", "identified", "monitoring", "resolved"];

export function useGroups(pageId: string) {
  return useQuery({
    queryKey: ["status-pages", pageId, "groups"],
    queryFn: () => fetchAll(async (page) => unwrap(await api.GET("/api/v1/status-pages/{page_id}/groups", {
      params: { path: { page_id: pageId }, query: { page, per_page: 100 } } }))),
  });
}

export function useComponents(pageId: string) {
  return useQuery({
    queryKey: ["status-pages", pageId, "components"],
    queryFn: () => fetchAll(async (page) => unwrap(await api.GET("/api/v1/status-pages/{page_id}/components", {
      params: { path: { page_id: pageId }, query: { page, per_page: 100 } } }))),
    refetchInterval: 30_000,
  });
}

export function usePageIncidents(pageId: string) {
  return useQuery({
    queryKey: ["status-pages", pageId, "incidents"],
    queryFn: async () => unwrap(await api.GET("/api/v1/status-pages/{page_id}/incidents", {
      params: { path: { page_id: pageId }, query: { per_page: 50 } } })),
  });
}

/** The body that PUT needs to keep a component as it is, with `change` applied. */
export function componentBody(c: Component, change: Partial<ComponentIn>): ComponentIn {
  return { page_id: c.page_id, group_id: c.group_id, name: c.name, description: c.description, position: c.position,
    source_type: c.source_type, source_id: c.source_id, status_override: c.status_override, ...change };
}
