import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, ApiError, unwrap } from "../../api/client";
import { useMembers } from "../../api/members";
import { useTitle } from "../../lib/useTitle";
import { Button, Card, Checkbox, Empty, ErrorAlert, Loading, PageHead, SelectField, TextArea, TextField } from "../../ui";
import { ConfirmButton } from "../../ui/Dialog";
import { useChannels, usePolicies, useSchedules, useTargetNames, type Policy } from "./data";
import { describeSteps, draftToPolicy, emptyPolicy, emptyStep, moveItem, policyToDraft, type PolicyDraft, type Target, type TargetType } from "./logic";

export function Policies() {
  useTitle("Escalation policies");
  const qc = useQueryClient();
  const members = useMembers();
  const policies = usePolicies();
  const nameOf = useTargetNames(members.nameOf);
  const [editing, setEditing] = useState<Policy | "new" | null>(null);
  const remove = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE("/api/v1/escalation-policies/{policy_id}", { params: { path: { policy_id: id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["escalation-policies"] }),
  });
  return (
    <>
      <PageHead title="Escalation policies" subtitle="Who is paged, in which order, until someone acknowledges."
        actions={editing === null && <Button variant="primary" onClick={() => setEditing("new")}>New policy</Button>} />
      <div className="stack">
        {editing !== null && (
          <PolicyEditor key={editing === "new" ? "new" : editing.id} policy={editing === "new" ? null : editing}
            onDone={() => setEditing(null)} />
        )}
        <Card title="Policies">
          {policies.isPending && <Loading />}
          <ErrorAlert error={policies.error || remove.error} />
          {policies.data?.length === 0 && (
            <Empty title="No escalation policies yet">
              <p>Without one, incidents page the team's owners and admins. Create a policy, then point a routing rule at it.</p>
            </Empty>
          )}
          {!!policies.data?.length && (
            <div className="table-wrap"><table className="table">
              <caption className="sr-only">Escalation policies</caption>
              <thead><tr><th scope="col">Policy</th><th scope="col">Steps</th><th scope="col">Repeat</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
              <tbody>{policies.data.map((p) => (
                <tr key={p.id}>
                  <td><strong>{p.name}</strong>{p.description && <div className="muted">{p.description}</div>}</td>
                  <td>{describeSteps(p.steps, nameOf)}</td>
                  <td>{p.repeat ? `${p.repeat}× after ${p.repeat_delay_minutes} min` : "no"}</td>
                  <td><div className="row row-actions">
                    <Button size="sm" aria-label={`Edit ${p.name}`} onClick={() => setEditing(p)}>Edit</Button>
                    <ConfirmButton label="Delete" ariaLabel={`Delete ${p.name}`} title={`Delete the policy ${p.name}?`}
                      body="Open incidents keep escalating on their own copy; a routing rule that uses it must be changed first."
                      confirmLabel="Delete policy" busy={remove.isPending} onConfirm={() => remove.mutateAsync(p.id).catch(() => undefined)} />
                  </div></td>
                </tr>))}</tbody>
            </table></div>
          )}
        </Card>
      </div>
    </>
  );
}

function PolicyEditor({ policy, onDone }: { policy: Policy | null; onDone: () => void }) {
  const qc = useQueryClient();
  const members = useMembers();
  const schedules = useSchedules();
  const channels = useChannels();
  const nameOf = useTargetNames(members.nameOf);
  const [d, setD] = useState<PolicyDraft>(() => (policy ? policyToDraft(policy) : emptyPolicy()));
  const save = useMutation({
    mutationFn: async () => {
      const body = draftToPolicy(d);
      return policy
        ? unwrap(await api.PUT("/api/v1/escalation-policies/{policy_id}", { params: { path: { policy_id: policy.id } }, body }))
        : unwrap(await api.POST("/api/v1/escalation-policies", { body }));
    },
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ["escalation-policies"] });
      onDone();
    },
  });
  const fields = save.error instanceof ApiError ? save.error.fields : {};
  const setStep = (i: number, patch: Partial<PolicyDraft["steps"][number]>) =>
    setD({ ...d, steps: d.steps.map((s, j) => (j === i ? { ...s, ...patch } : s)) });
  const stepError = (i: number) => Object.entries(fields).filter(([k]) => k === "steps" || k.startsWith(`steps.${i}`)).map(([, v]) => v).join("; ") || null;
  const title = policy ? `Edit ${policy.name}` : "New escalation policy";
  return (
    <Card title={title}>
      {save.error && !Object.keys(fields).length ? <ErrorAlert error={save.error} /> : null}
      <form aria-label={title} noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); save.mutate(); }}>
        <div className="grid-2">
          <TextField label="Policy name" required value={d.name} onChange={(e) => setD({ ...d, name: e.target.value })} error={fields.name} />
          <TextArea label="Description" rows={2} value={d.description} onChange={(e) => setD({ ...d, description: e.target.value })} error={fields.description} />
        </div>
        <ol className="steps">
          {d.steps.map((s, i) => (
            <li key={i}>
              <fieldset className="step">
                <legend>Step {i + 1}</legend>
                <div className="inline-form">
                  <TextField label={`Wait before step ${i + 1} (minutes)`} type="number" min={0} value={s.delay}
                    hint={i === 0 ? "after the incident opens" : "after the previous step"}
                    onChange={(e) => setStep(i, { delay: e.target.value })} error={fields[`steps.${i}.delay_minutes`]} />
                  <TargetPicker label={`Add a target to step ${i + 1}`} members={members.data?.items ?? []}
                    schedules={schedules.data?.items ?? []} channels={channels.data?.items ?? []}
                    onPick={(t) => { if (!s.targets.some((x) => x.type === t.type && x.id === t.id)) setStep(i, { targets: [...s.targets, t] }); }} />
                </div>
                {s.targets.length === 0 ? <p className="muted">No targets yet: add a person, a schedule or a channel.</p> : (
                  <ul className="chips" aria-label={`Targets of step ${i + 1}`}>
                    {s.targets.map((t) => (
                      <li key={`${t.type}:${t.id}`} className="chip">{nameOf(t)}
                        <button type="button" className="chip-x" aria-label={`Remove ${nameOf(t)} from step ${i + 1}`}
                          onClick={() => setStep(i, { targets: s.targets.filter((x) => x !== t) })}>×</button>
                      </li>))}
                  </ul>
                )}
                {stepError(i) && <p className="err" role="alert">{stepError(i)}</p>}
                <Checkbox label={`Round robin: one target of step ${i + 1} per incident, in turn`} checked={s.round_robin}
                  onChange={(e) => setStep(i, { round_robin: e.target.checked })} />
                <div className="row">
                  <Button size="sm" disabled={i === 0} aria-label={`Move step ${i + 1} up`} onClick={() => setD({ ...d, steps: moveItem(d.steps, i, -1) })}>Up</Button>
                  <Button size="sm" disabled={i === d.steps.length - 1} aria-label={`Move step ${i + 1} down`} onClick={() => setD({ ...d, steps: moveItem(d.steps, i, 1) })}>Down</Button>
                  <Button size="sm" variant="danger" disabled={d.steps.length === 1} aria-label={`Remove step ${i + 1}`}
                    onClick={() => setD({ ...d, steps: d.steps.filter((_, j) => j !== i) })}>Remove step</Button>
                </div>
              </fieldset>
            </li>
          ))}
        </ol>
        <Button onClick={() => setD({ ...d, steps: [...d.steps, emptyStep()] })} disabled={d.steps.length >= 20}>Add step</Button>
        <div className="inline-form" style={{ marginTop: "1rem" }}>
          <TextField label="Repeat the whole policy (times)" type="number" min={0} max={10} value={d.repeat}
            onChange={(e) => setD({ ...d, repeat: e.target.value })} error={fields.repeat} hint="0: once through, then stop" />
          <TextField label="Wait before repeating (minutes)" type="number" min={1} value={d.repeat_delay}
            onChange={(e) => setD({ ...d, repeat_delay: e.target.value })} error={fields.repeat_delay_minutes} />
        </div>
        <div className="row" style={{ marginTop: "1rem" }}>
          <Button type="submit" variant="primary" busy={save.isPending}>{policy ? "Save policy" : "Create policy"}</Button>
          <Button onClick={onDone}>Cancel</Button>
        </div>
      </form>
    </Card>
  );
}

/** One select listing people, schedules and channels; choosing one adds it. */
export function TargetPicker({ label, members, schedules, channels, onPick }: {
  label: string; members: { user_id: string; name?: string | null; email: string }[];
  schedules: { id: string; name: string }[]; channels: { id: string; name: string }[]; onPick: (t: Target) => void;
}) {
  return (
    <SelectField label={label} value="" onChange={(e) => {
      const [type, id] = e.target.value.split(":");
      if (type && id) onPick({ type: type as TargetType, id });
    }}>
      <option value="">Choose…</option>
      <optgroup label="People">{members.map((m) => <option key={m.user_id} value={`user:${m.user_id}`}>{m.name || m.email}</option>)}</optgroup>
      {schedules.length > 0 && <optgroup label="On-call schedules">{schedules.map((s) => <option key={s.id} value={`schedule:${s.id}`}>{s.name}</option>)}</optgroup>}
      {channels.length > 0 && <optgroup label="Channels">{channels.map((c) => <option key={c.id} value={`channel:${c.id}`}>{c.name}</option>)}</optgroup>}
    </SelectField>
  );
}
