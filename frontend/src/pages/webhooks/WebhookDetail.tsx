import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Fragment, useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, ApiError, unwrap } from "../../api/client";
import type { Item, Ok } from "../../api/endpoints";
import { formatDateTime, formatDuration, timeAgo } from "../../lib/format";
import { useTitle } from "../../lib/useTitle";
import { Alert, Button, Card, Checkbox, Empty, ErrorAlert, Loading, LoadError, SelectField, StatusBadge, TextField } from "../../ui";
import { Pager } from "../../ui/Pager";
import { EventPicker, SecretOnce, type EventType } from "./Webhooks";

type Webhook = Ok<"/api/v1/webhooks/{webhook_id}", "get">;
type Delivery = Item<Ok<"/api/v1/webhooks/{webhook_id}/deliveries", "get">>;
const DELIVERY_STATES = ["pending", "sending", "retrying", "succeeded", "failed"] as const;
type DeliveryState = (typeof DELIVERY_STATES)[number];

const OVERLAPS: [number, string][] = [[0, "none: the old secret stops now"], [3600, "1 hour"], [86400, "24 hours"], [7 * 86400, "7 days"]];

export function WebhookDetail() {
  const { id = "" } = useParams();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const hook = useQuery({
    queryKey: ["webhooks", id],
    queryFn: async () => unwrap(await api.GET("/api/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: id } } })),
  });
  useTitle(hook.data ? `Webhook ${hook.data.url}` : "Webhook");
  const [secret, setSecret] = useState<string | null>(null);
  const [overlap, setOverlap] = useState(86400);
  const rotate = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/webhooks/{webhook_id}/rotate-secret", {
      params: { path: { webhook_id: id } }, body: { overlap_seconds: overlap } })),
    onSuccess: (w) => {
      setSecret(w.secret);
      qc.setQueryData(["webhooks", id], w);
    },
  });
  const test = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/webhooks/{webhook_id}/test", { params: { path: { webhook_id: id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["webhook-deliveries", id] }),
  });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/api/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: id } } })),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ["webhooks"] });
      navigate("/settings/webhooks");
    },
  });
  if (hook.isPending) return <Loading />;
  if (hook.isError) return <LoadError error={hook.error} what="Webhook endpoint" back="/settings/webhooks" backLabel="Webhooks" />;
  const w = hook.data;
  return (
    <div className="stack">
      <p><Link to="/settings/webhooks">← Webhooks</Link></p>
      <h2 className="mono" style={{ wordBreak: "break-all" }}>{w.url}</h2>
      {secret && <SecretOnce secret={secret} what={w.url} />}
      {!w.enabled && w.disabled_reason && <Alert kind="info">Paused: {w.disabled_reason}</Alert>}
      <div className="grid-2">
        <EditWebhook hook={w} />
        <Card title="Signing secret">
          <p>The current secret starts with <code>{w.secret_hint}</code>.
            {w.previous_secret_expires_at && <> The previous one still signs deliveries until {formatDateTime(w.previous_secret_expires_at)}.</>}</p>
          <ErrorAlert error={rotate.error} />
          <SelectField label="Keep the old secret valid for" value={overlap} onChange={(e) => setOverlap(Number(e.target.value))}
            hint="During the overlap each delivery carries both signatures, so receivers can switch without dropping any.">
            {OVERLAPS.map(([s, label]) => <option key={s} value={s}>{label}</option>)}
          </SelectField>
          <Button busy={rotate.isPending} onClick={() => rotate.mutate()}>Rotate secret</Button>
          <hr style={{ margin: "1.25rem 0", border: 0, borderTop: "1px solid var(--border)" }} />
          <h3>Test and delete</h3>
          <ErrorAlert error={test.error || remove.error} />
          {test.data && (
            <Alert kind={test.data.status === "succeeded" ? "ok" : "info"}>
              Test delivery {test.data.status}{test.data.response_code ? ` (HTTP ${test.data.response_code})` : ""}
              {test.data.error ? `: ${test.data.error}` : ""}.
            </Alert>
          )}
          <div className="row">
            <Button busy={test.isPending} onClick={() => test.mutate()}>Send test event</Button>
            <Button variant="danger" busy={remove.isPending}
              onClick={() => { if (window.confirm(`Delete the endpoint ${w.url}? Pending deliveries are dropped.`)) remove.mutate(); }}>
              Delete endpoint
            </Button>
          </div>
        </Card>
      </div>
      <Deliveries webhookId={id} />
    </div>
  );
}

function EditWebhook({ hook }: { hook: Webhook }) {
  const qc = useQueryClient();
  const [url, setUrl] = useState(hook.url);
  const [description, setDescription] = useState(hook.description);
  const [events, setEvents] = useState<EventType[]>(hook.event_types as EventType[]);
  const [enabled, setEnabled] = useState(hook.enabled);
  useEffect(() => {
    setUrl(hook.url);
    setDescription(hook.description);
    setEvents(hook.event_types as EventType[]);
    setEnabled(hook.enabled);
  }, [hook]);
  const save = useMutation({
    mutationFn: async () => unwrap(await api.PUT("/api/v1/webhooks/{webhook_id}", {
      params: { path: { webhook_id: hook.id } }, body: { url, description, event_types: events, enabled } })),
    onSuccess: async (w) => {
      qc.setQueryData(["webhooks", hook.id], w);
      await qc.invalidateQueries({ queryKey: ["webhooks"], exact: false });
    },
  });
  const fields = save.error instanceof ApiError ? save.error.fields : {};
  return (
    <Card title="Endpoint">
      {save.isSuccess && <Alert kind="ok">Saved.</Alert>}
      {save.error && !Object.keys(fields).length ? <ErrorAlert error={save.error} /> : null}
      <form onSubmit={(e: FormEvent) => { e.preventDefault(); save.mutate(); }} noValidate>
        <TextField label="Endpoint URL" type="url" value={url} onChange={(e) => setUrl(e.target.value)} error={fields.url} />
        <TextField label="Description" value={description} onChange={(e) => setDescription(e.target.value)} error={fields.description} />
        <EventPicker value={events} onChange={setEvents} error={fields.event_types} />
        <Checkbox label="Enabled" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        <Button type="submit" variant="primary" busy={save.isPending} disabled={!events.length}>Save endpoint</Button>
      </form>
    </Card>
  );
}

function Deliveries({ webhookId }: { webhookId: string }) {
  const [status, setStatus] = useState<DeliveryState | "">("");
  const [page, setPage] = useState(1);
  const [open, setOpen] = useState<string | null>(null);
  const list = useQuery({
    queryKey: ["webhook-deliveries", webhookId, { status, page }],
    queryFn: async () => unwrap(await api.GET("/api/v1/webhooks/{webhook_id}/deliveries", {
      params: { path: { webhook_id: webhookId }, query: { status: status || undefined, page, per_page: 25 } } })),
    refetchInterval: 10_000,
  });
  return (
    <Card title="Delivery log" actions={
      <SelectField label="Delivery status" value={status} onChange={(e) => { setStatus(e.target.value as DeliveryState | ""); setPage(1); }}>
        <option value="">all</option>
        {DELIVERY_STATES.map((s) => <option key={s} value={s}>{s}</option>)}
      </SelectField>
    }>
      {list.isPending && <Loading />}
      <ErrorAlert error={list.error} />
      {list.data?.items.length === 0 && <Empty title="No deliveries yet"><p>Send a test event, or wait for a subscribed event.</p></Empty>}
      {!!list.data?.items.length && (
        <div className="table-wrap"><table className="table">
          <caption className="sr-only">Deliveries</caption>
          <thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Response</th><th scope="col">Attempts</th><th scope="col">Duration</th><th scope="col">Created</th><th scope="col"><span className="sr-only">Details</span></th></tr></thead>
          <tbody>{list.data.items.map((d) => (
            <Fragment key={d.id}>
              <tr>
                <td className="mono">{d.event_type}{d.is_test && <span className="muted"> (test)</span>}</td>
                <td><StatusBadge status={d.status} />{d.next_attempt_at && d.status === "retrying" && <div className="muted">next try {timeAgo(d.next_attempt_at)}</div>}</td>
                <td>{d.response_code ?? "—"}{d.error && <div className="muted">{d.error}</div>}</td>
                <td>{d.attempts}</td>
                <td>{formatDuration(d.duration_ms)}</td>
                <td>{formatDateTime(d.created_at)}</td>
                <td><Button size="sm" aria-expanded={open === d.id} onClick={() => setOpen(open === d.id ? null : d.id)}
                  aria-label={`${open === d.id ? "Hide" : "Show"} delivery ${d.event_type} of ${formatDateTime(d.created_at)}`}>
                  {open === d.id ? "Hide" : "Show"}</Button></td>
              </tr>
              {open === d.id && <tr><td colSpan={7}><DeliveryBody d={d} /></td></tr>}
            </Fragment>))}</tbody>
        </table></div>
      )}
      {list.data && <Pager page={page} totalPages={list.data.total_pages} total={list.data.total} onPage={setPage} label="Deliveries" />}
    </Card>
  );
}

function DeliveryBody({ d }: { d: Delivery }) {
  return (
    <div className="grid-2">
      <div><h3>Payload</h3><pre className="code">{JSON.stringify(d.payload, null, 2)}</pre></div>
      <div><h3>Response</h3><pre className="code">{d.response_excerpt || d.error || "—"}</pre>
        <p className="muted">Last attempt {formatDateTime(d.last_attempt_at)}; delivered {formatDateTime(d.delivered_at)}.</p></div>
    </div>
  );
}
