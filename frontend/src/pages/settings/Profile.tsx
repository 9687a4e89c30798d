import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { api, ApiError, unwrap } from "../../api/client";
import { ME_KEY, useMe } from "../../api/session";
import { formatDateTime, timeAgo } from "../../lib/format";
import { useTitle } from "../../lib/useTitle";
import { Alert, Button, Card, Checkbox, ErrorAlert, Loading, TextField } from "../../ui";

export function Profile() {
  useTitle("Profile");
  const qc = useQueryClient();
  const me = useMe();
  const [name, setName] = useState("");
  const [timezone, setTimezone] = useState("");
  useEffect(() => {
    if (me.data) {
      setName(me.data.name);
      setTimezone(me.data.timezone);
    }
  }, [me.data]);
  const save = useMutation({
    mutationFn: async () => unwrap(await api.PUT("/api/v1/me", { body: { name, timezone } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ME_KEY }),
  });
  const [pw, setPw] = useState({ current: "", next: "", revoke: false });
  const change = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/auth/password-change", {
      body: { current_password: pw.current, new_password: pw.next, revoke_api_tokens: pw.revoke } })),
    onSuccess: () => setPw({ current: "", next: "", revoke: false }),
  });
  const sessions = useQuery({
    queryKey: ["sessions"],
    queryFn: async () => unwrap(await api.GET("/api/v1/sessions", { params: { query: { per_page: 100 } } })),
  });
  const end = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE("/api/v1/sessions/{session_id}", { params: { path: { session_id: id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["sessions"] }),
  });
  const pwFields = change.error instanceof ApiError ? change.error.fields : {};
  if (me.isPending) return <Loading />;
  return (
    <div className="grid-2">
      <Card title="Profile">
        {save.isSuccess && <Alert kind="ok">Saved.</Alert>}
        <ErrorAlert error={save.error} />
        <form onSubmit={(e: FormEvent) => { e.preventDefault(); save.mutate(); }} noValidate>
          <TextField label="E-mail" value={me.data?.email ?? ""} readOnly hint={me.data?.email_verified ? "Confirmed" : "Not confirmed yet"} />
          <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} />
          <TextField label="Time zone" value={timezone} onChange={(e) => setTimezone(e.target.value)} hint="IANA name, e.g. Europe/Paris" />
          <Button type="submit" variant="primary" busy={save.isPending}>Save profile</Button>
        </form>
      </Card>
      <Card title="Password">
        {change.isSuccess && <Alert kind="ok">Password changed; your other sessions were signed out.</Alert>}
        {change.error && !Object.keys(pwFields).length ? <ErrorAlert error={change.error} /> : null}
        <form onSubmit={(e: FormEvent) => { e.preventDefault(); change.mutate(); }} noValidate>
          <TextField label="Current password" type="password" autoComplete="current-password" value={pw.current}
            onChange={(e) => setPw({ ...pw, current: e.target.value })} error={pwFields.current_password} />
          <TextField label="New password" type="password" autoComplete="new-password" value={pw.next}
            onChange={(e) => setPw({ ...pw, next: e.target.value })} error={pwFields.new_password} hint="At least 10 characters." />
          <Checkbox label="Also revoke all my API tokens" checked={pw.revoke} onChange={(e) => setPw({ ...pw, revoke: e.target.checked })} />
          <Button type="submit" busy={change.isPending}>Change password</Button>
        </form>
      </Card>
      <Card title="Sessions">
        {sessions.isPending && <Loading />}
        <ErrorAlert error={sessions.error || end.error} />
        {!!sessions.data?.items.length && (
          <ul className="stack" style={{ listStyle: "none", padding: 0, gap: ".5rem" }}>
            {sessions.data.items.map((s) => (
              <li key={s.id} className="row" style={{ justifyContent: "space-between" }}>
                <span>{s.user_agent || "browser"}{s.current ? " (this browser)" : ""}<br />
                  <span className="muted">{s.ip} · since {formatDateTime(s.created_at)}, last seen {timeAgo(s.last_seen_at)}</span></span>
                {!s.current && <Button size="sm" onClick={() => end.mutate(s.id)}>Sign out</Button>}
              </li>
            ))}
          </ul>
        )}
      </Card>
    </div>
  );
}
