import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { api, ApiError, unwrap } from "../../api/client";
import { useMembers } from "../../api/members";
import { fromLocalInput, startOfDay, toLocalInput } from "../../lib/time";
import { useTitle } from "../../lib/useTitle";
import { Button, Card, Empty, ErrorAlert, Loading, PageHead, SelectField, TextField } from "../../ui";

function OnCallNow({ id }: { id: string }) {
  const members = useMembers();
  const now = useQuery({
    queryKey: ["oncall", id, "now"],
    queryFn: async () => unwrap(await api.GET("/api/v1/schedules/{schedule_id}/oncall", { params: { path: { schedule_id: id } } })),
    refetchInterval: 60_000,
  });
  if (now.isPending) return <span className="muted">…</span>;
  if (now.isError) return <span className="muted">unknown</span>;
  return <span>{members.nameOf(now.data.user_id)}</span>;
}

export function Schedules() {
  useTitle("On-call");
  const qc = useQueryClient();
  const navigate = useNavigate();
  const members = useMembers();
  const schedules = useQuery({
    queryKey: ["schedules"],
    queryFn: async () => unwrap(await api.GET("/api/v1/schedules", { params: { query: { per_page: 100 } } })),
  });
  const [form, setForm] = useState({
    name: "", timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC", rotation: "weekly",
    shift_hours: "12", start: toLocalInput(startOfDay(new Date())), users: [] as string[],
  });
  const create = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/schedules", { body: {
      name: form.name, timezone: form.timezone,
      layers: form.users.length ? [{
        name: "Primary", rotation: form.rotation as "daily" | "weekly" | "custom",
        shift_hours: form.rotation === "custom" ? Number(form.shift_hours) : null,
        start: fromLocalInput(form.start), users: form.users, restrictions: [],
      }] : [],
    } })),
    onSuccess: async (s) => {
      await qc.invalidateQueries({ queryKey: ["schedules"] });
      navigate(`/oncall/${s.id}`);
    },
  });
  const fields = create.error instanceof ApiError ? create.error.fields : {};
  return (
    <>
      <PageHead title="On-call schedules" subtitle="Who gets paged, when: rotations, overrides and who is on call now." />
      <div className="stack">
        <Card title="Schedules">
          {schedules.isPending && <Loading />}
          <ErrorAlert error={schedules.error} />
          {schedules.data?.items.length === 0 && <Empty title="No schedules yet"><p>Create one below.</p></Empty>}
          {!!schedules.data?.items.length && (
            <div className="table-wrap"><table className="table">
              <caption className="sr-only">Schedules</caption>
              <thead><tr><th scope="col">Schedule</th><th scope="col">On call now</th><th scope="col">Layers</th><th scope="col">Time zone</th></tr></thead>
              <tbody>{schedules.data.items.map((s) => (
                <tr key={s.id}>
                  <td><Link to={`/oncall/${s.id}`}>{s.name}</Link></td>
                  <td><OnCallNow id={s.id} /></td>
                  <td>{s.layers.length}</td>
                  <td className="muted">{s.timezone}</td>
                </tr>))}</tbody>
            </table></div>
          )}
        </Card>
        <Card title="New schedule">
          {create.error && !Object.keys(fields).length ? <ErrorAlert error={create.error} /> : null}
          <form onSubmit={(e: FormEvent) => { e.preventDefault(); create.mutate(); }} noValidate style={{ maxWidth: 560 }}>
            <TextField label="Schedule name" required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} error={fields.name} />
            <TextField label="Time zone" value={form.timezone} onChange={(e) => setForm({ ...form, timezone: e.target.value })} error={fields.timezone} />
            <SelectField label="Rotation" value={form.rotation} onChange={(e) => setForm({ ...form, rotation: e.target.value })}>
              <option value="daily">Daily hand-off</option>
              <option value="weekly">Weekly hand-off</option>
              <option value="custom">Every N hours</option>
            </SelectField>
            {form.rotation === "custom" && (
              <TextField label="Shift length (hours)" type="number" min={1} value={form.shift_hours}
                onChange={(e) => setForm({ ...form, shift_hours: e.target.value })} />
            )}
            <TextField label="Rotation starts" type="datetime-local" value={form.start}
              onChange={(e) => setForm({ ...form, start: e.target.value })} error={fields["layers.0.start"]} />
            <fieldset className="scopes">
              <legend>People in the rotation, in order</legend>
              {members.data?.items.map((m) => (
                <div className="check" key={m.user_id}>
                  <input id={`rot-${m.user_id}`} type="checkbox" checked={form.users.includes(m.user_id)}
                    onChange={(e) => setForm({ ...form, users: e.target.checked ? [...form.users, m.user_id] : form.users.filter((u) => u !== m.user_id) })} />
                  <label htmlFor={`rot-${m.user_id}`}>{m.name || m.email}</label>
                </div>
              ))}
            </fieldset>
            <Button type="submit" variant="primary" busy={create.isPending}>Create schedule</Button>
          </form>
        </Card>
      </div>
    </>
  );
}
