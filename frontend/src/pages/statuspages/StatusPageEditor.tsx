import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, ApiError, unwrap } from "../../api/client";
import { formatDateTime } from "../../lib/format";
import { effectiveStatus, grouped, headline, overallStatus, STATUS_LABEL } from "../../lib/statusPage";
import { useTitle } from "../../lib/useTitle";
import { Alert, Button, Card, Checkbox, ErrorAlert, Loading, LoadError, SelectField, TextArea, TextField } from "../../ui";
import { ComponentsEditor } from "./ComponentsEditor";
import { useComponents, useGroups, usePageIncidents, type StatusPage } from "./data";
import { IncidentsEditor } from "./IncidentsEditor";
import { SubscribersList } from "./SubscribersList";
import "./statuspages.css";

const TABS = ["Components", "Incidents", "Subscribers", "Settings", "Preview"] as const;
type Tab = (typeof TABS)[number];

export function StatusPageEditor() {
  const { id = "" } = useParams();
  const page = useQuery({
    queryKey: ["status-pages", id],
    queryFn: async () => unwrap(await api.GET("/api/v1/status-pages/{page_id}", { params: { path: { page_id: id } } })),
  });
  const [tab, setTab] = useState<Tab>("Components");
  useTitle(page.data ? `Status page ${page.data.name}` : "Status page");
  if (page.isPending) return <Loading />;
  if (page.isError) return <LoadError error={page.error} what="Status page" back="/status-pages" backLabel="Status pages" />;
  const p = page.data;
  return (
    <div className="stack">
      <p><Link to="/status-pages">← Status pages</Link></p>
      <div className="page-head" style={{ marginBottom: 0 }}>
        <div><h1>{p.name}</h1><p>{p.visibility} page at <a href={p.public_url} target="_blank" rel="noopener noreferrer" className="mono">{p.public_url}</a></p></div>
        <a className="btn" href={p.public_url} target="_blank" rel="noopener noreferrer">Open the public page</a>
      </div>
      <div className="tabs" role="tablist" aria-label="Status page editor">
        {TABS.map((t) => (
          <button key={t} type="button" role="tab" id={`sp-tab-${t}`} aria-controls={`sp-panel-${t}`} aria-selected={tab === t}
            onClick={() => setTab(t)}>{t}</button>
        ))}
      </div>
      <div role="tabpanel" id={`sp-panel-${tab}`} aria-labelledby={`sp-tab-${tab}`}>
        {tab === "Components" && <ComponentsEditor pageId={p.id} />}
        {tab === "Incidents" && <IncidentsEditor pageId={p.id} />}
        {tab === "Subscribers" && <SubscribersList pageId={p.id} />}
        {tab === "Settings" && <PageSettings page={p} />}
        {tab === "Preview" && <Preview page={p} />}
      </div>
    </div>
  );
}

function PageSettings({ page }: { page: StatusPage }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const initial = () => ({ name: page.name, slug: page.slug, description: page.description ?? "", logo_url: page.logo_url ?? "",
    brand_color: page.brand_color, time_zone: page.time_zone, visibility: page.visibility, password: "",
    custom_domain: page.custom_domain ?? "", show_uptime_bars: page.show_uptime_bars, show_response_times: page.show_response_times,
    show_maintenance: page.show_maintenance, past_incident_days: page.past_incident_days });
  const [form, setForm] = useState(initial);
  useEffect(() => setForm(initial()), [page]); // eslint-disable-line react-hooks/exhaustive-deps
  const save = useMutation({
    mutationFn: async () => unwrap(await api.PUT("/api/v1/status-pages/{page_id}", { params: { path: { page_id: page.id } }, body: {
      ...form, description: form.description || null, logo_url: form.logo_url || null, custom_domain: form.custom_domain || null,
      password: form.visibility === "password" && form.password ? form.password : null } })),
    onSuccess: async (p) => {
      qc.setQueryData(["status-pages", page.id], p);
      await qc.invalidateQueries({ queryKey: ["status-pages"], exact: true });
    },
  });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/api/v1/status-pages/{page_id}", { params: { path: { page_id: page.id } } })),
    onSuccess: async () => {
      qc.removeQueries({ queryKey: ["status-pages", page.id] });
      await qc.invalidateQueries({ queryKey: ["status-pages"] });
      navigate("/status-pages");
    },
  });
  const fields = save.error instanceof ApiError ? save.error.fields : {};
  const set = <K extends keyof ReturnType<typeof initial>>(k: K, v: ReturnType<typeof initial>[K]) => setForm({ ...form, [k]: v });
  return (
    <div className="grid-2">
      <Card title="Page settings">
        {save.isSuccess && <Alert kind="ok">Page saved.</Alert>}
        {save.error && !Object.keys(fields).length ? <ErrorAlert error={save.error} /> : null}
        <form onSubmit={(e: FormEvent) => { e.preventDefault(); save.mutate(); }} noValidate>
          <TextField label="Page name" value={form.name} onChange={(e) => set("name", e.target.value)} error={fields.name} />
          <TextField label="Slug" value={form.slug} onChange={(e) => set("slug", e.target.value)} error={fields.slug} className="input mono" />
          <TextArea label="Description" rows={2} value={form.description} onChange={(e) => set("description", e.target.value)} error={fields.description} />
          <fieldset className="scopes">
            <legend>Branding</legend>
            <TextField label="Logo URL" type="url" value={form.logo_url} onChange={(e) => set("logo_url", e.target.value)} error={fields.logo_url} />
            <TextField label="Brand colour" type="color" value={form.brand_color} onChange={(e) => set("brand_color", e.target.value)}
              error={fields.brand_color} style={{ height: "2.4rem", padding: ".2rem" }} />
            <TextField label="Time zone" value={form.time_zone} onChange={(e) => set("time_zone", e.target.value)} error={fields.time_zone}
              hint="IANA name; dates on the page are shown in it." />
          </fieldset>
          <SelectField label="Visibility" value={form.visibility} error={fields.visibility}
            onChange={(e) => set("visibility", e.target.value as StatusPage["visibility"])}>
            <option value="public">public</option><option value="password">password</option><option value="members">members only</option>
          </SelectField>
          {form.visibility === "password" && (
            <TextField label="Page password" type="password" autoComplete="new-password" value={form.password} error={fields.password}
              onChange={(e) => set("password", e.target.value)} hint={page.has_password ? "Leave empty to keep the current one." : undefined} />
          )}
          <TextField label="Custom domain" value={form.custom_domain} onChange={(e) => set("custom_domain", e.target.value)}
            error={fields.custom_domain} hint={page.cname_instruction ?? "e.g. status.example.com"} />
          <fieldset className="scopes">
            <legend>Sections</legend>
            <Checkbox label="Uptime bars (90 days)" checked={form.show_uptime_bars} onChange={(e) => set("show_uptime_bars", e.target.checked)} />
            <Checkbox label="Response times" checked={form.show_response_times} onChange={(e) => set("show_response_times", e.target.checked)} />
            <Checkbox label="Scheduled maintenance" checked={form.show_maintenance} onChange={(e) => set("show_maintenance", e.target.checked)} />
            <TextField label="Past incidents shown (days)" type="number" min={0} value={form.past_incident_days} error={fields.past_incident_days}
              onChange={(e) => set("past_incident_days", Number(e.target.value))} />
          </fieldset>
          <Button type="submit" variant="primary" busy={save.isPending}>Save page</Button>
        </form>
      </Card>
      <Card title="Delete">
        <p className="muted">Deleting the page removes its components, incidents and subscribers; its address stops working.</p>
        <ErrorAlert error={remove.error} />
        <Button variant="danger" busy={remove.isPending}
          onClick={() => { if (window.confirm(`Delete the status page ${page.name}?`)) remove.mutate(); }}>Delete status page</Button>
      </Card>
    </div>
  );
}

/**
 * The page as visitors see it, drawn here from the editor's data (the public page refuses to be framed, and a
 * password or members-only page would not show in a frame anyway). "Open the public page" shows the real one.
 */
function Preview({ page }: { page: StatusPage }) {
  const groups = useGroups(page.id);
  const components = useComponents(page.id);
  const incidents = usePageIncidents(page.id);
  if (groups.isPending || components.isPending || incidents.isPending) return <Loading />;
  const error = groups.error || components.error || incidents.error;
  if (error) return <ErrorAlert error={error} />;
  const open = (incidents.data?.items ?? []).filter((i) => i.status !== "resolved");
  const comps = (components.data ?? []).map((c) => ({ ...c, shown: effectiveStatus(c, open) }));
  const overall = overallStatus(comps.map((c) => c.shown));
  return (
    <section className="sp-preview" aria-label="Preview" style={{ ["--brand" as string]: page.brand_color }}>
      <header className="sp-preview-head">
        {page.logo_url ? <img src={page.logo_url} alt={`${page.name} logo`} height={32} /> : null}
        <h2>{page.name}</h2>
      </header>
      {page.description && <p className="muted">{page.description}</p>}
      <div className={`sp-overall sp-${overall}`} role="status">{headline(overall)}</div>
      {open.map((i) => (
        <article key={i.id} className="sp-incident">
          <h3>{i.title}</h3>
          <p><strong>{i.status}</strong> — {latest(i.updates)?.message} <span className="muted">({formatDateTime(latest(i.updates)?.at)})</span></p>
        </article>
      ))}
      {comps.length === 0 ? <p className="muted">No components yet: add them on the Components tab.</p> : grouped(groups.data ?? [], comps).map((s) => (
        <div key={s.group?.id ?? "loose"} className="sp-group">
          {s.group && <h3>{s.group.name}</h3>}
          <ul>{s.components.map((c) => (
            <li key={c.id}><span>{c.name}</span><span className={`sp-status sp-${c.shown}`}>{STATUS_LABEL[c.shown]}</span></li>
          ))}</ul>
        </div>
      ))}
      <p className="muted" style={{ marginTop: "1rem" }}>Sections shown on the public page: {[page.show_uptime_bars && "uptime bars",
        page.show_response_times && "response times", page.show_maintenance && "maintenance", `incidents of the past ${page.past_incident_days} days`]
        .filter(Boolean).join(", ")}.</p>
    </section>
  );
}

function latest<U extends { at: string }>(updates: U[]): U | undefined {
  return updates.reduce<U | undefined>((best, u) => (!best || Date.parse(u.at) >= Date.parse(best.at) ? u : best), undefined);
}
