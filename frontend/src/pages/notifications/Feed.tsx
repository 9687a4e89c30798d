import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import { formatDateTime, timeAgo } from "../../lib/format";
import { useTitle } from "../../lib/useTitle";
import { Button, Card, Checkbox, Empty, ErrorAlert, Loading, PageHead, StatusBadge } from "../../ui";

/** The unread count for the navigation badge (refreshed by the live feed's notification events). */
export function useUnreadCount(enabled: boolean) {
  return useQuery({
    queryKey: ["feed", "unread"],
    queryFn: async () => unwrap(await api.GET("/api/v1/notifications/feed/unread-count")).unread_count,
    enabled,
    refetchInterval: 60_000,
  });
}

export function Feed() {
  useTitle("Notifications");
  const qc = useQueryClient();
  const [unreadOnly, setUnreadOnly] = useState(false);
  const feed = useQuery({
    queryKey: ["feed", { unreadOnly }],
    queryFn: async () => unwrap(await api.GET("/api/v1/notifications/feed", { params: { query: { unread: unreadOnly || undefined, per_page: 100 } } })),
  });
  const invalidate = () => qc.invalidateQueries({ queryKey: ["feed"] });
  const readAll = useMutation({ mutationFn: async () => unwrap(await api.POST("/api/v1/notifications/feed/read-all")), onSuccess: invalidate });
  const read = useMutation({
    mutationFn: async (id: string) => unwrap(await api.POST("/api/v1/notifications/feed/{item_id}/read", { params: { path: { item_id: id } } })),
    onSuccess: invalidate,
  });
  return (
    <>
      <PageHead title="Notifications" subtitle="What Xinex sent you: pages, escalations and resolutions."
        actions={<Button onClick={() => readAll.mutate()} busy={readAll.isPending} disabled={!feed.data?.unread_count}>Mark all as read</Button>} />
      <Card>
        <Checkbox label="Unread only" checked={unreadOnly} onChange={(e) => setUnreadOnly(e.target.checked)} />
        {feed.isPending && <Loading />}
        <ErrorAlert error={feed.error || read.error || readAll.error} />
        {feed.data?.items.length === 0 && <Empty title={unreadOnly ? "Nothing unread" : "No notifications yet"} />}
        {!!feed.data?.items.length && (
          <ul className="stack" style={{ listStyle: "none", padding: 0, gap: ".6rem" }}>
            {feed.data.items.map((n) => (
              <li key={n.id} className="row" style={{ justifyContent: "space-between", opacity: n.read ? 0.75 : 1 }}>
                <span>
                  <StatusBadge status={n.severity} /> <strong>{n.incident_id ? <Link to={`/incidents/${n.incident_id}`}>{n.title}</Link> : n.title}</strong>
                  {!n.read && <span className="sr-only"> (unread)</span>}
                  <br /><span className="muted" title={formatDateTime(n.created_at)}>{n.event} · {timeAgo(n.created_at)}</span>
                </span>
                {!n.read && <Button size="sm" aria-label={`Mark as read: ${n.title}`} onClick={() => read.mutate(n.id)}>Mark as read</Button>}
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}
