import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, ApiError, unwrap } from "../../api/client";
import { formatDateTime, timeAgo } from "../../lib/format";
import { useTitle } from "../../lib/useTitle";
import { Alert, Button, Card, Checkbox, CopyButton, Empty, ErrorAlert, Loading, TextField } from "../../ui";

const AREAS = ["monitors", "heartbeats", "incidents", "oncall", "notifications", "telemetry", "webhooks", "statuspages", "audit", "tenant"] as const;
type Scope = `${(typeof AREAS)[number]}:${"read" | "write"}` | "*:read" | "*:write";

export function Tokens() {
  useTitle("API tokens");
  const qc = useQueryClient();
  const tokens = useQuery({
    queryKey: ["api-tokens"],
    queryFn: async () => unwrap(await api.GET("/api/v1/api-tokens", { params: { query: { per_page: 100 } } })),
  });
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Set<Scope>>(new Set(["heartbeats:write"]));
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const create = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/api-tokens", { body: { name, scopes: [...scopes] } })),
    onSuccess: async (t) => {
      setCreated({ name: t.name, token: t.token });
      setName("");
      await qc.invalidateQueries({ queryKey: ["api-tokens"] });
    },
  });
  const revoke = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE("/api/v1/api-tokens/{token_id}", { params: { path: { token_id: id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["api-tokens"] }),
  });
  const fields = create.error instanceof ApiError ? create.error.fields : {};
  const toggle = (scope: Scope) => {
    const next = new Set(scopes);
    if (next.has(scope)) next.delete(scope); else next.add(scope);
    setScopes(next);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setCreated(null);
    create.mutate();
  };
  return (
    <div className="stack">
      {created && (
        <Alert kind="info">
          <p><strong>Copy the token “{created.name}” now: it is shown only once.</strong></p>
          <div className="row"><code className="secret" aria-label="New API token">{created.token}</code><CopyButton text={created.token} label="Copy the new token" /></div>
        </Alert>
      )}
      <Card title="New token">
        {create.error && !Object.keys(fields).length ? <ErrorAlert error={create.error} /> : null}
        <form onSubmit={submit} noValidate style={{ maxWidth: 720 }}>
          <TextField label="Token name" required value={name} onChange={(e) => setName(e.target.value)} error={fields.name}
            hint="Where it is used, e.g. “backup server”." />
          <fieldset className="scopes">
            <legend>Scopes</legend>
            {(["*:read", "*:write"] as Scope[]).map((s) => <Checkbox key={s} label={s === "*:read" ? "read everything" : "write everything"} checked={scopes.has(s)} onChange={() => toggle(s)} />)}
            {AREAS.flatMap((a) => (["read", "write"] as const).map((l) => `${a}:${l}` as Scope)).map((s) => (
              <Checkbox key={s} label={s} checked={scopes.has(s)} onChange={() => toggle(s)} />
            ))}
          </fieldset>
          {fields.scopes && <p className="err">{fields.scopes}</p>}
          <Button type="submit" variant="primary" busy={create.isPending} disabled={!scopes.size}>Create token</Button>
        </form>
      </Card>
      <Card title="Tokens">
        {tokens.isPending && <Loading />}
        <ErrorAlert error={tokens.error || revoke.error} />
        {tokens.data?.items.length === 0 && <Empty title="No API tokens" />}
        {!!tokens.data?.items.length && (
          <div className="table-wrap"><table className="table">
            <caption className="sr-only">API tokens</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Scopes</th><th scope="col">Last used</th><th scope="col">Created</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>{tokens.data.items.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td><td className="mono">{t.prefix}…</td><td>{t.scopes.join(", ")}</td>
                <td>{timeAgo(t.last_used_at)}</td><td>{formatDateTime(t.created_at)}</td>
                <td>{t.revoked_at ? <span className="muted">revoked</span> : (
                  <Button size="sm" variant="danger" aria-label={`Revoke ${t.name}`}
                    onClick={() => { if (window.confirm(`Revoke ${t.name}? Scripts using it stop working.`)) revoke.mutate(t.id); }}>Revoke</Button>
                )}</td>
              </tr>))}</tbody>
          </table></div>
        )}
      </Card>
    </div>
  );
}
