import { useMutation, useQueryClient, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, ApiError, unwrap } from "../../api/client";
import { fetchAll, useHeartbeats, useMonitors } from "../../api/queries";
import { useTitle } from "../../lib/useTitle";
import { Button, Card, Checkbox, Empty, ErrorAlert, Loading, PageHead, SelectField, StatusBadge, TextField } from "../../ui";
import { ConfirmButton } from "../../ui/Dialog";
import { useChannels, usePolicies, type RoutingRule } from "./data";
import { describeMatchers, nextPosition, reorderRules, routingOrder, splitList } from "./logic";

const SEVERITIES = ["critical", "error", "warning", "info"] as const;
type Severity = (typeof SEVERITIES)[number];
const SOURCES: Record<string, string> = { "": "Any source", monitor: "Monitors", heartbeat: "Heartbeats", ai_heartbeat: "AI heartbeats", integration: "Integrations (inbound events)" };

function useRules() {
  return useQuery({
    queryKey: ["routing-rules"],
    queryFn: () => fetchAll(async (page) => unwrap(await api.GET("/api/v1/alert-routing-rules", { params: { query: { page, per_page: 100 } } }))),
  });
}

/** The PUT body of a rule as it is, with `patch` applied. */
function bodyOf(r: RoutingRule, patch: Partial<RoutingRule> = {}) {
  const x = { ...r, ...patch };
  return {
    name: x.name, position: x.position, enabled: x.enabled, is_default: x.is_default, source_type: x.source_type,
    source_ids: x.source_ids, tags: x.tags, severities: x.severities as Severity[], host: x.host, service: x.service,
    project: x.project, escalation_policy_id: x.escalation_policy_id, channel_ids: x.channel_ids, auto_resolve: x.auto_resolve,
  };
}

export function RoutingRules() {
  useTitle("Routing rules");
  const qc = useQueryClient();
  const rules = useRules();
  const policies = usePolicies();
  const channels = useChannels();
  const [editing, setEditing] = useState<RoutingRule | "new" | null>(null);
  const invalidate = () => qc.invalidateQueries({ queryKey: ["routing-rules"] });
  const move = useMutation({
    mutationFn: async ({ id, delta }: { id: string; delta: number }) => {
      const all = rules.data ?? [];
      for (const change of reorderRules(all, id, delta)) {
        const rule = all.find((r) => r.id === change.id)!;
        unwrap(await api.PUT("/api/v1/alert-routing-rules/{rule_id}", { params: { path: { rule_id: rule.id } }, body: bodyOf(rule, { position: change.position }) }));
      }
    },
    onSettled: invalidate,
  });
  const remove = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE("/api/v1/alert-routing-rules/{rule_id}", { params: { path: { rule_id: id } } })),
    onSuccess: invalidate,
  });
  const policyName = (id: string | null | undefined) => (id ? policies.data?.find((p) => p.id === id)?.name ?? id.slice(0, 8) : null);
  const channelNames = (ids: string[]) => ids.map((id) => channels.data?.items.find((c) => c.id === id)?.name ?? id.slice(0, 8));
  const ordered = routingOrder(rules.data ?? []);
  const ordinary = ordered.filter((r) => !r.is_default);
  return (
    <>
      <PageHead title="Routing rules" subtitle="Each new incident goes to the first enabled rule that matches it, top to bottom; the default route takes the rest."
        actions={editing === null && <Button variant="primary" onClick={() => setEditing("new")}>New rule</Button>} />
      <div className="stack">
        {editing !== null && (
          <RuleEditor key={editing === "new" ? "new" : editing.id} rule={editing === "new" ? null : editing}
            position={nextPosition(rules.data ?? [])} onDone={() => setEditing(null)} />
        )}
        <Card title="Rules in order">
          {rules.isPending && <Loading />}
          <ErrorAlert error={rules.error || move.error || remove.error} />
          {rules.data && ordinary.length === 0 && (
            <Empty title="No routing rules yet"><p>Every incident takes the default route. Add a rule to send, say, database alerts to the database team.</p></Empty>
          )}
          {ordered.length > 0 && (
            <div className="table-wrap"><table className="table">
              <caption className="sr-only">Routing rules in evaluation order</caption>
              <thead><tr><th scope="col">#</th><th scope="col">Rule</th><th scope="col">Matches</th><th scope="col">Pages</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
              <tbody>{ordered.map((r) => {
                const i = ordinary.indexOf(r);
                const pages = [policyName(r.escalation_policy_id) && `policy ${policyName(r.escalation_policy_id)}`, ...channelNames(r.channel_ids).map((c) => `channel ${c}`)].filter(Boolean);
                return (
                  <tr key={r.id}>
                    <td>{r.is_default ? "last" : i + 1}</td>
                    <td><strong>{r.is_default ? "Default route" : r.name}</strong> {!r.enabled && <StatusBadge status="disabled" />}</td>
                    <td>{describeMatchers(r)}</td>
                    <td>{pages.length ? pages.join(", ") : r.is_default ? "owners and admins" : "nobody"}</td>
                    <td><div className="row row-actions">
                      {!r.is_default && <>
                        <Button size="sm" aria-label={`Move ${r.name} up`} disabled={i === 0 || move.isPending} onClick={() => move.mutate({ id: r.id, delta: -1 })}>↑</Button>
                        <Button size="sm" aria-label={`Move ${r.name} down`} disabled={i === ordinary.length - 1 || move.isPending} onClick={() => move.mutate({ id: r.id, delta: 1 })}>↓</Button>
                      </>}
                      <Button size="sm" aria-label={`Edit ${r.is_default ? "the default route" : r.name}`} onClick={() => setEditing(r)}>Edit</Button>
                      {!r.is_default && (
                        <ConfirmButton label="Delete" ariaLabel={`Delete ${r.name}`} title={`Delete the rule ${r.name}?`}
                          body="Incidents it would have matched take the next matching rule, or the default route."
                          confirmLabel="Delete rule" busy={remove.isPending} onConfirm={() => remove.mutateAsync(r.id).catch(() => undefined)} />
                      )}
                    </div></td>
                  </tr>
                );
              })}</tbody>
            </table></div>
          )}
        </Card>
      </div>
    </>
  );
}

function RuleEditor({ rule, position, onDone }: { rule: RoutingRule | null; position: number; onDone: () => void }) {
  const qc = useQueryClient();
  const policies = usePolicies();
  const channels = useChannels();
  const monitors = useMonitors();
  const heartbeats = useHeartbeats();
  const [f, setF] = useState(() => ({
    name: rule?.name ?? "", enabled: rule?.enabled ?? true, source_type: rule?.source_type ?? "", source_ids: rule?.source_ids ?? [] as string[], tags: rule?.tags.join(", ") ?? "",
    severities: (rule?.severities ?? []) as string[], host: rule?.host ?? "", service: rule?.service ?? "", project: rule?.project ?? "",
    policy: rule?.escalation_policy_id ?? "", channels: rule?.channel_ids ?? [] as string[], auto_resolve: rule?.auto_resolve ?? true,
  }));
  const save = useMutation({
    mutationFn: async () => {
      const body = {
        name: f.name, position: rule?.position ?? position, enabled: f.enabled, is_default: rule?.is_default ?? false,
        source_type: f.source_type || null, source_ids: f.source_ids, tags: splitList(f.tags), severities: f.severities as Severity[],
        host: f.host.trim() || null, service: f.service.trim() || null, project: f.project.trim() || null,
        escalation_policy_id: f.policy || null, channel_ids: f.channels, auto_resolve: f.auto_resolve,
      };
      return rule
        ? unwrap(await api.PUT("/api/v1/alert-routing-rules/{rule_id}", { params: { path: { rule_id: rule.id } }, body }))
        : unwrap(await api.POST("/api/v1/alert-routing-rules", { body }));
    },
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ["routing-rules"] });
      onDone();
    },
  });
  const fields = save.error instanceof ApiError ? save.error.fields : {};
  const isDefault = rule?.is_default ?? false;
  const title = isDefault ? "Edit the default route" : rule ? `Edit ${rule.name}` : "New routing rule";
  return (
    <Card title={title}>
      {save.error && !Object.keys(fields).length ? <ErrorAlert error={save.error} /> : null}
      <form aria-label={title} noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); save.mutate(); }}>
        <TextField label="Rule name" required value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} error={fields.name} />
        <Checkbox label="Enabled" checked={f.enabled} onChange={(e) => setF({ ...f, enabled: e.target.checked })} />
        {!isDefault && (
          <fieldset className="step" style={{ marginBottom: "1rem" }}>
            <legend>Matches incidents with all of</legend>
            <div className="grid-2">
              <SelectField label="Source" value={f.source_type} onChange={(e) => setF({ ...f, source_type: e.target.value, source_ids: [] })} error={fields.source_type}>
                {Object.entries(SOURCES).map(([v, label]) => <option key={v} value={v}>{label}</option>)}
              </SelectField>
              <TextField label="Tags (labels)" hint="comma-separated; the incident must carry every one" value={f.tags}
                onChange={(e) => setF({ ...f, tags: e.target.value })} error={fields.tags} />
              <TextField label="Service" value={f.service} onChange={(e) => setF({ ...f, service: e.target.value })} error={fields.service} />
              <TextField label="Host" value={f.host} onChange={(e) => setF({ ...f, host: e.target.value })} error={fields.host} />
              <TextField label="Project" value={f.project} onChange={(e) => setF({ ...f, project: e.target.value })} error={fields.project} />
            </div>
            {(f.source_type === "monitor" || f.source_type === "heartbeat") && (
              <fieldset className="scopes">
                <legend>Only these {f.source_type}s (none ticked: every one)</legend>
                {(f.source_type === "monitor" ? monitors.data : heartbeats.data)?.map((x) => (
                  <Checkbox key={x.id} label={x.name} checked={f.source_ids.includes(x.id)}
                    onChange={(e) => setF({ ...f, source_ids: e.target.checked ? [...f.source_ids, x.id] : f.source_ids.filter((i) => i !== x.id) })} />
                ))}
                {(f.source_type === "monitor" ? monitors.data : heartbeats.data)?.length === 0 && <p className="muted">None yet.</p>}
                {fields.source_ids && <p className="err">{fields.source_ids}</p>}
              </fieldset>
            )}
            <fieldset className="days">
              <legend>Severity (any of; none ticked: every severity)</legend>
              {SEVERITIES.map((s) => (
                <Checkbox key={s} label={s} checked={f.severities.includes(s)}
                  onChange={(e) => setF({ ...f, severities: e.target.checked ? [...f.severities, s] : f.severities.filter((x) => x !== s) })} />
              ))}
            </fieldset>
          </fieldset>
        )}
        <SelectField label="Escalation policy" value={f.policy} onChange={(e) => setF({ ...f, policy: e.target.value })} error={fields.escalation_policy_id}
          hint={isDefault ? "none: the team's owners and admins are paged" : undefined}>
          <option value="">None</option>
          {policies.data?.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
        </SelectField>
        <fieldset className="scopes">
          <legend>Channels told at once</legend>
          {channels.data?.items.length === 0 && <p className="muted">No channels yet.</p>}
          {channels.data?.items.map((c) => (
            <Checkbox key={c.id} label={c.name} checked={f.channels.includes(c.id)}
              onChange={(e) => setF({ ...f, channels: e.target.checked ? [...f.channels, c.id] : f.channels.filter((x) => x !== c.id) })} />
          ))}
        </fieldset>
        {fields.channel_ids && <p className="err">{fields.channel_ids}</p>}
        <Checkbox label="Resolve the incident when the source recovers" checked={f.auto_resolve} onChange={(e) => setF({ ...f, auto_resolve: e.target.checked })} />
        <div className="row">
          <Button type="submit" variant="primary" busy={save.isPending}>{rule ? "Save rule" : "Create rule"}</Button>
          <Button onClick={onDone}>Cancel</Button>
        </div>
      </form>
    </Card>
  );
}
