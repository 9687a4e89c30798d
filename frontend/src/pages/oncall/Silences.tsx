import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, ApiError, unwrap } from "../../api/client";
import { fetchAll } from "../../api/queries";
import { formatDateTime } from "../../lib/format";
import { fromLocalInput, toLocalInput } from "../../lib/time";
import { useTitle } from "../../lib/useTitle";
import { Button, Card, Checkbox, Empty, ErrorAlert, Loading, PageHead, SelectField, StatusBadge, TextField } from "../../ui";
import { ConfirmButton } from "../../ui/Dialog";
import type { Silence } from "./data";
import { describeMatchers, silencePhase, splitList } from "./logic";

const SEVERITIES = ["critical", "error", "warning", "info"] as const;
const EXPIRY: Record<string, string> = { "1": "1 hour", "4": "4 hours", "24": "1 day", "168": "1 week", custom: "Until a date…" };

export function Silences() {
  useTitle("Silences");
  const qc = useQueryClient();
  const silences = useQuery({
    queryKey: ["silences"],
    queryFn: () => fetchAll(async (page) => unwrap(await api.GET("/api/v1/silence", { params: { query: { page, per_page: 100 } } }))),
    refetchInterval: 60_000,
  });
  const [creating, setCreating] = useState(false);
  const expire = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE("/api/v1/silence/{silence_id}", { params: { path: { silence_id: id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["silences"] }),
  });
  const now = Date.now();
  const sorted = (silences.data ?? []).slice().sort((a, b) => order(a, now) - order(b, now) || a.ends_at.localeCompare(b.ends_at));
  return (
    <>
      <PageHead title="Silences" subtitle="Mute pages for matching alerts for a while: incidents still open, nobody is paged."
        actions={!creating && <Button variant="primary" onClick={() => setCreating(true)}>New silence</Button>} />
      <div className="stack">
        {creating && <SilenceForm onDone={() => setCreating(false)} />}
        <Card title="Silences">
          {silences.isPending && <Loading />}
          <ErrorAlert error={silences.error || expire.error} />
          {silences.data?.length === 0 && <Empty title="No silences"><p>Silence a noisy service or tag while you fix it.</p></Empty>}
          {sorted.length > 0 && (
            <div className="table-wrap"><table className="table">
              <caption className="sr-only">Silences</caption>
              <thead><tr><th scope="col">Silence</th><th scope="col">State</th><th scope="col">Matches</th><th scope="col">From – until</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
              <tbody>{sorted.map((s) => {
                const phase = silencePhase(s, now);
                return (
                  <tr key={s.id}>
                    <td><strong>{s.name}</strong>{s.comment && <div className="muted">{s.comment}</div>}</td>
                    <td><StatusBadge status={phase === "past" ? "expired" : phase} /></td>
                    <td>{describeMatchers(s)}</td>
                    <td>{formatDateTime(s.starts_at)} – {formatDateTime(s.ends_at)}</td>
                    <td>{phase !== "past" ? (
                      <ConfirmButton label="Expire now" ariaLabel={`Expire now: ${s.name}`} title={`Expire ${s.name} now?`}
                        body="New alerts it matches page people again." confirmLabel="Expire now" busy={expire.isPending}
                        onConfirm={() => expire.mutateAsync(s.id).catch(() => undefined)} />
                    ) : (
                      <ConfirmButton label="Delete" ariaLabel={`Delete ${s.name}`} title={`Delete ${s.name}?`} confirmLabel="Delete"
                        busy={expire.isPending} onConfirm={() => expire.mutateAsync(s.id).catch(() => undefined)} />
                    )}</td>
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

const order = (s: Silence, now: number) => ({ active: 0, upcoming: 1, past: 2 })[silencePhase(s, now)];

function SilenceForm({ onDone }: { onDone: () => void }) {
  const qc = useQueryClient();
  const [f, setF] = useState(() => ({
    name: "", comment: "", tags: "", severities: [] as string[], source_type: "", service: "", host: "", project: "",
    expiry: "4", until: toLocalInput(new Date(Date.now() + 24 * 3600_000)), later: false, starts: toLocalInput(new Date(Date.now() + 3600_000)),
  }));
  const save = useMutation({
    mutationFn: async () => {
      const starts = f.later ? new Date(fromLocalInput(f.starts)) : new Date();
      const ends = f.expiry === "custom" ? fromLocalInput(f.until) : new Date(starts.getTime() + Number(f.expiry) * 3600_000).toISOString();
      return unwrap(await api.POST("/api/v1/silence", { body: {
        name: f.name, comment: f.comment.trim() || null, tags: splitList(f.tags), severities: f.severities as (typeof SEVERITIES)[number][],
        source_type: f.source_type || null, service: f.service.trim() || null, host: f.host.trim() || null, project: f.project.trim() || null,
        starts_at: f.later ? starts.toISOString() : null, ends_at: ends,
      } }));
    },
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ["silences"] });
      onDone();
    },
  });
  const fields = save.error instanceof ApiError ? save.error.fields : {};
  return (
    <Card title="New silence">
      {save.error && !Object.keys(fields).length ? <ErrorAlert error={save.error} /> : null}
      <form aria-label="New silence" noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); save.mutate(); }}>
        <div className="grid-2">
          <TextField label="Silence name" required value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} error={fields.name} />
          <TextField label="Comment" value={f.comment} onChange={(e) => setF({ ...f, comment: e.target.value })} error={fields.comment} hint="why, for the team" />
        </div>
        <fieldset className="step" style={{ marginBottom: "1rem" }}>
          <legend>Matchers (at least one; all must match)</legend>
          {fields.body && <p className="err" role="alert">{fields.body}</p>}
          <div className="grid-2">
            <TextField label="Tags (labels)" hint="comma-separated" value={f.tags} onChange={(e) => setF({ ...f, tags: e.target.value })} error={fields.tags} />
            <SelectField label="Source" value={f.source_type} onChange={(e) => setF({ ...f, source_type: e.target.value })}>
              <option value="">Any source</option><option value="monitor">Monitors</option><option value="heartbeat">Heartbeats</option>
              <option value="ai_heartbeat">AI heartbeats</option><option value="integration">Integrations</option>
            </SelectField>
            <TextField label="Service" value={f.service} onChange={(e) => setF({ ...f, service: e.target.value })} error={fields.service} />
            <TextField label="Host" value={f.host} onChange={(e) => setF({ ...f, host: e.target.value })} error={fields.host} />
            <TextField label="Project" value={f.project} onChange={(e) => setF({ ...f, project: e.target.value })} error={fields.project} />
          </div>
          <fieldset className="days">
            <legend>Severity (any of)</legend>
            {SEVERITIES.map((s) => (
              <Checkbox key={s} label={s} checked={f.severities.includes(s)}
                onChange={(e) => setF({ ...f, severities: e.target.checked ? [...f.severities, s] : f.severities.filter((x) => x !== s) })} />
            ))}
          </fieldset>
        </fieldset>
        <Checkbox label="Start later" checked={f.later} onChange={(e) => setF({ ...f, later: e.target.checked })} />
        {f.later && <TextField label="Starts" type="datetime-local" value={f.starts} onChange={(e) => setF({ ...f, starts: e.target.value })} error={fields.starts_at} />}
        <div className="grid-2">
          <SelectField label="Expires after" value={f.expiry} onChange={(e) => setF({ ...f, expiry: e.target.value })}>
            {Object.entries(EXPIRY).map(([v, label]) => <option key={v} value={v}>{label}</option>)}
          </SelectField>
          {f.expiry === "custom" && <TextField label="Expires at" type="datetime-local" value={f.until} onChange={(e) => setF({ ...f, until: e.target.value })} error={fields.ends_at} />}
        </div>
        {f.expiry !== "custom" && fields.ends_at && <p className="err">{fields.ends_at}</p>}
        <div className="row">
          <Button type="submit" variant="primary" busy={save.isPending}>Create silence</Button>
          <Button onClick={onDone}>Cancel</Button>
        </div>
      </form>
    </Card>
  );
}
