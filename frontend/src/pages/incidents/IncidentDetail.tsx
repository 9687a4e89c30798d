import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { useMembers } from "../../api/members";
import { formatDateTime, timeAgo } from "../../lib/format";
import { useTitle } from "../../lib/useTitle";
import { Button, Card, Empty, ErrorAlert, LoadError, Loading, PageHead, StatusBadge } from "../../ui";
import { ReassignButton } from "./Reassign";

export function IncidentDetail() {
  const { id = "" } = useParams();
  const qc = useQueryClient();
  const members = useMembers();
  // Timeline messages name users by id: show their names.
  const named = (text: string) => text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g,
    (id) => (members.data?.items.some((m) => m.user_id === id) ? members.nameOf(id) : id));
  const incident = useQuery({
    queryKey: ["incident", id],
    queryFn: async () => unwrap(await api.GET("/api/v1/incidents/{incident_id}", { params: { path: { incident_id: id } } })),
  });
  useTitle(incident.data?.title ?? "Incident");
  const act = useMutation({
    mutationFn: async (what: "ack" | "resolve") => {
      const params = { path: { incident_id: id } };
      return what === "ack"
        ? unwrap(await api.POST("/api/v1/incidents/{incident_id}/ack", { params }))
        : unwrap(await api.POST("/api/v1/incidents/{incident_id}/resolve", { params }));
    },
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ["incident", id] });
      await qc.invalidateQueries({ queryKey: ["incidents"] });
    },
  });
  if (incident.isPending) return <Loading />;
  if (incident.isError) return <LoadError error={incident.error} what="Incident" back="/incidents" backLabel="Incidents" />;
  const i = incident.data;
  return (
    <>
      <p><Link to="/incidents">← Incidents</Link></p>
      <PageHead title={i.title} subtitle={<><StatusBadge status={i.status} /> {i.severity} · opened {timeAgo(i.opened_at)}</>}
        actions={<>
          {i.status === "triggered" && <Button variant="primary" busy={act.isPending} onClick={() => act.mutate("ack")}>Acknowledge</Button>}
          {i.status !== "resolved" && <ReassignButton incidentId={i.id} />}
          {i.status !== "resolved" && <Button busy={act.isPending} onClick={() => act.mutate("resolve")}>Resolve</Button>}
        </>} />
      <ErrorAlert error={act.error} />
      <div className="grid-2">
        <Card title="Timeline">
          {i.timeline.length === 0 ? <Empty title="No entries yet" /> : (
            <ol className="timeline" aria-label="Timeline">
              {i.timeline.map((t) => (
                <li key={t.id}>
                  <div><strong>{t.kind}</strong> — {named(t.message)}</div>
                  <div className="muted" title={formatDateTime(t.at)}>{formatDateTime(t.at)} · {t.actor_type}</div>
                </li>
              ))}
            </ol>
          )}
        </Card>
        <div className="stack">
          <Card title="Details">
            <dl className="props">
              <dt>Status</dt><dd><StatusBadge status={i.status} /></dd>
              <dt>Severity</dt><dd>{i.severity}</dd>
              <dt>Source</dt><dd>{i.source_type}{i.source_type === "heartbeat" && i.source_id ? <> · <Link to={`/heartbeats/${i.source_id}`}>open heartbeat</Link></> : null}</dd>
              <dt>Opened</dt><dd>{formatDateTime(i.opened_at)}</dd>
              <dt>Escalation</dt><dd>{i.escalation_policy?.name ? String(i.escalation_policy.name) : "—"}</dd>
              <dt>Acknowledged</dt><dd>{formatDateTime(i.acknowledged_at)}</dd>
              <dt>Resolved</dt><dd>{formatDateTime(i.resolved_at)}{i.resolve_reason ? ` (${i.resolve_reason})` : ""}</dd>
              <dt>Alerts</dt><dd>{i.alert_count}</dd>
              <dt>Dedup key</dt><dd className="mono">{i.dedup_key}</dd>
            </dl>
          </Card>
          <Card title="Pages sent">
            {i.pages.length === 0 ? <p className="muted">Nobody was paged.</p> : (
              <ul>{i.pages.map((p) => <li key={p.id}>{p.event} → {p.target_type === "user" && p.target_id ? members.nameOf(p.target_id) : p.target_type} ({p.status}, {p.attempts} attempt{p.attempts === 1 ? "" : "s"})</li>)}</ul>
            )}
          </Card>
        </div>
      </div>
    </>
  );
}
