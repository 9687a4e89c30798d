import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, ApiError, unwrap } from "../../api/client";
import { formatDateTime } from "../../lib/format";
import { useTitle } from "../../lib/useTitle";
import { Alert, Button, Card, Checkbox, CopyButton, Empty, ErrorAlert, Loading, StatusBadge, TextField } from "../../ui";
import { Pager } from "../../ui/Pager";

export const EVENT_TYPES = ["monitor.down", "monitor.up", "incident.created", "incident.acknowledged", "incident.resolved",
  "heartbeat.missed", "certificate.expiring", "server.offline", "server.online"] as const;
export type EventType = (typeof EVENT_TYPES)[number] | "*";

/** The event checkboxes: "every event" or a chosen set. */
export function EventPicker({ value, onChange, error }: { value: EventType[]; onChange: (v: EventType[]) => void; error?: string }) {
  const all = value.includes("*");
  const toggle = (e: EventType) => onChange(value.includes(e) ? value.filter((x) => x !== e) : [...value, e]);
  return (
    <fieldset className="scopes">
      <legend>Events</legend>
      <Checkbox label="Every event (also future ones)" checked={all} onChange={() => onChange(all ? [] : ["*"])} />
      {EVENT_TYPES.map((e) => <Checkbox key={e} label={e} disabled={all} checked={all || value.includes(e)} onChange={() => toggle(e)} />)}
      {error && <p className="err">{error}</p>}
    </fieldset>
  );
}

/** A signing secret the server shows once (on creation and rotation). */
export function SecretOnce({ secret, what }: { secret: string; what: string }) {
  return (
    <Alert kind="info">
      <p><strong>Copy the signing secret of {what} now: it is shown only once.</strong> Each delivery is signed
        with it the Standard Webhooks way (<code>webhook-signature</code> header, docs/concepts.md).</p>
      <div className="row"><code className="secret" data-testid="signing-secret">{secret}</code><CopyButton text={secret} label="Copy the signing secret" /></div>
    </Alert>
  );
}

export function Webhooks() {
  useTitle("Webhooks");
  const qc = useQueryClient();
  const [page, setPage] = useState(1);
  const list = useQuery({
    queryKey: ["webhooks", { page }],
    queryFn: async () => unwrap(await api.GET("/api/v1/webhooks", { params: { query: { page, per_page: 25 } } })),
  });
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [events, setEvents] = useState<EventType[]>(["incident.created", "incident.resolved"]);
  const [created, setCreated] = useState<{ url: string; secret: string; id: string } | null>(null);
  const create = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/webhooks", { body: { url, description, event_types: events, enabled: true } })),
    onSuccess: async (w) => {
      setCreated({ url: w.url, secret: w.secret, id: w.id });
      setUrl("");
      setDescription("");
      await qc.invalidateQueries({ queryKey: ["webhooks"] });
    },
  });
  const fields = create.error instanceof ApiError ? create.error.fields : {};
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setCreated(null);
    create.mutate();
  };
  return (
    <div className="stack">
      {created && (
        <>
          <SecretOnce secret={created.secret} what={created.url} />
          <p><Link to={`/settings/webhooks/${created.id}`}>Open the endpoint and send a test →</Link></p>
        </>
      )}
      <Card title="Endpoints">
        <p className="muted">Xinex POSTs a signed JSON body to each endpoint for the events it subscribes to, retrying failures with backoff.</p>
        {list.isPending && <Loading />}
        <ErrorAlert error={list.error} />
        {list.data?.items.length === 0 && <Empty title="No webhook endpoints yet"><p>Add one below.</p></Empty>}
        {!!list.data?.items.length && (
          <div className="table-wrap"><table className="table">
            <caption className="sr-only">Webhook endpoints</caption>
            <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">State</th><th scope="col">Secret</th><th scope="col">Created</th></tr></thead>
            <tbody>{list.data.items.map((w) => (
              <tr key={w.id}>
                <td><Link to={`/settings/webhooks/${w.id}`}>{w.url}</Link>{w.description && <div className="muted">{w.description}</div>}</td>
                <td>{w.event_types.includes("*") ? "every event" : w.event_types.join(", ")}</td>
                <td><StatusBadge status={w.enabled ? "active" : "paused"} />{w.disabled_reason && <div className="muted">{w.disabled_reason}</div>}</td>
                <td className="mono">{w.secret_hint}</td>
                <td>{formatDateTime(w.created_at)}</td>
              </tr>))}</tbody>
          </table></div>
        )}
        {list.data && <Pager page={page} totalPages={list.data.total_pages} total={list.data.total} onPage={setPage} label="Endpoints" />}
      </Card>
      <Card title="New endpoint">
        {create.error && !Object.keys(fields).length ? <ErrorAlert error={create.error} /> : null}
        <form onSubmit={submit} noValidate style={{ maxWidth: 720 }}>
          <TextField label="Endpoint URL" type="url" required value={url} onChange={(e) => setUrl(e.target.value)}
            error={fields.url} hint="HTTPS, reachable from the internet." placeholder="https://example.com/hooks/xinex" />
          <TextField label="Description" value={description} onChange={(e) => setDescription(e.target.value)} error={fields.description} />
          <EventPicker value={events} onChange={setEvents} error={fields.event_types} />
          <Button type="submit" variant="primary" busy={create.isPending} disabled={!events.length}>Add endpoint</Button>
        </form>
      </Card>
    </div>
  );
}
