import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, ApiError, unwrap } from "../../api/client";
import { useMembers } from "../../api/members";
import { Button, Card, Checkbox, ErrorAlert, SelectField, TextField } from "../../ui";
import { ConfirmButton } from "../../ui/Dialog";
import type { Schedule } from "./data";
import { DAYS, describeRestriction, draftToLayer, layerToDraft, moveItem, type LayerDraft } from "./logic";

const ROTATION: Record<LayerDraft["rotation"], string> = { daily: "Daily hand-off", weekly: "Weekly hand-off", custom: "Every N hours" };

function newLayer(n: number): LayerDraft {
  const d = new Date();
  const pad = (x: number) => String(x).padStart(2, "0");
  return { name: `Layer ${n}`, rotation: "weekly", shift_hours: "12", start: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T09:00`, users: [], restrictions: [] };
}

/** The schedule's layers: add, edit (rotation, people in order, hand-off time, restrictions), remove — each saved
 * as the whole schedule (PUT), which the server validates (members, HH:MM, time zone). */
export function Layers({ schedule }: { schedule: Schedule }) {
  const qc = useQueryClient();
  const members = useMembers();
  const [editing, setEditing] = useState<number | "new" | null>(null);
  const save = useMutation({
    mutationFn: async (layers: LayerDraft[]) => unwrap(await api.PUT("/api/v1/schedules/{schedule_id}", {
      params: { path: { schedule_id: schedule.id } },
      body: { name: schedule.name, description: schedule.description, timezone: schedule.timezone, layers: layers.map(draftToLayer) },
    })),
    onSuccess: async () => {
      setEditing(null);
      await qc.invalidateQueries({ queryKey: ["schedules"] });
      await qc.invalidateQueries({ queryKey: ["oncall", schedule.id] });
    },
  });
  const drafts = schedule.layers.map(layerToDraft);
  const fields = save.error instanceof ApiError ? save.error.fields : {};
  return (
    <Card title="Layers" actions={editing === null && <Button size="sm" onClick={() => { save.reset(); setEditing("new"); }}>Add layer</Button>}>
      <p className="muted">A later layer wins where it has someone on call; restrictions limit a layer to certain hours. Hand-off times are in {schedule.timezone}.</p>
      {save.error && editing === null ? <ErrorAlert error={save.error} /> : null}
      {drafts.length === 0 && editing === null && <p className="muted">No layers: nobody is on call except by override.</p>}
      <ol className="ordered" aria-label="Layers">
        {drafts.map((l, i) => (
          <li key={i}>
            {editing === i ? (
              <LayerForm initial={l} title={`Edit ${l.name || `layer ${i + 1}`}`} busy={save.isPending} fields={fields} error={save.error}
                onCancel={() => setEditing(null)} onSave={(d) => save.mutate(drafts.map((x, j) => (j === i ? d : x)))} />
            ) : (
              <div className="row">
                <span><strong>{l.name || `Layer ${i + 1}`}</strong>: {l.rotation === "custom" ? `every ${l.shift_hours} h` : l.rotation} from {l.start.replace("T", " ")} —{" "}
                  {l.users.map((u) => members.nameOf(u)).join(" → ")}
                  {l.restrictions.length > 0 && <> · only {l.restrictions.map(describeRestriction).join("; ")}</>}</span>
                {editing === null && <span className="row">
                  <Button size="sm" aria-label={`Edit ${l.name || `layer ${i + 1}`}`} onClick={() => { save.reset(); setEditing(i); }}>Edit</Button>
                  <ConfirmButton label="Remove" ariaLabel={`Remove ${l.name || `layer ${i + 1}`}`} title={`Remove ${l.name || `layer ${i + 1}`}?`}
                    body="Its shifts leave the calendar; overrides stay." confirmLabel="Remove layer" busy={save.isPending}
                    onConfirm={() => save.mutateAsync(drafts.filter((_, j) => j !== i)).catch(() => undefined)} />
                </span>}
              </div>
            )}
          </li>
        ))}
      </ol>
      {editing === "new" && (
        <LayerForm initial={newLayer(drafts.length + 1)} title="New layer" busy={save.isPending} fields={fields} error={save.error}
          onCancel={() => setEditing(null)} onSave={(d) => save.mutate([...drafts, d])} />
      )}
    </Card>
  );
}

function LayerForm({ initial, title, busy, fields, error, onSave, onCancel }: {
  initial: LayerDraft; title: string; busy: boolean; fields: Record<string, string>; error: unknown;
  onSave: (d: LayerDraft) => void; onCancel: () => void;
}) {
  const members = useMembers();
  const [d, setD] = useState<LayerDraft>(initial);
  const layerErrors = Object.entries(fields).filter(([k]) => k.startsWith("layers")).map(([k, v]) => `${k}: ${v}`);
  const setR = (i: number, patch: Partial<LayerDraft["restrictions"][number]>) =>
    setD({ ...d, restrictions: d.restrictions.map((r, j) => (j === i ? { ...r, ...patch } : r)) });
  const available = members.data?.items.filter((m) => !d.users.includes(m.user_id)) ?? [];
  return (
    <form aria-label={title} noValidate className="step" onSubmit={(e: FormEvent) => { e.preventDefault(); onSave(d); }}>
      <h3>{title}</h3>
      {error && !layerErrors.length ? <ErrorAlert error={error} /> : null}
      {layerErrors.length > 0 && <p className="err" role="alert">{layerErrors.join("; ")}</p>}
      <div className="grid-2">
        <TextField label="Layer name" value={d.name} onChange={(e) => setD({ ...d, name: e.target.value })} />
        <SelectField label="Rotation type" value={d.rotation} onChange={(e) => setD({ ...d, rotation: e.target.value as LayerDraft["rotation"] })}>
          {Object.entries(ROTATION).map(([v, label]) => <option key={v} value={v}>{label}</option>)}
        </SelectField>
        {d.rotation === "custom" && (
          <TextField label="Shift length (hours)" type="number" min={1} value={d.shift_hours} onChange={(e) => setD({ ...d, shift_hours: e.target.value })} />
        )}
        <TextField label="First hand-off" type="datetime-local" value={d.start} onChange={(e) => setD({ ...d, start: e.target.value })}
          hint="local time of the schedule; later hand-offs follow at the same time" />
      </div>
      <h4>People, in rotation order</h4>
      {d.users.length === 0 ? <p className="muted">Nobody yet.</p> : (
        <ol className="ordered" aria-label="People in rotation order">
          {d.users.map((u, i) => (
            <li key={u}><div className="row"><span>{members.nameOf(u)}</span><span className="row">
              <Button size="sm" aria-label={`Move ${members.nameOf(u)} up`} disabled={i === 0} onClick={() => setD({ ...d, users: moveItem(d.users, i, -1) })}>↑</Button>
              <Button size="sm" aria-label={`Move ${members.nameOf(u)} down`} disabled={i === d.users.length - 1} onClick={() => setD({ ...d, users: moveItem(d.users, i, 1) })}>↓</Button>
              <Button size="sm" aria-label={`Remove ${members.nameOf(u)} from the rotation`} onClick={() => setD({ ...d, users: d.users.filter((x) => x !== u) })}>Remove</Button>
            </span></div></li>
          ))}
        </ol>
      )}
      {available.length > 0 && (
        <SelectField label="Add a person to the rotation" value="" onChange={(e) => e.target.value && setD({ ...d, users: [...d.users, e.target.value] })}>
          <option value="">Choose someone…</option>
          {available.map((m) => <option key={m.user_id} value={m.user_id}>{m.name || m.email}</option>)}
        </SelectField>
      )}
      <h4>Restrictions</h4>
      {d.restrictions.length === 0 && <p className="muted">None: the layer covers every hour.</p>}
      {d.restrictions.map((r, i) => (
        <fieldset key={i} className="step" style={{ marginBottom: ".5rem" }}>
          <legend>Restriction {i + 1}</legend>
          <fieldset className="days">
            <legend>Days (none ticked: every day)</legend>
            {DAYS.map((day, n) => (
              <Checkbox key={day} label={day} aria-label={`${day} (restriction ${i + 1})`} checked={r.days.includes(n)}
                onChange={(e) => setR(i, { days: e.target.checked ? [...r.days, n] : r.days.filter((x) => x !== n) })} />
            ))}
          </fieldset>
          <div className="inline-form">
            <TextField label={`From (restriction ${i + 1})`} type="time" value={r.start} onChange={(e) => setR(i, { start: e.target.value })} />
            <TextField label={`Until (restriction ${i + 1})`} type="time" value={r.end} onChange={(e) => setR(i, { end: e.target.value })} />
            <Button size="sm" onClick={() => setD({ ...d, restrictions: d.restrictions.filter((_, j) => j !== i) })}>Remove restriction {i + 1}</Button>
          </div>
        </fieldset>
      ))}
      <Button size="sm" onClick={() => setD({ ...d, restrictions: [...d.restrictions, { days: [0, 1, 2, 3, 4], start: "09:00", end: "17:00" }] })}>Add restriction</Button>
      <div className="row" style={{ marginTop: "1rem" }}>
        <Button type="submit" variant="primary" busy={busy} disabled={d.users.length === 0}>Save layer</Button>
        <Button onClick={onCancel}>Cancel</Button>
      </div>
    </form>
  );
}
