import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { api, ApiError, unwrap } from "../../api/client";
import { useMembers } from "../../api/members";
import { formatDateTime } from "../../lib/format";
import { addDays, dayFraction, fromLocalInput, startOfDay, toLocalInput } from "../../lib/time";
import { useTitle } from "../../lib/useTitle";
import { Button, Card, CopyButton, Empty, ErrorAlert, LoadError, Loading, PageHead, SelectField, TextField } from "../../ui";
import { Layers } from "./Layers";

const COLORS = ["#2449c9", "#a34d00", "#047857", "#be185d", "#6d28d9", "#0e7490", "#4d7c0f"];

export function ScheduleDetail() {
  const { id = "" } = useParams();
  const qc = useQueryClient();
  const members = useMembers();
  const [weekStart, setWeekStart] = useState(() => startOfDay(new Date()));
  const schedule = useQuery({
    queryKey: ["schedules", id],
    queryFn: async () => unwrap(await api.GET("/api/v1/schedules/{schedule_id}", { params: { path: { schedule_id: id } } })),
  });
  useTitle(schedule.data?.name ?? "Schedule");
  const now = useQuery({
    queryKey: ["oncall", id, "now"],
    queryFn: async () => unwrap(await api.GET("/api/v1/schedules/{schedule_id}/oncall", { params: { path: { schedule_id: id } } })),
    refetchInterval: 60_000,
  });
  const shifts = useQuery({
    queryKey: ["oncall", id, "shifts", weekStart.toISOString()],
    queryFn: async () => unwrap(await api.GET("/api/v1/schedules/{schedule_id}/shifts", { params: {
      path: { schedule_id: id }, query: { from: weekStart.toISOString(), to: addDays(weekStart, 7).toISOString() } } })),
  });
  const overrides = useQuery({
    queryKey: ["oncall", id, "overrides"],
    queryFn: async () => unwrap(await api.GET("/api/v1/schedules/{schedule_id}/overrides", { params: { path: { schedule_id: id }, query: { per_page: 100 } } })),
  });
  const [ov, setOv] = useState(() => ({ user_id: "", starts_at: toLocalInput(new Date()), ends_at: toLocalInput(new Date(Date.now() + 4 * 3600_000)) }));
  const invalidate = () => qc.invalidateQueries({ queryKey: ["oncall", id] });
  const addOverride = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/schedules/{schedule_id}/overrides", { params: { path: { schedule_id: id } },
      body: { user_id: ov.user_id, starts_at: fromLocalInput(ov.starts_at), ends_at: fromLocalInput(ov.ends_at) } })),
    onSuccess: invalidate,
  });
  const removeOverride = useMutation({
    mutationFn: async (overrideId: string) => unwrap(await api.DELETE("/api/v1/schedules/{schedule_id}/overrides/{override_id}", {
      params: { path: { schedule_id: id, override_id: overrideId } } })),
    onSuccess: invalidate,
  });
  const colorOf = useMemo(() => {
    const ids = members.data?.items.map((m) => m.user_id) ?? [];
    return (userId: string) => COLORS[Math.max(0, ids.indexOf(userId)) % COLORS.length];
  }, [members.data]);
  const next = useMemo(() => {
    const t = Date.now();
    return shifts.data?.shifts.find((s) => Date.parse(s.start) > t && s.user_id !== now.data?.user_id) ?? null;
  }, [shifts.data, now.data]);
  const fields = addOverride.error instanceof ApiError ? addOverride.error.fields : {};
  const ical = `${window.location.origin}/api/v1/schedules/${id}/ical`;

  if (schedule.isPending) return <Loading />;
  if (schedule.isError) return <LoadError error={schedule.error} what="Schedule" back="/oncall" backLabel="Schedules" />;
  const days = Array.from({ length: 7 }, (_, i) => addDays(weekStart, i));
  return (
    <>
      <p><Link to="/oncall">← Schedules</Link></p>
      <PageHead title={schedule.data.name} subtitle={`Time zone ${schedule.data.timezone} · ${schedule.data.layers.length} layer(s)`} />
      <div className="grid-stats" style={{ marginBottom: "1rem" }}>
        <div className="stat" aria-label="On call now"><div className="label">On call now</div>
          <div className="num" data-testid="oncall-now">{now.isPending ? "…" : members.nameOf(now.data?.user_id)}</div>
          <div className="label">{now.data?.source === "override" ? "by override" : now.data?.source ?? ""}</div></div>
        <div className="stat"><div className="label">Next</div>
          <div className="num">{next ? members.nameOf(next.user_id) : "—"}</div>
          <div className="label">{next ? `from ${formatDateTime(next.start)}` : ""}</div></div>
      </div>
      <div className="stack">
        <Card title="Calendar" actions={<>
          <Button size="sm" onClick={() => setWeekStart(addDays(weekStart, -7))}>Previous week</Button>
          <Button size="sm" onClick={() => setWeekStart(startOfDay(new Date()))}>Today</Button>
          <Button size="sm" onClick={() => setWeekStart(addDays(weekStart, 7))}>Next week</Button>
        </>}>
          {shifts.isPending && <Loading />}
          <ErrorAlert error={shifts.error} />
          {shifts.data && (
            <div className="calendar" role="table" aria-label="Shifts this week">
              {days.map((day) => (
                <div className="cal-row" role="row" key={day.toISOString()}>
                  <div className="cal-day" role="rowheader">{day.toLocaleDateString(undefined, { weekday: "short", month: "short", day: "numeric" })}</div>
                  <div className="cal-track" role="cell">
                    {shifts.data.shifts.map((s, i) => {
                      const f = dayFraction(new Date(s.start), new Date(s.end), day);
                      if (!f) return null;
                      const who = members.nameOf(s.user_id);
                      return (
                        <div key={i} className={`cal-shift${s.source === "override" ? " cal-override" : ""}`}
                          style={{ left: `${f[0] * 100}%`, width: `${(f[1] - f[0]) * 100}%`, background: colorOf(s.user_id) }}
                          title={`${who}: ${formatDateTime(s.start)} – ${formatDateTime(s.end)}${s.source === "override" ? " (override)" : ""}`}>
                          {who}
                        </div>
                      );
                    })}
                  </div>
                </div>
              ))}
            </div>
          )}
          {shifts.data?.shifts.length === 0 && <p className="muted">Nobody is scheduled this week.</p>}
        </Card>
        <Layers schedule={schedule.data} />
        <div className="grid-2">
          <Card title="Overrides">
            <ErrorAlert error={overrides.error || removeOverride.error} />
            {addOverride.error && !Object.keys(fields).length ? <ErrorAlert error={addOverride.error} /> : null}
            <form onSubmit={(e: FormEvent) => { e.preventDefault(); addOverride.mutate(); }} noValidate>
              <SelectField label="Who takes over" value={ov.user_id} onChange={(e) => setOv({ ...ov, user_id: e.target.value })} error={fields.user_id}>
                <option value="">Choose someone…</option>
                {members.data?.items.map((m) => <option key={m.user_id} value={m.user_id}>{m.name || m.email}</option>)}
              </SelectField>
              <TextField label="From" type="datetime-local" value={ov.starts_at} onChange={(e) => setOv({ ...ov, starts_at: e.target.value })} error={fields.starts_at} />
              <TextField label="Until" type="datetime-local" value={ov.ends_at} onChange={(e) => setOv({ ...ov, ends_at: e.target.value })} error={fields.ends_at} />
              <Button type="submit" variant="primary" busy={addOverride.isPending} disabled={!ov.user_id}>Add override</Button>
            </form>
            {overrides.data?.items.length === 0 && <Empty title="No overrides" />}
            {!!overrides.data?.items.length && (
              <ul style={{ marginTop: "1rem" }}>
                {overrides.data.items.map((o) => (
                  <li key={o.id} className="row">
                    <span>{members.nameOf(o.user_id)}: {formatDateTime(o.starts_at)} – {formatDateTime(o.ends_at)}</span>
                    <Button size="sm" aria-label={`Remove the override of ${members.nameOf(o.user_id)}`} onClick={() => removeOverride.mutate(o.id)}>Remove</Button>
                  </li>
                ))}
              </ul>
            )}
          </Card>
          <Card title="Calendar feed">
            <h3>iCalendar link</h3>
            <p className="muted">Subscribe from a calendar app (it needs an API token with oncall:read).</p>
            <div className="row"><code>{ical}</code><CopyButton text={ical} label="Copy the iCal link" /></div>
          </Card>
        </div>
      </div>
    </>
  );
}
