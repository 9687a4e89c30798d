import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, ApiError, unwrap } from "../../api/client";
import { formatDateTime } from "../../lib/format";
import { Button, Card, Checkbox, Empty, ErrorAlert, Loading, SelectField, StatusBadge, TextArea, TextField } from "../../ui";
import { INCIDENT_STATES, useComponents, usePageIncidents, type IncidentState, type PageIncident } from "./data";

type Impact = PageIncident["impact"];
type ComponentImpact = "degraded" | "partial_outage" | "major_outage";
const IMPACTS: Impact[] = ["none", "minor", "major", "critical"];
const STATE_HELP: Record<IncidentState, string> = {
  investigating: "Investigating: we know something is wrong",
  identified: "Identified: the cause is found",
  monitoring: "Monitoring: a fix is out, we are watching",
  resolved: "Resolved: back to normal",
};

export function IncidentsEditor({ pageId }: { pageId: string }) {
  const qc = useQueryClient();
  const incidents = usePageIncidents(pageId);
  const components = useComponents(pageId);
  const refresh = () => qc.invalidateQueries({ queryKey: ["status-pages", pageId] });
  const [draft, setDraft] = useState({ title: "", status: "investigating" as IncidentState, impact: "minor" as Impact, message: "", notify: false });
  const [affected, setAffected] = useState<Record<string, ComponentImpact>>({});
  const create = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/status-pages/{page_id}/incidents", { params: { path: { page_id: pageId } }, body: {
      ...draft, linked_incident_id: null, components: Object.entries(affected).map(([component_id, impact]) => ({ component_id, impact })) } })),
    onSuccess: async () => {
      setDraft({ title: "", status: "investigating", impact: "minor", message: "", notify: false });
      setAffected({});
      await refresh();
    },
  });
  const fields = create.error instanceof ApiError ? create.error.fields : {};
  const open = (incidents.data?.items ?? []).filter((i) => i.status !== "resolved");
  const closed = (incidents.data?.items ?? []).filter((i) => i.status === "resolved");
  return (
    <div className="stack">
      <Card title="Open incidents">
        {incidents.isPending && <Loading />}
        <ErrorAlert error={incidents.error} />
        {incidents.data && open.length === 0 && <Empty title="No open incidents"><p>Visitors see everything as reported by the components.</p></Empty>}
        {open.map((i) => <IncidentItem key={i.id} pageId={pageId} incident={i} onChange={refresh} />)}
      </Card>
      <Card title="Report an incident">
        {create.error && !Object.keys(fields).length ? <ErrorAlert error={create.error} /> : null}
        <form onSubmit={(e: FormEvent) => { e.preventDefault(); create.mutate(); }} noValidate style={{ maxWidth: 720 }}>
          <TextField label="Incident title" value={draft.title} onChange={(e) => setDraft({ ...draft, title: e.target.value })} error={fields.title}
            placeholder="Elevated error rates on the API" />
          <div className="row" style={{ alignItems: "flex-start" }}>
            <SelectField label="State" value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.target.value as IncidentState })}>
              {INCIDENT_STATES.map((s) => <option key={s} value={s}>{STATE_HELP[s]}</option>)}
            </SelectField>
            <SelectField label="Impact" value={draft.impact} onChange={(e) => setDraft({ ...draft, impact: e.target.value as Impact })}>
              {IMPACTS.map((s) => <option key={s} value={s}>{s}</option>)}
            </SelectField>
          </div>
          <TextArea label="First update" rows={3} value={draft.message} onChange={(e) => setDraft({ ...draft, message: e.target.value })} error={fields.message}
            hint="What visitors read, e.g. “We are investigating failed API requests.”" />
          {!!components.data?.length && (
            <fieldset className="scopes">
              <legend>Affected components</legend>
              {components.data.map((c) => (
                <div key={c.id} className="row">
                  <Checkbox label={c.name} checked={c.id in affected} onChange={(e) => {
                    const next = { ...affected };
                    if (e.target.checked) next[c.id] = "major_outage"; else delete next[c.id];
                    setAffected(next);
                  }} />
                  {c.id in affected && (
                    <div style={{ marginBottom: ".9rem" }}>
                      <label className="sr-only" htmlFor={`impact-${c.id}`}>Impact on {c.name}</label>
                      <select id={`impact-${c.id}`} className="input" value={affected[c.id]}
                        onChange={(e) => setAffected({ ...affected, [c.id]: e.target.value as ComponentImpact })}>
                        <option value="degraded">degraded</option><option value="partial_outage">partial outage</option><option value="major_outage">major outage</option>
                      </select>
                    </div>
                  )}
                </div>
              ))}
            </fieldset>
          )}
          <Checkbox label="Notify subscribers" checked={draft.notify} onChange={(e) => setDraft({ ...draft, notify: e.target.checked })} />
          <Button type="submit" variant="primary" busy={create.isPending} disabled={!draft.title.trim() || !draft.message.trim()}>Publish incident</Button>
        </form>
      </Card>
      {closed.length > 0 && (
        <Card title="Resolved">
          {closed.map((i) => <IncidentItem key={i.id} pageId={pageId} incident={i} onChange={refresh} />)}
        </Card>
      )}
    </div>
  );
}

function IncidentItem({ pageId, incident, onChange }: { pageId: string; incident: PageIncident; onChange: () => void }) {
  const next: IncidentState = incident.status === "investigating" ? "identified" : incident.status === "identified" ? "monitoring" : "resolved";
  const [status, setStatus] = useState<IncidentState>(next);
  const [message, setMessage] = useState("");
  const [notify, setNotify] = useState(false);
  const post = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/status-pages/{page_id}/incidents/{incident_id}/updates", {
      params: { path: { page_id: pageId, incident_id: incident.id } }, body: { status, message, notify } })),
    onSuccess: () => { setMessage(""); onChange(); },
  });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/api/v1/status-pages/{page_id}/incidents/{incident_id}", {
      params: { path: { page_id: pageId, incident_id: incident.id } } })),
    onSuccess: onChange,
  });
  return (
    <article className="card" style={{ marginBottom: "1rem" }} aria-label={`Incident ${incident.title}`}>
      <div className="page-head" style={{ marginBottom: ".5rem" }}>
        <div><h3>{incident.title}</h3><p>impact {incident.impact} · started {formatDateTime(incident.started_at)}
          {incident.resolved_at && ` · resolved ${formatDateTime(incident.resolved_at)}`}</p></div>
        <StatusBadge status={incident.status} />
      </div>
      <ol className="timeline">
        {[...incident.updates].sort((a, b) => Date.parse(b.at) - Date.parse(a.at)).map((u) => (
          <li key={u.id}><strong>{u.status}</strong> <span className="muted">{formatDateTime(u.at)}</span><br />{u.message}</li>
        ))}
      </ol>
      <ErrorAlert error={post.error || remove.error} />
      <form onSubmit={(e: FormEvent) => { e.preventDefault(); post.mutate(); }} noValidate>
        <div className="row" style={{ alignItems: "flex-start" }}>
          <SelectField label={`New state of ${incident.title}`} value={status} onChange={(e) => setStatus(e.target.value as IncidentState)}>
            {INCIDENT_STATES.map((s) => <option key={s} value={s}>{s}</option>)}
          </SelectField>
          <div style={{ flex: 1, minWidth: 240 }}>
            <TextField label={`Update for ${incident.title}`} value={message} onChange={(e) => setMessage(e.target.value)} />
          </div>
        </div>
        <div className="row">
          <Checkbox label={`Notify subscribers of this update to ${incident.title}`} checked={notify} onChange={(e) => setNotify(e.target.checked)} />
        </div>
        <div className="row">
          <Button type="submit" busy={post.isPending} disabled={!message.trim()}>Post update</Button>
          <Button variant="danger" size="sm" busy={remove.isPending}
            onClick={() => { if (window.confirm(`Delete the incident ${incident.title}? Visitors no longer see it.`)) remove.mutate(); }}>Delete incident</Button>
        </div>
      </form>
    </article>
  );
}
