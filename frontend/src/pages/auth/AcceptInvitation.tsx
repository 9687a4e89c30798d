import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { useMe } from "../../api/session";
import { Alert, Button, ErrorAlert, Loading } from "../../ui";
import { AuthLayout } from "./AuthLayout";

export function AcceptInvitation() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const me = useMe();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const accept = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/invitations/accept", { body: { token } })),
    onSuccess: async (joined) => {
      // Work in the team just joined.
      try {
        await api.POST("/api/v1/tenants/switch", { body: { tenant_id: joined.tenant_id } });
      } finally {
        await qc.invalidateQueries();
      }
    },
  });
  const here = `/invitations/accept?token=${encodeURIComponent(token)}`;
  return (
    <AuthLayout title="Join a team">
      {!token && <Alert>This link has no token. Open the link from the invitation e-mail again.</Alert>}
      {me.isPending && <Loading />}
      {me.data === null && (
        <>
          <p>Sign in with the address the invitation was sent to, or create an account with it, then come back to this link.</p>
          <div className="stack" style={{ gap: ".5rem" }}>
            <Link className="btn btn-primary btn-block" to={`/login?next=${encodeURIComponent(here)}`}>Sign in to accept</Link>
            <Link className="btn btn-block" to="/signup">Create an account</Link>
          </div>
        </>
      )}
      {me.data && !accept.isSuccess && (
        <>
          <p>You are signed in as <strong>{me.data.email}</strong>.</p>
          <ErrorAlert error={accept.error} />
          <Button variant="primary" block busy={accept.isPending} disabled={!token} onClick={() => accept.mutate()}>
            Accept invitation
          </Button>
        </>
      )}
      {accept.isSuccess && (
        <>
          <Alert kind="ok">You joined {accept.data.tenant.name} as {accept.data.role}.</Alert>
          <Button variant="primary" block onClick={() => navigate("/")}>Open {accept.data.tenant.name}</Button>
        </>
      )}
      {me.data && <p style={{ marginTop: "1rem" }}><Link to="/">Back to Xinex</Link></p>}
      {me.isError && <ErrorAlert error={me.error} />}
    </AuthLayout>
  );
}
