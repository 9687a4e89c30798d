import { useQuery } from "@tanstack/react-query";
import { Fragment, useEffect, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { formatDateTime } from "../../lib/format";
import { useTitle } from "../../lib/useTitle";
import { Button, Card, Empty, ErrorAlert, Loading, StatusBadge, TextField } from "../../ui";
import { Pager } from "../../ui/Pager";

/** The areas whose actions the log records (the action filter matches by prefix, e.g. "monitor." or "auth.login"). */
const AREAS = ["auth", "user", "member", "invitation", "api_token", "tenant", "sso", "oauth", "billing", "monitor", "heartbeat",
  "ai_heartbeat", "incident", "notification_channel", "notification_prefs", "webhook", "integration", "status_page",
  "maintenance_window", "silence", "annotation", "account"];

export function AuditLog() {
  useTitle("Audit log");
  const [params, setParams] = useSearchParams();
  const action = params.get("action") ?? "";
  const page = Math.max(1, Number(params.get("page")) || 1);
  const [draft, setDraft] = useState(action);
  const [open, setOpen] = useState<string | null>(null);
  useEffect(() => setDraft(action), [action]);
  const log = useQuery({
    queryKey: ["audit-log", { action, page }],
    queryFn: async () => unwrap(await api.GET("/api/v1/audit-log", { params: { query: { action: action || undefined, page, per_page: 50 } } })),
    placeholderData: (prev) => prev,
  });
  const go = (next: { action?: string; page?: number }) => {
    const q = new URLSearchParams();
    const a = next.action ?? action;
    if (a) q.set("action", a);
    if ((next.page ?? 1) > 1) q.set("page", String(next.page));
    setParams(q);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    go({ action: draft.trim(), page: 1 });
  };
  return (
    <Card title="Audit log">
      <p className="muted">Who did what in this team: sign-ins, changes to settings, monitors, members and tokens. Newest first.</p>
      <form className="row" onSubmit={submit} role="search" aria-label="Filter the audit log" style={{ alignItems: "flex-end" }}>
        <TextField label="Action starts with" list="audit-areas" value={draft} onChange={(e) => setDraft(e.target.value)}
          placeholder="e.g. auth.login or monitor." />
        <datalist id="audit-areas">{AREAS.map((a) => <option key={a} value={`${a}.`} />)}</datalist>
        <div className="field"><Button type="submit">Filter</Button></div>
        {action && <div className="field"><Button onClick={() => go({ action: "", page: 1 })}>Clear filter</Button></div>}
      </form>
      {log.isPending && <Loading />}
      <ErrorAlert error={log.error} />
      {log.data?.items.length === 0 && <Empty title={action ? `No events matching “${action}”` : "No events yet"} />}
      {!!log.data?.items.length && (
        <div className="table-wrap"><table className="table">
          <caption className="sr-only">Audit events</caption>
          <thead><tr><th scope="col">When</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Outcome</th><th scope="col">From</th><th scope="col"><span className="sr-only">Details</span></th></tr></thead>
          <tbody>{log.data.items.map((ev) => (
            <Fragment key={ev.id}>
              <tr>
                <td>{formatDateTime(ev.created_at)}</td>
                <td>{ev.actor_label ?? ev.actor_type}{ev.actor_label && ev.actor_type !== "user" && <div className="muted">{ev.actor_type}</div>}</td>
                <td className="mono">{ev.action}</td>
                <td>{ev.target_type ?? "—"}{ev.target_id && <div className="muted mono">{ev.target_id}</div>}</td>
                <td><StatusBadge status={ev.outcome} /></td>
                <td>{ev.ip ?? "—"}</td>
                <td>{Object.keys(ev.details ?? {}).length > 0 && (
                  <Button size="sm" aria-expanded={open === ev.id} onClick={() => setOpen(open === ev.id ? null : ev.id)}
                    aria-label={`Details of ${ev.action} at ${formatDateTime(ev.created_at)}`}>Details</Button>)}</td>
              </tr>
              {open === ev.id && (
                <tr><td colSpan={7}>
                  <pre className="code">{JSON.stringify(ev.details, null, 2)}</pre>
                  {ev.user_agent && <p className="muted">{ev.user_agent}</p>}
                </td></tr>
              )}
            </Fragment>))}</tbody>
        </table></div>
      )}
      {log.data && <Pager page={page} totalPages={log.data.total_pages} total={log.data.total} onPage={(p) => go({ page: p })} label="Audit log" />}
    </Card>
  );
}
