import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "./client";

/** The tenant's members, and a way to name a user id. */
export function useMembers() {
  const q = useQuery({
    queryKey: ["members"],
    queryFn: async () => unwrap(await api.GET("/api/v1/members", { params: { query: { per_page: 100 } } })),
    staleTime: 60_000,
  });
  const nameOf = (userId: string | null | undefined) => {
    if (!userId) return "nobody";
    const m = q.data?.items.find((x) => x.user_id === userId);
    return m ? m.name || m.email : userId.slice(0, 8);
  };
  return { ...q, nameOf };
}
