import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { api, ApiError, unwrap } from "../../api/client";
import { useMe } from "../../api/session";
import { useTitle } from "../../lib/useTitle";
import { Alert, Button, Card, Checkbox, ErrorAlert, Loading, SelectField, TextField } from "../../ui";

type Severity = "critical" | "high" | "warning" | "info";
type Medium = "email" | "push" | "feed";
const SEVERITIES: Severity[] = ["critical", "high", "warning", "info"];
const MEDIA: Medium[] = ["email", "push", "feed"];
const MEDIUM_LABEL: Record<Medium, string> = { email: "E-mail", push: "Mobile push", feed: "In-app feed" };

function timeZones(): string[] {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return ["UTC"];
  }
}

export function NotificationPrefs() {
  useTitle("Notification preferences");
  const qc = useQueryClient();
  const me = useMe();
  const prefs = useQuery({
    queryKey: ["notification-prefs"],
    queryFn: async () => unwrap(await api.GET("/api/v1/users/me/notification-prefs")),
  });
  const [rules, setRules] = useState<Record<Severity, Medium[]>>({ critical: [], high: [], warning: [], info: [] });
  const [quiet, setQuiet] = useState({ enabled: false, start: "22:00", end: "07:00", timezone: "UTC" });
  useEffect(() => {
    if (!prefs.data) return;
    const r = prefs.data.rules as Record<string, Medium[]>;
    setRules({ critical: r.critical ?? [], high: r.high ?? [], warning: r.warning ?? [], info: r.info ?? [] });
    const q = prefs.data.quiet_hours;
    setQuiet(q ? { enabled: q.enabled ?? true, start: q.start, end: q.end, timezone: q.timezone ?? "UTC" }
      : { enabled: false, start: "22:00", end: "07:00", timezone: me.data?.timezone || "UTC" });
  }, [prefs.data, me.data?.timezone]);
  const zones = useMemo(() => {
    const all = timeZones();
    return all.includes(quiet.timezone) ? all : [quiet.timezone, ...all];
  }, [quiet.timezone]);
  const save = useMutation({
    mutationFn: async () => unwrap(await api.PUT("/api/v1/users/me/notification-prefs", {
      body: { rules, quiet_hours: quiet.enabled ? quiet : null } })),
    onSuccess: (p) => qc.setQueryData(["notification-prefs"], p),
  });
  const fields = save.error instanceof ApiError ? save.error.fields : {};
  const toggle = (s: Severity, m: Medium) => {
    const has = rules[s].includes(m);
    setRules({ ...rules, [s]: has ? rules[s].filter((x) => x !== m) : [...rules[s], m] });
  };
  if (prefs.isPending) return <Loading />;
  if (prefs.isError) return <ErrorAlert error={prefs.error} />;
  return (
    <form onSubmit={(e: FormEvent) => { e.preventDefault(); save.mutate(); }} noValidate className="stack">
      {save.isSuccess && <Alert kind="ok">Preferences saved.</Alert>}
      {save.error && <ErrorAlert error={save.error} />}
      <Card title="How you are notified">
        <p className="muted">For each urgency, where your pages reach you. These are yours alone; the team's channels
          (Slack, webhooks…) are set under Channels.</p>
        <div className="table-wrap"><table className="table">
          <caption className="sr-only">Media per urgency</caption>
          <thead><tr><th scope="col">Urgency</th>{MEDIA.map((m) => <th scope="col" key={m}>{MEDIUM_LABEL[m]}</th>)}</tr></thead>
          <tbody>{SEVERITIES.map((s) => (
            <tr key={s}>
              <th scope="row" style={{ textTransform: "capitalize" }}>{s}</th>
              {MEDIA.map((m) => (
                <td key={m}>
                  <input type="checkbox" aria-label={`${MEDIUM_LABEL[m]} for ${s}`} checked={rules[s].includes(m)} onChange={() => toggle(s, m)} />
                </td>
              ))}
            </tr>))}</tbody>
        </table></div>
        {rules.critical.length === 0 && <Alert kind="info">Nothing reaches you for critical pages except what your team's channels send.</Alert>}
      </Card>
      <Card title="Quiet hours">
        <p className="muted">During quiet hours only critical pages reach you; pages of lower urgency are held back.</p>
        <Checkbox label="Use quiet hours" checked={quiet.enabled} onChange={(e) => setQuiet({ ...quiet, enabled: e.target.checked })} />
        <div className="row" style={{ alignItems: "flex-start" }}>
          <TextField label="From" type="time" value={quiet.start} disabled={!quiet.enabled} error={fields["quiet_hours.start"]}
            onChange={(e) => setQuiet({ ...quiet, start: e.target.value })} />
          <TextField label="Until" type="time" value={quiet.end} disabled={!quiet.enabled} error={fields["quiet_hours.end"]}
            onChange={(e) => setQuiet({ ...quiet, end: e.target.value })} />
          <SelectField label="Time zone" value={quiet.timezone} disabled={!quiet.enabled} error={fields["quiet_hours.timezone"]}
            onChange={(e) => setQuiet({ ...quiet, timezone: e.target.value })}>
            {zones.map((z) => <option key={z} value={z}>{z}</option>)}
          </SelectField>
        </div>
      </Card>
      <div><Button type="submit" variant="primary" busy={save.isPending}>Save preferences</Button></div>
    </form>
  );
}
