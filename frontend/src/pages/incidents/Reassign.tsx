import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, ApiError, unwrap } from "../../api/client";
import { useMembers } from "../../api/members";
import { Button, ErrorAlert, SelectField } from "../../ui";
import { Dialog } from "../../ui/Dialog";
import { usePolicies } from "../oncall/data";

/** "Reassign": hand the incident to a teammate or an escalation policy; they are paged at once. */
export function ReassignButton({ incidentId }: { incidentId: string }) {
  const qc = useQueryClient();
  const members = useMembers();
  const policies = usePolicies();
  const [open, setOpen] = useState(false);
  const [to, setTo] = useState<"user" | "policy">("user");
  const [choice, setChoice] = useState("");
  const reassign = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/incidents/{incident_id}/reassign", {
      params: { path: { incident_id: incidentId } },
      body: to === "user" ? { user_id: choice } : { escalation_policy_id: choice },
    })),
    onSuccess: async (detail) => {
      qc.setQueryData(["incident", incidentId], detail);
      await qc.invalidateQueries({ queryKey: ["incidents"] });
      setOpen(false);
    },
  });
  const fields = reassign.error instanceof ApiError ? reassign.error.fields : {};
  const close = () => { setOpen(false); reassign.reset(); };
  return (
    <>
      <Button onClick={() => { setChoice(""); setOpen(true); }}>Reassign</Button>
      <Dialog open={open} title="Reassign incident" onClose={close}>
        <form noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); reassign.mutate(); }}>
          <p className="muted">The new assignee is paged now; an acknowledgement is cleared, so the incident is triggered again.</p>
          {reassign.error && !Object.keys(fields).length ? <ErrorAlert error={reassign.error} /> : null}
          <fieldset className="days">
            <legend>Reassign to</legend>
            <div className="check"><input type="radio" id="ra-user" name="ra-to" checked={to === "user"} onChange={() => { setTo("user"); setChoice(""); }} /><label htmlFor="ra-user">A teammate</label></div>
            <div className="check"><input type="radio" id="ra-policy" name="ra-to" checked={to === "policy"} onChange={() => { setTo("policy"); setChoice(""); }} /><label htmlFor="ra-policy">An escalation policy</label></div>
          </fieldset>
          {to === "user" ? (
            <SelectField label="Teammate" value={choice} onChange={(e) => setChoice(e.target.value)} error={fields.user_id}>
              <option value="">Choose someone…</option>
              {members.data?.items.map((m) => <option key={m.user_id} value={m.user_id}>{m.name || m.email}</option>)}
            </SelectField>
          ) : (
            <SelectField label="Escalation policy" value={choice} onChange={(e) => setChoice(e.target.value)} error={fields.escalation_policy_id}
              hint={policies.data?.length === 0 ? "No policies yet: create one under On-call → Escalation policies." : undefined}>
              <option value="">Choose a policy…</option>
              {policies.data?.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
            </SelectField>
          )}
          <div className="row dialog-actions">
            <Button onClick={close}>Cancel</Button>
            <Button type="submit" variant="primary" busy={reassign.isPending} disabled={!choice}>Reassign</Button>
          </div>
        </form>
      </Dialog>
    </>
  );
}
