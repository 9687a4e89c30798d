import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { ME_KEY } from "../../api/session";
import { Button, ErrorAlert, TextField } from "../../ui";
import { AuthLayout, safeNext } from "./AuthLayout";

export function Login() {
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [sso, setSso] = useState(params.get("tenant") ?? "");
  const [showSso, setShowSso] = useState(Boolean(params.get("tenant")));
  const providers = useQuery({
    queryKey: ["oauth-providers"],
    queryFn: async () => unwrap(await api.GET("/api/v1/auth/oauth/providers")).items,
    staleTime: 300_000,
  });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      unwrap(await api.POST("/api/v1/auth/login", { body: { email, password } }));
      await qc.invalidateQueries({ queryKey: ME_KEY });
      navigate(next, { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const ssoHref = `/api/v1/sso/login?tenant=${encodeURIComponent(sso.trim())}&next=${encodeURIComponent(next)}`;
  return (
    <AuthLayout title="Sign in" footer={<>New to Xinex? <Link to="/signup">Create an account</Link></>}>
      <ErrorAlert error={error} />
      <form onSubmit={submit} noValidate>
        <TextField label="E-mail" type="email" autoComplete="username" required value={email}
          onChange={(e) => setEmail(e.target.value)} />
        <TextField label="Password" type="password" autoComplete="current-password" required value={password}
          onChange={(e) => setPassword(e.target.value)} />
        <Button type="submit" variant="primary" block busy={busy}>Sign in</Button>
      </form>
      <p style={{ marginTop: ".75rem" }}><Link to="/forgot-password">Forgot your password?</Link></p>
      {(providers.data?.length ?? 0) > 0 && <div className="divider">or</div>}
      <div className="stack" style={{ gap: ".5rem" }}>
        {providers.data?.map((p) => (
          <a key={p.name} className="btn btn-block"
            href={`/api/v1/auth/oauth/${encodeURIComponent(p.name)}?next=${encodeURIComponent(next)}`}>
            Continue with {p.display_name}
          </a>
        ))}
      </div>
      <div className="divider">single sign-on</div>
      {showSso ? (
        <form onSubmit={(e) => { e.preventDefault(); if (sso.trim()) window.location.assign(ssoHref); }}>
          <TextField label="Organisation" hint="Your organisation's short name (slug) in Xinex" value={sso}
            onChange={(e) => setSso(e.target.value)} required />
          <Button type="submit" block disabled={!sso.trim()}>Continue with SSO</Button>
        </form>
      ) : (
        <Button block onClick={() => setShowSso(true)}>Sign in with SSO</Button>
      )}
    </AuthLayout>
  );
}
