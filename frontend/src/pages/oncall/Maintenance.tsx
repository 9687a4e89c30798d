import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";
import { api, ApiError, unwrap } from "../../api/client";
import { fetchAll, useHeartbeats, useMonitors } from "../../api/queries";
import { formatDateTime } from "../../lib/format";
import { useTitle } from "../../lib/useTitle";
import { Button, Card, Checkbox, Empty, ErrorAlert, Loading, PageHead, StatusBadge, TextArea, TextField } from "../../ui";
import { ConfirmButton } from "../../ui/Dialog";
import type { MaintenanceWindow } from "./data";
import { isTimeZone, splitList, utcToZoned, windowPhase, zonedToUtc, type Phase } from "./logic";

const BROWSER_TZ = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
const ZONES: string[] = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.("timeZone") ?? [];
const PHASES: { phase: Phase; title: string; empty: string }[] = [
  { phase: "active", title: "In force now", empty: "No window is in force." },
  { phase: "upcoming", title: "Upcoming", empty: "Nothing planned." },
  { phase: "past", title: "Past", empty: "No past windows." },
];

function windowBody(w: MaintenanceWindow, patch: { ends_at?: string }) {
  return {
    name: w.name, description: w.description, starts_at: w.starts_at, ends_at: patch.ends_at ?? w.ends_at, cron: w.cron,
    timezone: w.timezone, duration_minutes: w.duration_minutes, monitor_ids: w.monitor_ids, heartbeat_ids: w.heartbeat_ids, tags: w.tags,
  };
}

export function Maintenance() {
  useTitle("Maintenance windows");
  const qc = useQueryClient();
  const monitors = useMonitors();
  const heartbeats = useHeartbeats();
  const windows = useQuery({
    queryKey: ["maintenance-windows"],
    queryFn: () => fetchAll(async (page) => unwrap(await api.GET("/api/v1/maintenance-windows", { params: { query: { page, per_page: 100 } } }))),
    refetchInterval: 60_000,
  });
  const [creating, setCreating] = useState(false);
  const invalidate = () => qc.invalidateQueries({ queryKey: ["maintenance-windows"] });
  const endNow = useMutation({
    mutationFn: async (w: MaintenanceWindow) => unwrap(await api.PUT("/api/v1/maintenance-windows/{window_id}", {
      params: { path: { window_id: w.id } }, body: windowBody(w, { ends_at: new Date().toISOString() }) })),
    onSettled: invalidate,
  });
  const remove = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE("/api/v1/maintenance-windows/{window_id}", { params: { path: { window_id: id } } })),
    onSuccess: invalidate,
  });
  const nameOf = useMemo(() => {
    const names = new Map<string, string>();
    monitors.data?.forEach((m) => names.set(m.id, m.name));
    heartbeats.data?.forEach((h) => names.set(h.id, h.name));
    return (id: string) => names.get(id) ?? id.slice(0, 8);
  }, [monitors.data, heartbeats.data]);
  const scope = (w: MaintenanceWindow) => {
    const parts = [...w.monitor_ids.map(nameOf), ...w.heartbeat_ids.map(nameOf), ...w.tags.map((t) => `tag ${t}`)];
    return parts.length ? parts.join(", ") : "everything in the team";
  };
  const when = (w: MaintenanceWindow) => {
    const occ = w.current_or_next;
    if (w.kind === "recurring") return `${w.cron} (${w.timezone}) for ${w.duration_minutes} min${occ ? ` · ${w.active ? "now until" : "next"} ${formatDateTime(w.active ? occ.ends_at : occ.starts_at)}` : ""}`;
    const span = `${formatDateTime(w.starts_at)} – ${formatDateTime(w.ends_at)}`;
    if (w.timezone === BROWSER_TZ || !w.starts_at || !w.ends_at) return span;
    const wall = (iso: string) => utcToZoned(iso, w.timezone).replace("T", " ");
    return `${span} (${w.timezone}: ${wall(w.starts_at)} – ${wall(w.ends_at)})`;
  };
  return (
    <>
      <PageHead title="Maintenance windows" subtitle="Planned work: alerts of the bound monitors and heartbeats open incidents but page nobody."
        actions={!creating && <Button variant="primary" onClick={() => setCreating(true)}>New window</Button>} />
      <div className="stack">
        {creating && <WindowForm onDone={() => setCreating(false)} />}
        <Card title="Windows">
          {windows.isPending && <Loading />}
          <ErrorAlert error={windows.error || endNow.error || remove.error} />
          {windows.data?.length === 0 && <Empty title="No maintenance windows"><p>Plan one before a deploy or an upgrade so nobody is paged for it.</p></Empty>}
          {!!windows.data?.length && PHASES.map(({ phase, title, empty }) => {
            const list = windows.data.filter((w) => windowPhase(w) === phase);
            return (
              <section key={phase} aria-label={title}>
                <h3 className="phase-title">{title}</h3>
                {list.length === 0 ? <p className="muted">{empty}</p> : (
                  <div className="table-wrap"><table className="table">
                    <caption className="sr-only">{title}</caption>
                    <thead><tr><th scope="col">Window</th><th scope="col">When</th><th scope="col">Covers</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
                    <tbody>{list.map((w) => (
                      <tr key={w.id}>
                        <td><strong>{w.name}</strong> {phase === "active" && <StatusBadge status="active" />}{w.description && <div className="muted">{w.description}</div>}</td>
                        <td>{when(w)}</td>
                        <td>{scope(w)}</td>
                        <td><div className="row row-actions">
                          {phase === "active" && (
                            w.kind === "recurring" ? (
                              <ConfirmButton label="Stop repeating" ariaLabel={`Stop repeating: ${w.name}`} title={`Stop repeating ${w.name}?`}
                                body={`The occurrence in progress runs to its end (${formatDateTime(w.current_or_next?.ends_at)}); no later one starts. To end it now as well, delete the window.`}
                                confirmLabel="Stop repeating" busy={endNow.isPending} onConfirm={() => endNow.mutateAsync(w).catch(() => undefined)} />
                            ) : (
                              <ConfirmButton label="End now" ariaLabel={`End now: ${w.name}`} title={`End ${w.name} now?`}
                                body="Alerts of what it covers page again from now on; a source still failing pages at once."
                                confirmLabel="End now" busy={endNow.isPending} onConfirm={() => endNow.mutateAsync(w).catch(() => undefined)} />
                            )
                          )}
                          <ConfirmButton label={phase === "upcoming" ? "Cancel" : "Delete"} ariaLabel={`${phase === "upcoming" ? "Cancel" : "Delete"} ${w.name}`}
                            title={phase === "upcoming" ? `Cancel ${w.name}?` : `Delete ${w.name}?`}
                            body={phase === "active" ? "Deleting it also ends it now." : "It is removed for good."}
                            confirmLabel={phase === "upcoming" ? "Cancel window" : "Delete window"} busy={remove.isPending}
                            onConfirm={() => remove.mutateAsync(w.id).catch(() => undefined)} />
                        </div></td>
                      </tr>))}</tbody>
                  </table></div>
                )}
              </section>
            );
          })}
        </Card>
      </div>
    </>
  );
}

function WindowForm({ onDone }: { onDone: () => void }) {
  const qc = useQueryClient();
  const monitors = useMonitors();
  const heartbeats = useHeartbeats();
  const [f, setF] = useState(() => {
    const start = new Date(Math.ceil(Date.now() / 3600_000) * 3600_000);
    return {
      name: "", description: "", kind: "once" as "once" | "recurring", timezone: BROWSER_TZ,
      starts: utcToZoned(start, BROWSER_TZ), ends: utcToZoned(new Date(start.getTime() + 2 * 3600_000), BROWSER_TZ),
      cron: "0 2 * * 0", duration: "60", monitors: [] as string[], heartbeats: [] as string[], tags: "",
    };
  });
  const [local, setLocal] = useState<Record<string, string>>({});
  const save = useMutation({
    mutationFn: async () => {
      const once = f.kind === "once";
      const body = {
        name: f.name, description: f.description.trim() || null, timezone: f.timezone,
        starts_at: once ? zonedToUtc(f.starts, f.timezone) : null, ends_at: once ? zonedToUtc(f.ends, f.timezone) : null,
        cron: once ? null : f.cron, duration_minutes: once ? null : Number(f.duration) || null,
        monitor_ids: f.monitors, heartbeat_ids: f.heartbeats, tags: splitList(f.tags),
      };
      return unwrap(await api.POST("/api/v1/maintenance-windows", { body }));
    },
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ["maintenance-windows"] });
      onDone();
    },
  });
  const fields = { ...(save.error instanceof ApiError ? save.error.fields : {}), ...local };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const problems: Record<string, string> = {};
    if (!isTimeZone(f.timezone)) problems.timezone = "unknown time zone (use an IANA name such as Europe/Berlin)";
    setLocal(problems);
    if (!Object.keys(problems).length) save.mutate();
  };
  const toggle = (list: string[], id: string, on: boolean) => (on ? [...list, id] : list.filter((x) => x !== id));
  return (
    <Card title="New maintenance window">
      {save.error && !Object.keys(fields).length ? <ErrorAlert error={save.error} /> : null}
      <form aria-label="New maintenance window" noValidate onSubmit={submit}>
        <div className="grid-2">
          <TextField label="Window name" required value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} error={fields.name} />
          <TextArea label="Description" rows={2} value={f.description} onChange={(e) => setF({ ...f, description: e.target.value })} error={fields.description} />
        </div>
        <fieldset className="days">
          <legend>Kind</legend>
          <div className="check"><input type="radio" id="mw-once" name="mw-kind" checked={f.kind === "once"} onChange={() => setF({ ...f, kind: "once" })} /><label htmlFor="mw-once">One-off</label></div>
          <div className="check"><input type="radio" id="mw-rec" name="mw-kind" checked={f.kind === "recurring"} onChange={() => setF({ ...f, kind: "recurring" })} /><label htmlFor="mw-rec">Recurring (cron)</label></div>
        </fieldset>
        <TextField label="Time zone" list="mw-zones" value={f.timezone} onChange={(e) => setF({ ...f, timezone: e.target.value })} error={fields.timezone}
          hint={f.kind === "once" ? "the start and end below are wall-clock times in this zone" : "the cron runs on this zone's clock (daylight saving included)"} />
        <datalist id="mw-zones">{ZONES.map((z) => <option key={z} value={z} />)}</datalist>
        {f.kind === "once" ? (
          <div className="grid-2">
            <TextField label="Starts" type="datetime-local" value={f.starts} onChange={(e) => setF({ ...f, starts: e.target.value })} error={fields.starts_at} />
            <TextField label="Ends" type="datetime-local" value={f.ends} onChange={(e) => setF({ ...f, ends: e.target.value })} error={fields.ends_at || fields.body} />
          </div>
        ) : (
          <div className="grid-2">
            <TextField label="Cron expression" value={f.cron} onChange={(e) => setF({ ...f, cron: e.target.value })} error={fields.cron}
              hint="minute hour day month weekday, e.g. 0 2 * * 0 (Sundays at 02:00)" />
            <TextField label="Duration (minutes)" type="number" min={1} value={f.duration} onChange={(e) => setF({ ...f, duration: e.target.value })} error={fields.duration_minutes} />
          </div>
        )}
        <p className="muted">Covers what you tick and the tags you name; nothing chosen covers everything in the team.</p>
        <div className="grid-2">
          <fieldset className="scopes">
            <legend>Monitors</legend>
            {monitors.isPending && <Loading />}
            {monitors.data?.length === 0 && <p className="muted">No monitors.</p>}
            {monitors.data?.map((m) => <Checkbox key={m.id} label={m.name} checked={f.monitors.includes(m.id)} onChange={(e) => setF({ ...f, monitors: toggle(f.monitors, m.id, e.target.checked) })} />)}
          </fieldset>
          <fieldset className="scopes">
            <legend>Heartbeats</legend>
            {heartbeats.isPending && <Loading />}
            {heartbeats.data?.length === 0 && <p className="muted">No heartbeats.</p>}
            {heartbeats.data?.map((h) => <Checkbox key={h.id} label={h.name} checked={f.heartbeats.includes(h.id)} onChange={(e) => setF({ ...f, heartbeats: toggle(f.heartbeats, h.id, e.target.checked) })} />)}
          </fieldset>
        </div>
        <TextField label="Tags" hint="comma-separated: also covers sources carrying these tags" value={f.tags} onChange={(e) => setF({ ...f, tags: e.target.value })} error={fields.tags} />
        {fields.body && f.kind !== "once" && <p className="err">{fields.body}</p>}
        <div className="row">
          <Button type="submit" variant="primary" busy={save.isPending}>Create window</Button>
          <Button onClick={onDone}>Cancel</Button>
        </div>
      </form>
    </Card>
  );
}
