import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, ApiError, unwrap } from "../../api/client";
import { useMembers } from "../../api/members";
import { formatDuration } from "../../lib/format";
import { useTitle } from "../../lib/useTitle";
import { Alert, Button, Card, Checkbox, Empty, ErrorAlert, Loading, PageHead, SelectField, StatusBadge, TextField } from "../../ui";

type Kind = "email" | "slack" | "discord" | "teams" | "webhook" | "push";
const KINDS: Record<Kind, string> = { email: "E-mail", slack: "Slack", discord: "Discord", teams: "Microsoft Teams", webhook: "Webhook (signed)", push: "Mobile push" };

export function Channels() {
  useTitle("Notification channels");
  const qc = useQueryClient();
  const members = useMembers();
  const channels = useQuery({
    queryKey: ["channels"],
    queryFn: async () => unwrap(await api.GET("/api/v1/notification-channels", { params: { query: { per_page: 100 } } })),
  });
  const [kind, setKind] = useState<Kind>("email");
  const [f, setF] = useState({ name: "", target: "", secret: "", isDefault: true });
  const [tested, setTested] = useState<{ name: string; status: string; code: number | null; ms: number | null; error: string | null } | null>(null);
  const create = useMutation({
    mutationFn: async () => {
      const config =
        kind === "email" ? { addresses: f.target.split(",").map((a) => a.trim()).filter(Boolean) }
          : kind === "webhook" ? { url: f.target, ...(f.secret ? { secret: f.secret } : {}) }
            : kind === "push" ? { user_ids: members.data?.items.map((m) => m.user_id) ?? [] }
              : { webhook_url: f.target };
      return unwrap(await api.POST("/api/v1/notification-channels", { body: { name: f.name, kind, config, default: f.isDefault } as never }));
    },
    onSuccess: async () => {
      setF({ name: "", target: "", secret: "", isDefault: true });
      await qc.invalidateQueries({ queryKey: ["channels"] });
    },
  });
  const test = useMutation({
    mutationFn: async ({ id }: { id: string; name: string }) =>
      unwrap(await api.POST("/api/v1/notification-channels/{channel_id}/test", { params: { path: { channel_id: id } } })),
    onSuccess: (a, v) => setTested({ name: v.name, status: a.status, code: a.response_code ?? null, ms: a.duration_ms ?? null, error: a.error ?? null }),
  });
  const remove = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE("/api/v1/notification-channels/{channel_id}", { params: { path: { channel_id: id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["channels"] }),
  });
  const fields = create.error instanceof ApiError ? create.error.fields : {};
  const targetLabel = kind === "email" ? "E-mail addresses" : kind === "webhook" ? "Webhook URL" : kind === "push" ? "" : `${KINDS[kind]} webhook URL`;
  return (
    <>
      <PageHead title="Notification channels" subtitle="Where pages go. Channels on the default route get every alert no routing rule matched." />
      <div className="stack">
        {tested && (
          <Alert kind={tested.status === "failed" || tested.error ? "error" : "ok"}>
            Test to {tested.name}: {tested.status}{tested.code ? ` (HTTP ${tested.code})` : ""}{tested.ms !== null ? ` in ${formatDuration(tested.ms)}` : ""}{tested.error ? ` — ${tested.error}` : ""}
          </Alert>
        )}
        <Card title="Channels">
          {channels.isPending && <Loading />}
          <ErrorAlert error={channels.error || test.error || remove.error} />
          {channels.data?.items.length === 0 && <Empty title="No channels yet"><p>Add one below so incidents reach someone.</p></Empty>}
          {!!channels.data?.items.length && (
            <div className="table-wrap"><table className="table">
              <caption className="sr-only">Notification channels</caption>
              <thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Default route</th><th scope="col">State</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
              <tbody>{channels.data.items.map((c) => (
                <tr key={c.id}>
                  <td>{c.name}</td><td>{KINDS[c.kind as Kind] ?? c.kind}</td><td>{c.default ? "yes" : "no"}</td>
                  <td><StatusBadge status={c.enabled ? "active" : "paused"} /></td>
                  <td className="row">
                    <Button size="sm" aria-label={`Send test to ${c.name}`} busy={test.isPending && test.variables?.id === c.id} onClick={() => test.mutate({ id: c.id, name: c.name })}>Send test</Button>
                    <Button size="sm" variant="danger" aria-label={`Delete ${c.name}`} onClick={() => { if (window.confirm(`Delete ${c.name}?`)) remove.mutate(c.id); }}>Delete</Button>
                  </td>
                </tr>))}</tbody>
            </table></div>
          )}
        </Card>
        <Card title="New channel">
          {create.error && !Object.keys(fields).length ? <ErrorAlert error={create.error} /> : null}
          <form onSubmit={(e: FormEvent) => { e.preventDefault(); create.mutate(); }} noValidate style={{ maxWidth: 560 }}>
            <SelectField label="Kind" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
              {(Object.keys(KINDS) as Kind[]).map((k) => <option key={k} value={k}>{KINDS[k]}</option>)}
            </SelectField>
            <TextField label="Channel name" required value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} error={fields.name} />
            {kind !== "push" ? (
              <TextField label={targetLabel} required value={f.target} onChange={(e) => setF({ ...f, target: e.target.value })}
                error={fields["config.addresses"] || fields["config.url"] || fields["config.webhook_url"] || fields.config}
                hint={kind === "email" ? "Comma-separated." : undefined} />
            ) : <p className="muted">Every member's phones with the Xinex app.</p>}
            {kind === "webhook" && <TextField label="Signing secret" value={f.secret} onChange={(e) => setF({ ...f, secret: e.target.value })} hint="Optional: deliveries are signed with it." />}
            <Checkbox label="On the default route" checked={f.isDefault} onChange={(e) => setF({ ...f, isDefault: e.target.checked })} />
            <Button type="submit" variant="primary" busy={create.isPending}>Add channel</Button>
          </form>
        </Card>
      </div>
    </>
  );
}
