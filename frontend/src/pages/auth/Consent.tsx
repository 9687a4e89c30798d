import { useState } from "react";
import { Link, useLocation } from "react-router";
import { useMe } from "../../api/session";
import { Alert, Button, Loading } from "../../ui";
import { AuthLayout } from "./AuthLayout";

const FORWARDED = ["response_type", "client_id", "redirect_uri", "code_challenge", "code_challenge_method", "scope", "state"];

/** Our OAuth server's authorize URL for the same request: only the parameters it knows are passed on. */
export function authorizeUrl(search: string): string {
  const given = new URLSearchParams(search);
  const out = new URLSearchParams();
  for (const key of FORWARDED) {
    const value = given.get(key);
    if (value !== null) out.set(key, value);
  }
  return `/oauth/authorize?${out.toString()}`;
}

/**
 * The consent page of our OAuth/PKCE server (the mobile app opens /authorize?…): the signed-in user
 * allows the app, and the browser goes on to /oauth/authorize, which redirects back to the app with a code.
 */
export function Consent() {
  const location = useLocation();
  const params = new URLSearchParams(location.search);
  const me = useMe();
  const [declined, setDeclined] = useState(false);
  const client = params.get("client_id") ?? "an application";
  const scopes = (params.get("scope") ?? "").split(/\s+/).filter(Boolean);
  const here = location.pathname + location.search;
  const tenant = me.data?.tenants?.find((t) => t.id === me.data?.tenant_id);
  return (
    <AuthLayout title="Allow access">
      {me.isPending && <Loading />}
      {!params.get("client_id") && <Alert>This link is incomplete: it names no application.</Alert>}
      {me.data === null && (
        <>
          <p><strong>{client}</strong> wants to use your Xinex account. Sign in first.</p>
          <Link className="btn btn-primary btn-block" to={`/login?next=${encodeURIComponent(here)}`}>Sign in</Link>
        </>
      )}
      {me.data && !declined && (
        <>
          <p><strong>{client}</strong> wants to use your Xinex account <strong>{me.data.email}</strong>
            {tenant ? <> in <strong>{tenant.name}</strong></> : null}.</p>
          <p>It will be able to: {scopes.length ? scopes.join(", ") : `everything your role (${me.data.role ?? "member"}) allows`}.</p>
          <div className="row">
            <Button variant="primary" onClick={() => window.location.assign(authorizeUrl(location.search))} disabled={!params.get("client_id")}>Allow</Button>
            <Button onClick={() => setDeclined(true)}>Deny</Button>
          </div>
        </>
      )}
      {declined && <Alert kind="info">You declined; nothing was shared. You can close this window.</Alert>}
    </AuthLayout>
  );
}
