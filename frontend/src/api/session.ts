import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap, type Schemas } from "./client";

export type Me = Schemas["MeOut"];

export const ME_KEY = ["me"] as const;

/** The signed-in user, or null when the browser has no (valid) session. */
export function useMe() {
  return useQuery<Me | null>({
    queryKey: ME_KEY,
    queryFn: async () => {
      try {
        return unwrap(await api.GET("/api/v1/me"));
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) return null;
        throw err;
      }
    },
    staleTime: 60_000,
    retry: (count, err) => !(err instanceof ApiError) && count < 2,
  });
}

export function useSignOut() {
  const qc = useQueryClient();
  return async () => {
    try {
      await api.POST("/api/v1/auth/logout");
    } finally {
      qc.clear();
      qc.setQueryData(ME_KEY, null);
    }
  };
}
