import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { api, ApiError, unwrap } from "../../api/client";
import { useMonitors } from "../../api/queries";
import { formatSeconds, timeAgo } from "../../lib/format";
import { useTitle } from "../../lib/useTitle";
import { Button, Card, Checkbox, Empty, ErrorAlert, Loading, PageHead, SelectField, StatusBadge, TextField } from "../../ui";

export function MonitorList() {
  useTitle("Monitors");
  const monitors = useMonitors();
  return (
    <>
      <PageHead title="Monitors" subtitle="HTTP, TCP, DNS and TLS checks from every region you choose."
        actions={<Link className="btn btn-primary" to="/monitors/new">New monitor</Link>} />
      <Card>
        {monitors.isPending && <Loading />}
        <ErrorAlert error={monitors.error} />
        {monitors.data?.length === 0 && <Empty title="No monitors yet"><p><Link to="/monitors/new">Create your first monitor</Link>.</p></Empty>}
        {!!monitors.data?.length && (
          <div className="table-wrap"><table className="table">
            <caption className="sr-only">Monitors</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Every</th><th scope="col">Latency</th><th scope="col">Last check</th></tr></thead>
            <tbody>{monitors.data.map((m) => (
              <tr key={m.id}>
                <td><Link to={`/monitors/${m.id}`}>{m.name}</Link></td>
                <td className="muted">{m.type.toUpperCase()}</td>
                <td><StatusBadge status={m.paused ? "paused" : m.status} /></td>
                <td className="muted">{formatSeconds(m.interval)}</td>
                <td>{m.last_latency_ms !== null && m.last_latency_ms !== undefined ? `${Math.round(m.last_latency_ms)} ms` : "—"}</td>
                <td className="muted">{timeAgo(m.last_checked_at)}</td>
              </tr>))}</tbody>
          </table></div>
        )}
      </Card>
    </>
  );
}

type Kind = "http" | "tcp" | "dns" | "tls";

export function MonitorForm() {
  useTitle("New monitor");
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [kind, setKind] = useState<Kind>("http");
  const [f, setF] = useState({
    name: "", interval: "60", timeout: "10", regions: "", tags: "", url: "https://", method: "GET", expected_status: "",
    keyword: "", follow_redirects: true, host: "", port: "", hostname: "", record_type: "A", expected_value: "", warn_days: "14",
  });
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const list = (v: string) => v.split(",").map((x) => x.trim()).filter(Boolean);
  const create = useMutation({
    mutationFn: async () => {
      // Empty lists are left out: the server's defaults apply (any 2xx, this server's region).
      const common = { name: f.name, interval: Number(f.interval), timeout: Number(f.timeout), tags: list(f.tags),
        ...(list(f.regions).length ? { regions: list(f.regions) } : {}) };
      const body =
        kind === "http" ? { ...common, type: "http" as const, url: f.url, method: f.method as "GET",
          ...(list(f.expected_status).length ? { expected_status: list(f.expected_status).map(Number) } : {}), keyword: f.keyword || null, follow_redirects: f.follow_redirects }
          : kind === "tcp" ? { ...common, type: "tcp" as const, host: f.host, port: Number(f.port) }
            : kind === "dns" ? { ...common, type: "dns" as const, hostname: f.hostname, record_type: f.record_type as "A", expected_value: f.expected_value || null }
              : { ...common, type: "tls" as const, host: f.host, port: Number(f.port || 443), warn_days: Number(f.warn_days) };
      // The body's shape is chosen by `type` (a discriminated union in the schema).
      return unwrap(await api.POST("/api/v1/monitors", { body: body as never }));
    },
    onSuccess: async (m) => {
      await qc.invalidateQueries({ queryKey: ["monitors"] });
      navigate(`/monitors/${(m as { id: string }).id}`);
    },
  });
  const fields = create.error instanceof ApiError ? create.error.fields : {};
  return (
    <>
      <PageHead title="New monitor" subtitle="Xinex checks it on a schedule and opens an incident when it fails." />
      <Card>
        {create.error && !Object.keys(fields).length ? <ErrorAlert error={create.error} /> : null}
        <form onSubmit={(e: FormEvent) => { e.preventDefault(); create.mutate(); }} noValidate style={{ maxWidth: 560 }}>
          <SelectField label="Type" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
            <option value="http">HTTP(S) request</option>
            <option value="tcp">TCP port</option>
            <option value="dns">DNS record</option>
            <option value="tls">TLS certificate</option>
          </SelectField>
          <TextField label="Name" required value={f.name} onChange={set("name")} error={fields.name} />
          {kind === "http" && <>
            <TextField label="URL" type="url" required value={f.url} onChange={set("url")} error={fields.url} />
            <SelectField label="Method" value={f.method} onChange={set("method")}>
              {["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"].map((m) => <option key={m}>{m}</option>)}
            </SelectField>
            <TextField label="Expected status codes" value={f.expected_status} onChange={set("expected_status")} error={fields.expected_status} hint="Comma-separated; empty means any 2xx." />
            <TextField label="Keyword" value={f.keyword} onChange={set("keyword")} error={fields.keyword} hint="Optional: the body must contain it." />
            <Checkbox label="Follow redirects" checked={f.follow_redirects} onChange={(e) => setF({ ...f, follow_redirects: e.target.checked })} />
          </>}
          {(kind === "tcp" || kind === "tls") && <>
            <TextField label="Host" required value={f.host} onChange={set("host")} error={fields.host} />
            <TextField label="Port" type="number" value={f.port} onChange={set("port")} error={fields.port} hint={kind === "tls" ? "Default 443." : undefined} />
          </>}
          {kind === "tls" && <TextField label="Warn days before expiry" type="number" value={f.warn_days} onChange={set("warn_days")} error={fields.warn_days} />}
          {kind === "dns" && <>
            <TextField label="Hostname" required value={f.hostname} onChange={set("hostname")} error={fields.hostname} />
            <SelectField label="Record type" value={f.record_type} onChange={set("record_type")}>
              {["A", "AAAA", "CNAME", "MX", "TXT", "NS"].map((r) => <option key={r}>{r}</option>)}
            </SelectField>
            <TextField label="Expected value" value={f.expected_value} onChange={set("expected_value")} error={fields.expected_value} hint="Optional." />
          </>}
          <TextField label="Check every (seconds)" type="number" value={f.interval} onChange={set("interval")} error={fields.interval} />
          <TextField label="Timeout (seconds)" type="number" value={f.timeout} onChange={set("timeout")} error={fields.timeout} />
          <TextField label="Regions" value={f.regions} onChange={set("regions")} error={fields.regions} hint="Comma-separated; empty means this server only." />
          <TextField label="Tags" value={f.tags} onChange={set("tags")} error={fields.tags} hint="Comma-separated." />
          <div className="row">
            <Button type="submit" variant="primary" busy={create.isPending}>Create monitor</Button>
            <Link className="btn" to="/monitors">Cancel</Link>
          </div>
        </form>
      </Card>
    </>
  );
}
