import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { api, ApiError, unwrap } from "../../api/client";
import { useAiHeartbeats, useHeartbeats, useMonitors } from "../../api/queries";
import { STATUS_LABEL, type ComponentStatus } from "../../lib/statusPage";
import { Button, Card, Empty, ErrorAlert, Loading, SelectField, StatusBadge, TextField } from "../../ui";
import { componentBody, useComponents, useGroups, type Component, type ComponentIn } from "./data";

type Source = ComponentIn["source_type"];
const SOURCES: [Source, string][] = [["monitor", "Monitor"], ["heartbeat", "Heartbeat"], ["ai_heartbeat", "AI heartbeat"], ["manual", "Manual (set by hand)"]];
const STATUSES = Object.keys(STATUS_LABEL) as ComponentStatus[];

export function ComponentsEditor({ pageId }: { pageId: string }) {
  const qc = useQueryClient();
  const groups = useGroups(pageId);
  const components = useComponents(pageId);
  const monitors = useMonitors();
  const heartbeats = useHeartbeats();
  const ai = useAiHeartbeats();
  const refresh = () => qc.invalidateQueries({ queryKey: ["status-pages", pageId] });
  useEffect(() => {
    // The sources to bind may have been created a moment ago elsewhere (API, CLI): list them fresh.
    for (const key of ["monitors", "heartbeats", "ai-heartbeats"]) void qc.invalidateQueries({ queryKey: [key, "all"] });
  }, [qc]);
  const sourceName = (c: Component) => {
    const list = c.source_type === "monitor" ? monitors.data : c.source_type === "heartbeat" ? heartbeats.data : c.source_type === "ai_heartbeat" ? ai.data : null;
    return list?.find((x) => x.id === c.source_id)?.name ?? c.source_id ?? "";
  };

  const [groupName, setGroupName] = useState("");
  const addGroup = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/status-pages/{page_id}/groups", {
      params: { path: { page_id: pageId } }, body: { name: groupName, position: groups.data?.length ?? 0 } })),
    onSuccess: async () => { setGroupName(""); await refresh(); },
  });
  const removeGroup = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE("/api/v1/status/groups/{group_id}", { params: { path: { group_id: id } } })),
    onSuccess: refresh,
  });

  const [draft, setDraft] = useState({ name: "", group_id: "", source_type: "monitor" as Source, source_id: "", description: "" });
  const addComponent = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/status-pages/{page_id}/components", {
      params: { path: { page_id: pageId } }, body: {
        name: draft.name, description: draft.description || null, group_id: draft.group_id || null, position: components.data?.length ?? 0,
        source_type: draft.source_type, source_id: draft.source_type === "manual" ? null : draft.source_id || null, status_override: null } })),
    onSuccess: async () => { setDraft({ ...draft, name: "", source_id: "", description: "" }); await refresh(); },
  });
  const update = useMutation({
    mutationFn: async ({ c, change }: { c: Component; change: Partial<ComponentIn> }) => unwrap(await api.PUT("/api/v1/status/components/{component_id}", {
      params: { path: { component_id: c.id } }, body: componentBody(c, change) })),
    onSuccess: refresh,
  });
  const removeComponent = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE("/api/v1/status/components/{component_id}", { params: { path: { component_id: id } } })),
    onSuccess: refresh,
  });
  const fields = addComponent.error instanceof ApiError ? addComponent.error.fields : {};
  const choices = draft.source_type === "monitor" ? monitors.data : draft.source_type === "heartbeat" ? heartbeats.data
    : draft.source_type === "ai_heartbeat" ? ai.data : [];

  return (
    <div className="stack">
      <Card title="Components">
        {(components.isPending || groups.isPending) && <Loading />}
        <ErrorAlert error={components.error || groups.error || update.error || removeComponent.error} />
        {components.data?.length === 0 && <Empty title="No components yet"><p>Each component shows one service; bind it to a monitor or heartbeat and its status follows.</p></Empty>}
        {!!components.data?.length && (
          <div className="table-wrap"><table className="table">
            <caption className="sr-only">Components</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Group</th><th scope="col">Shows the status of</th><th scope="col">Status now</th><th scope="col">Pinned status</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>{components.data.map((c) => (
              <tr key={c.id}>
                <td>{c.name}<div className="muted mono">{c.key}</div></td>
                <td>
                  <label className="sr-only" htmlFor={`grp-${c.id}`}>Group of {c.name}</label>
                  <select id={`grp-${c.id}`} className="input" value={c.group_id ?? ""} onChange={(e) => update.mutate({ c, change: { group_id: e.target.value || null } })}>
                    <option value="">no group</option>
                    {groups.data?.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
                  </select>
                </td>
                <td>{c.source_type === "manual" ? "set by hand" : <>{c.source_type.replace("_", " ")} <strong>{sourceName(c)}</strong></>}</td>
                <td><StatusBadge status={STATUS_LABEL[c.status as ComponentStatus] ?? c.status} /></td>
                <td>
                  <label className="sr-only" htmlFor={`pin-${c.id}`}>Pinned status of {c.name}</label>
                  <select id={`pin-${c.id}`} className="input" value={c.status_override ?? ""}
                    onChange={(e) => update.mutate({ c, change: { status_override: (e.target.value || null) as ComponentStatus | null } })}>
                    <option value="">{c.source_type === "manual" ? "operational (default)" : "follow the source"}</option>
                    {STATUSES.map((s) => <option key={s} value={s}>{STATUS_LABEL[s]}</option>)}
                  </select>
                </td>
                <td><Button size="sm" variant="danger" aria-label={`Remove component ${c.name}`}
                  onClick={() => { if (window.confirm(`Remove ${c.name} from the page?`)) removeComponent.mutate(c.id); }}>Remove</Button></td>
              </tr>))}</tbody>
          </table></div>
        )}
        <h3 style={{ marginTop: "1.25rem" }}>Add a component</h3>
        {addComponent.error && !Object.keys(fields).length ? <ErrorAlert error={addComponent.error} /> : null}
        <form onSubmit={(e: FormEvent) => { e.preventDefault(); addComponent.mutate(); }} noValidate>
          <div className="row" style={{ alignItems: "flex-start" }}>
            <TextField label="Component name" value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} error={fields.name} placeholder="Public API" />
            <SelectField label="Group" value={draft.group_id} onChange={(e) => setDraft({ ...draft, group_id: e.target.value })}>
              <option value="">no group</option>
              {groups.data?.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
            </SelectField>
            <SelectField label="Status from" value={draft.source_type} onChange={(e) => setDraft({ ...draft, source_type: e.target.value as Source, source_id: "" })}>
              {SOURCES.map(([v, label]) => <option key={v} value={v}>{label}</option>)}
            </SelectField>
            {draft.source_type !== "manual" && (
              <SelectField label="Source" value={draft.source_id} error={fields.source_id} onChange={(e) => setDraft({ ...draft, source_id: e.target.value })}>
                <option value="">choose…</option>
                {choices?.map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
              </SelectField>
            )}
          </div>
          <TextField label="Component description" value={draft.description} onChange={(e) => setDraft({ ...draft, description: e.target.value })}
            hint="Optional; shown to visitors." />
          <Button type="submit" variant="primary" busy={addComponent.isPending}
            disabled={!draft.name.trim() || (draft.source_type !== "manual" && !draft.source_id)}>Add component</Button>
        </form>
      </Card>
      <Card title="Groups">
        <ErrorAlert error={addGroup.error || removeGroup.error} />
        {groups.data?.length === 0 && <p className="muted">No groups: components are listed together. Groups put related ones under a heading (e.g. “APIs”, “Websites”).</p>}
        {!!groups.data?.length && (
          <ul className="stack" style={{ listStyle: "none", padding: 0, gap: ".35rem" }}>
            {groups.data.map((g) => (
              <li key={g.id} className="row"><strong>{g.name}</strong>
                <span className="muted">{components.data?.filter((c) => c.group_id === g.id).length ?? 0} components</span>
                <Button size="sm" aria-label={`Delete group ${g.name}`} onClick={() => { if (window.confirm(`Delete the group ${g.name}?`)) removeGroup.mutate(g.id); }}>Delete</Button>
              </li>))}
          </ul>
        )}
        <form className="row" style={{ alignItems: "flex-end", marginTop: ".75rem" }} onSubmit={(e: FormEvent) => { e.preventDefault(); addGroup.mutate(); }}>
          <TextField label="Group name" value={groupName} onChange={(e) => setGroupName(e.target.value)} />
          <div className="field"><Button type="submit" busy={addGroup.isPending} disabled={!groupName.trim()}>Add group</Button></div>
        </form>
      </Card>
    </div>
  );
}
