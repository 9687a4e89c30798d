import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, ApiError, unwrap } from "../../api/client";
import { useMe } from "../../api/session";
import { formatDateTime } from "../../lib/format";
import { useTitle } from "../../lib/useTitle";
import { Alert, Button, Card, Empty, ErrorAlert, Loading, SelectField, StatusBadge, TextField } from "../../ui";

const ROLES = ["owner", "admin", "member", "viewer"] as const;
type Role = (typeof ROLES)[number];

export function Team() {
  useTitle("Team");
  const qc = useQueryClient();
  const me = useMe();
  const myRole = me.data?.role ?? "viewer";
  const isAdmin = myRole === "owner" || myRole === "admin";
  const members = useQuery({
    queryKey: ["members"],
    queryFn: async () => unwrap(await api.GET("/api/v1/members", { params: { query: { per_page: 100 } } })),
  });
  const invitations = useQuery({
    queryKey: ["invitations"],
    queryFn: async () => unwrap(await api.GET("/api/v1/invitations", { params: { query: { per_page: 100 } } })),
    enabled: isAdmin,
  });
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("member");
  const [sent, setSent] = useState<string | null>(null);
  const invite = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/invitations", { body: { email, role } })),
    onSuccess: async (inv) => {
      setSent(inv.email);
      setEmail("");
      await qc.invalidateQueries({ queryKey: ["invitations"] });
    },
  });
  const changeRole = useMutation({
    mutationFn: async ({ userId, role: next }: { userId: string; role: Role }) =>
      unwrap(await api.PUT("/api/v1/members/{user_id}", { params: { path: { user_id: userId } }, body: { role: next } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["members"] }),
  });
  const remove = useMutation({
    mutationFn: async (userId: string) =>
      unwrap(await api.DELETE("/api/v1/members/{user_id}", { params: { path: { user_id: userId } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["members"] }),
  });
  const revoke = useMutation({
    mutationFn: async (id: string) =>
      unwrap(await api.DELETE("/api/v1/invitations/{invitation_id}", { params: { path: { invitation_id: id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["invitations"] }),
  });
  const fields = invite.error instanceof ApiError ? invite.error.fields : {};
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSent(null);
    invite.mutate();
  };
  return (
    <div className="stack">
      <Card title="Members">
        {members.isPending && <Loading />}
        <ErrorAlert error={members.error || changeRole.error || remove.error} />
        {!!members.data?.items.length && (
          <div className="table-wrap"><table className="table">
            <caption className="sr-only">Members</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">E-mail</th><th scope="col">Role</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>{members.data.items.map((m) => (
              <tr key={m.id}>
                <td>{m.name || "—"}{m.user_id === me.data?.id ? " (you)" : ""}</td>
                <td>{m.email}</td>
                <td>{isAdmin && m.user_id !== me.data?.id ? (
                  <select className="input" aria-label={`Role of ${m.email}`} value={m.role} style={{ width: "auto" }}
                    onChange={(e) => changeRole.mutate({ userId: m.user_id, role: e.target.value as Role })}>
                    {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
                  </select>
                ) : m.role}</td>
                <td>{isAdmin && m.user_id !== me.data?.id && (
                  <Button size="sm" variant="danger" aria-label={`Remove ${m.email}`}
                    onClick={() => { if (window.confirm(`Remove ${m.email} from the team?`)) remove.mutate(m.user_id); }}>Remove</Button>
                )}</td>
              </tr>))}</tbody>
          </table></div>
        )}
      </Card>
      {isAdmin && (
        <Card title="Invitations">
          {sent && <Alert kind="ok">Invitation sent to {sent}. The link works for 7 days.</Alert>}
          {invite.error && !Object.keys(fields).length ? <ErrorAlert error={invite.error} /> : null}
          <form className="inline-form" onSubmit={submit} noValidate aria-label="Invite someone">
            <TextField label="E-mail to invite" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={fields.email} />
            <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {ROLES.filter((r) => r !== "owner" || myRole === "owner").map((r) => <option key={r} value={r}>{r}</option>)}
            </SelectField>
            <Button type="submit" variant="primary" busy={invite.isPending}>Send invitation</Button>
          </form>
          <div style={{ marginTop: "1rem" }}>
            {invitations.isPending && <Loading />}
            <ErrorAlert error={invitations.error || revoke.error} />
            {invitations.data?.items.length === 0 && <Empty title="No invitations" />}
            {!!invitations.data?.items.length && (
              <div className="table-wrap"><table className="table">
                <caption className="sr-only">Invitations</caption>
                <thead><tr><th scope="col">E-mail</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Expires</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
                <tbody>{invitations.data.items.map((i) => (
                  <tr key={i.id}>
                    <td>{i.email}</td><td>{i.role}</td><td><StatusBadge status={i.status} /></td>
                    <td>{formatDateTime(i.expires_at)}</td>
                    <td>{i.status === "pending" && <Button size="sm" aria-label={`Revoke the invitation of ${i.email}`} onClick={() => revoke.mutate(i.id)}>Revoke</Button>}</td>
                  </tr>))}</tbody>
              </table></div>
            )}
          </div>
        </Card>
      )}
    </div>
  );
}
