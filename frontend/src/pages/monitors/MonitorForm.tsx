import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, ApiError, unwrap } from "../../api/client";
import { useTitle } from "../../lib/useTitle";
import { Button, Card, Checkbox, ErrorAlert, LoadError, Loading, PageHead, SelectField, TextArea, TextField } from "../../ui";
import { EMPTY_MONITOR, formFromMonitor, monitorBody, type Kind, type MonitorFormState } from "./form";

/** Create (`/monitors/new`) or edit (`/monitors/:id/edit`) a monitor of any type, with every option the API has. */
export function MonitorForm() {
  const { id } = useParams();
  const editing = Boolean(id);
  useTitle(editing ? "Edit monitor" : "New monitor");
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [f, setF] = useState<MonitorFormState>(EMPTY_MONITOR);
  const existing = useQuery({
    queryKey: ["monitors", id],
    queryFn: async () => unwrap(await api.GET("/api/v1/monitors/{monitor_id}", { params: { path: { monitor_id: id! } } })),
    enabled: editing,
  });
  const [filled, setFilled] = useState(false);
  useEffect(() => {
    // Filled once: a live update of the monitor's status must not overwrite what is being typed.
    if (existing.data && !filled) {
      setF(formFromMonitor(existing.data as unknown as Record<string, unknown>));
      setFilled(true);
    }
  }, [existing.data, filled]);
  const set = (k: keyof MonitorFormState) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const flag = (k: keyof MonitorFormState) => (e: { target: { checked: boolean } }) => setF({ ...f, [k]: e.target.checked });
  const save = useMutation({
    mutationFn: async () => {
      // The body's shape is chosen by `type` (a discriminated union in the schema).
      const body = monitorBody(f, editing) as never;
      return editing
        ? unwrap(await api.PUT("/api/v1/monitors/{monitor_id}", { params: { path: { monitor_id: id! } }, body }))
        : unwrap(await api.POST("/api/v1/monitors", { body }));
    },
    onSuccess: async (m) => {
      await qc.invalidateQueries({ queryKey: ["monitors"] });
      await qc.invalidateQueries({ queryKey: ["overview"] });
      navigate(`/monitors/${(m as { id: string }).id}`);
    },
  });
  if (editing && existing.isPending) return <Loading />;
  if (editing && existing.isError) return <LoadError error={existing.error} what="Monitor" back="/monitors" backLabel="Monitors" />;
  const fields = save.error instanceof ApiError ? save.error.fields : {};
  const kind = f.type;
  return (
    <>
      {editing && <p><Link to={`/monitors/${id}`}>← {existing.data?.name ?? "Monitor"}</Link></p>}
      <PageHead title={editing ? "Edit monitor" : "New monitor"}
        subtitle="Xinex checks it on a schedule and opens an incident when it fails." />
      <Card>
        <ErrorAlert error={save.error} />
        <form onSubmit={(e: FormEvent) => { e.preventDefault(); save.mutate(); }} noValidate style={{ maxWidth: 620 }}>
          <SelectField label="Type" value={kind} onChange={(e) => setF({ ...f, type: e.target.value as Kind })}
            hint={editing ? "Changing the type drops the old type's settings." : undefined}>
            <option value="http">HTTP(S) request</option>
            <option value="tcp">TCP port</option>
            <option value="dns">DNS record</option>
            <option value="tls">TLS certificate</option>
          </SelectField>
          <TextField label="Name" required value={f.name} onChange={set("name")} error={fields.name} />
          {kind === "http" && <fieldset className="fieldset"><legend>Request</legend>
            <TextField label="URL" type="url" required value={f.url} onChange={set("url")} error={fields.url} />
            <SelectField label="Method" value={f.method} onChange={set("method")}>
              {["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"].map((m) => <option key={m}>{m}</option>)}
            </SelectField>
            <TextArea label="Request headers" value={f.headers} onChange={set("headers")} error={fields.headers} rows={3}
              hint="One per line, as Name: value. Secret values (Authorization, cookies, API keys) come back masked; leave the mask to keep them." />
            <TextArea label="Request body" value={f.body} onChange={set("body")} error={fields.body} rows={3} hint="Optional." />
            <TextField label="Expected status codes" value={f.expected_status} onChange={set("expected_status")} error={fields.expected_status}
              hint="Comma-separated codes (200), ranges (200-299) or classes (2xx); empty means any 2xx." />
            <TextField label="Keyword" value={f.keyword} onChange={set("keyword")} error={fields.keyword} hint="Optional: the body must contain it." />
            <Checkbox label="Alert when the keyword is present instead" checked={f.keyword_absent} onChange={flag("keyword_absent")} />
            <Checkbox label="Follow redirects" checked={f.follow_redirects} onChange={flag("follow_redirects")} />
          </fieldset>}
          {(kind === "tcp" || kind === "tls") && <fieldset className="fieldset"><legend>Target</legend>
            <TextField label="Host" required value={f.host} onChange={set("host")} error={fields.host} />
            <TextField label="Port" type="number" value={f.port} onChange={set("port")} error={fields.port} hint={kind === "tls" ? "Default 443." : undefined} />
            {kind === "tls" && <>
              <TextField label="Warn days before expiry" type="number" value={f.warn_days} onChange={set("warn_days")} error={fields.warn_days} />
              <TextArea label="Trusted CA certificate (PEM)" value={f.ca_pem} onChange={set("ca_pem")} error={fields.ca_pem} rows={3}
                hint="Optional: trust this CA instead of the system's (a private PKI)." />
            </>}
          </fieldset>}
          {kind === "dns" && <fieldset className="fieldset"><legend>Record</legend>
            <TextField label="Hostname" required value={f.hostname} onChange={set("hostname")} error={fields.hostname} />
            <SelectField label="Record type" value={f.record_type} onChange={set("record_type")}>
              {["A", "AAAA", "CNAME", "MX", "TXT", "NS"].map((r) => <option key={r}>{r}</option>)}
            </SelectField>
            <TextField label="Expected value" value={f.expected_value} onChange={set("expected_value")} error={fields.expected_value} hint="Optional." />
            <TextField label="Nameserver" value={f.nameserver} onChange={set("nameserver")} error={fields.nameserver} hint="Optional: the IP address of the resolver to ask." />
            <TextField label="Nameserver port" type="number" value={f.nameserver_port} onChange={set("nameserver_port")} error={fields.nameserver_port} />
          </fieldset>}
          <fieldset className="fieldset"><legend>Schedule and alerting</legend>
            <TextField label="Check every (seconds)" type="number" value={f.interval} onChange={set("interval")} error={fields.interval} />
            <TextField label="Timeout (seconds)" type="number" value={f.timeout} onChange={set("timeout")} error={fields.timeout} />
            <TextField label="Slow above (ms)" type="number" value={f.latency_threshold_ms} onChange={set("latency_threshold_ms")} error={fields.latency_threshold_ms}
              hint="Optional: a slower answer counts as degraded." />
            <TextField label="Failures before down" type="number" value={f.confirmation_period} onChange={set("confirmation_period")} error={fields.confirmation_period}
              hint="Consecutive failed checks before the monitor is down (1–20)." />
            <TextField label="Successes before up" type="number" value={f.recovery_period} onChange={set("recovery_period")} error={fields.recovery_period}
              hint="Consecutive good checks before it is up again (1–20)." />
            <TextField label="Regions" value={f.regions} onChange={set("regions")} error={fields.regions} hint="Comma-separated; empty means this server only." />
            <TextField label="Tags" value={f.tags} onChange={set("tags")} error={fields.tags} hint="Comma-separated." />
            {!editing && <Checkbox label="Start paused" checked={f.paused} onChange={flag("paused")} />}
          </fieldset>
          <div className="row">
            <Button type="submit" variant="primary" busy={save.isPending}>{editing ? "Save changes" : "Create monitor"}</Button>
            <Link className="btn" to={editing ? `/monitors/${id}` : "/monitors"}>Cancel</Link>
          </div>
        </form>
      </Card>
    </>
  );
}
