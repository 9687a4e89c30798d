import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap } from "../../api/client";
import { formatDateTime } from "../../lib/format";
import { Button, Card, Empty, ErrorAlert, Loading, StatusBadge } from "../../ui";
import { Pager } from "../../ui/Pager";

/** Who follows the page (e-mail or webhook subscribers, from its public subscribe form); remove one. */
export function SubscribersList({ pageId }: { pageId: string }) {
  const qc = useQueryClient();
  const [page, setPage] = useState(1);
  const list = useQuery({
    queryKey: ["status-pages", pageId, "subscribers", page],
    queryFn: async () => unwrap(await api.GET("/api/v1/status-pages/{page_id}/subscribers", {
      params: { path: { page_id: pageId }, query: { page, per_page: 50 } } })),
  });
  const remove = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE("/api/v1/status-pages/{page_id}/subscribers/{subscriber_id}", {
      params: { path: { page_id: pageId, subscriber_id: id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["status-pages", pageId, "subscribers"] }),
  });
  return (
    <Card title="Subscribers">
      <p className="muted">Visitors subscribe on the public page (by e-mail, confirmed by a link, or by webhook); incident updates
        published with “Notify subscribers” reach them.</p>
      {list.isPending && <Loading />}
      <ErrorAlert error={list.error || remove.error} />
      {list.data?.items.length === 0 && <Empty title="No subscribers yet" />}
      {!!list.data?.items.length && (
        <div className="table-wrap"><table className="table">
          <caption className="sr-only">Subscribers</caption>
          <thead><tr><th scope="col">Kind</th><th scope="col">Address</th><th scope="col">State</th><th scope="col">Since</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>{list.data.items.map((s) => (
            <tr key={s.id}>
              <td>{s.kind}</td><td className="mono">{s.target}</td>
              <td><StatusBadge status={s.disabled_reason ? "paused" : s.confirmed ? "active" : "pending"} />{s.disabled_reason && <div className="muted">{s.disabled_reason}</div>}</td>
              <td>{formatDateTime(s.created_at)}</td>
              <td><Button size="sm" variant="danger" aria-label={`Remove subscriber ${s.target}`}
                onClick={() => { if (window.confirm(`Remove ${s.target}? They get no more updates.`)) remove.mutate(s.id); }}>Remove</Button></td>
            </tr>))}</tbody>
        </table></div>
      )}
      {list.data && <Pager page={page} totalPages={list.data.total_pages} total={list.data.total} onPage={setPage} label="Subscribers" />}
    </Card>
  );
}
