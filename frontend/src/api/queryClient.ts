import { MutationCache, QueryCache, QueryClient } from "@tanstack/react-query";
import { ApiError } from "./client";
import { ME_KEY } from "./session";

/** Where a browser without a (valid) session goes, coming back to `path` afterwards. */
export function loginPath(path: string): string {
  return path === "/" ? "/login" : `/login?next=${encodeURIComponent(path)}`;
}

/** A 4xx will not get better by asking again; anything else gets two more tries. */
export function shouldRetry(count: number, err: unknown): boolean {
  return !(err instanceof ApiError && err.status < 500) && count < 2;
}

/**
 * The app's query client. Any 401 from the API while a user is signed in (the session expired or was revoked)
 * clears every cached answer, the user first, and goes to `/login?next=<current path>`, as a first page load
 * without a session does. A 401 while nobody is signed in (a wrong password on /login) is left to the page.
 */
export function makeQueryClient(
  go: (to: string) => void,
  here: () => string = () => window.location.pathname + window.location.search,
): QueryClient {
  const onError = (err: unknown) => {
    if (!(err instanceof ApiError) || err.status !== 401) return;
    if (!client.getQueryData(ME_KEY)) return;
    const back = here();
    client.clear();
    client.setQueryData(ME_KEY, null);
    go(loginPath(back));
  };
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError }),
    mutationCache: new MutationCache({ onError }),
    defaultOptions: {
      queries: { staleTime: 15_000, refetchOnWindowFocus: true, retry: shouldRetry },
    },
  });
  return client;
}
