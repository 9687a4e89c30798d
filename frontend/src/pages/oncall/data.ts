import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { fetchAll } from "../../api/queries";
import type { paths } from "../../api/schema";
import type { Target } from "./logic";

type Ok<P extends keyof paths, M extends keyof paths[P]> =
  paths[P][M] extends { responses: { 200: { content: { "application/json": infer T } } } } ? T : never;
type Item<T> = T extends { items: (infer I)[] } ? I : never;

export type Policy = Item<Ok<"/api/v1/escalation-policies", "get">>;
export type RoutingRule = Item<Ok<"/api/v1/alert-routing-rules", "get">>;
export type Schedule = Item<Ok<"/api/v1/schedules", "get">>;
export type Channel = Item<Ok<"/api/v1/notification-channels", "get">>;
export type MaintenanceWindow = Item<Ok<"/api/v1/maintenance-windows", "get">>;
export type Silence = Item<Ok<"/api/v1/silence", "get">>;

export function usePolicies() {
  return useQuery({
    queryKey: ["escalation-policies"],
    queryFn: () => fetchAll(async (page) => unwrap(await api.GET("/api/v1/escalation-policies", { params: { query: { page, per_page: 100 } } }))),
  });
}

export function useSchedules() {
  return useQuery({
    queryKey: ["schedules"],
    queryFn: async () => unwrap(await api.GET("/api/v1/schedules", { params: { query: { per_page: 100 } } })),
  });
}

export function useChannels() {
  return useQuery({
    queryKey: ["channels"],
    queryFn: async () => unwrap(await api.GET("/api/v1/notification-channels", { params: { query: { per_page: 100 } } })),
  });
}

/** Names a policy target (user, schedule or channel) from the lists at hand; an id prefix until they load. */
export function useTargetNames(nameOfUser: (id: string) => string) {
  const schedules = useSchedules();
  const channels = useChannels();
  return (t: Target) => {
    if (t.type === "user") return nameOfUser(t.id);
    const list: { id: string; name: string }[] = (t.type === "schedule" ? schedules.data?.items : channels.data?.items) ?? [];
    const found = list.find((x) => x.id === t.id);
    return found ? (t.type === "schedule" ? `schedule ${found.name}` : `channel ${found.name}`) : `${t.type} ${t.id.slice(0, 8)}`;
  };
}
