import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api, ApiError, unwrap } from "../../api/client";
import { ME_KEY } from "../../api/session";
import { Alert, Button, ErrorAlert, Loading, TextField } from "../../ui";
import { AuthLayout } from "./AuthLayout";

export function Signup() {
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [form, setForm] = useState({ name: "", email: "", password: "", tenant_name: "" });
  const [error, setError] = useState<unknown>(null);
  const [sent, setSent] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const fields = error instanceof ApiError ? error.fields : {};
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await api.POST("/api/v1/auth/register", {
        body: { email: form.email, password: form.password, name: form.name, tenant_name: form.tenant_name || null },
      });
      unwrap(result);
      if (result.response.status === 201) { // an instance without mail signs in at once
        await qc.invalidateQueries({ queryKey: ME_KEY });
        navigate("/", { replace: true });
      } else {
        setSent(form.email);
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (sent) {
    return (
      <AuthLayout title="Check your e-mail">
        <Alert kind="ok">We sent a link to <strong>{sent}</strong>. Open it within 24 hours to finish creating your account.</Alert>
        <p className="muted">No e-mail? Check your spam folder, or <Link to="/signup" onClick={() => setSent(null)}>try again</Link>.</p>
      </AuthLayout>
    );
  }
  return (
    <AuthLayout title="Create your account" footer={<>Already have an account? <Link to="/login">Sign in</Link></>}>
      {error && !Object.keys(fields).length ? <ErrorAlert error={error} /> : null}
      <form onSubmit={submit} noValidate>
        <TextField label="Your name" autoComplete="name" value={form.name} onChange={set("name")} error={fields.name} />
        <TextField label="E-mail" type="email" autoComplete="email" required value={form.email} onChange={set("email")}
          error={fields.email} />
        <TextField label="Password" type="password" autoComplete="new-password" required minLength={10}
          hint="At least 10 characters; common passwords are refused." value={form.password} onChange={set("password")}
          error={fields.password} />
        <TextField label="Team name" hint="Optional: you can rename it later." value={form.tenant_name}
          onChange={set("tenant_name")} error={fields.tenant_name} />
        <Button type="submit" variant="primary" block busy={busy}>Create account</Button>
      </form>
    </AuthLayout>
  );
}

/** The link of the sign-up e-mail: creates the account and signs in. */
export function RegisterConfirm() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const navigate = useNavigate();
  const qc = useQueryClient();
  const started = useRef(false);
  const confirm = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/auth/register/confirm", { body: { token } })),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ME_KEY });
      navigate("/?welcome=1", { replace: true });
    },
  });
  useEffect(() => {
    if (token && !started.current) {
      started.current = true;
      confirm.mutate();
    }
  }, [token, confirm]);
  return (
    <AuthLayout title="Finishing your sign-up">
      {!token && <Alert>This link has no token. Open the link from the e-mail again.</Alert>}
      {confirm.isPending && <Loading label="Creating your account…" />}
      {confirm.isError && (
        <>
          <ErrorAlert error={confirm.error} />
          <p>The link may have expired or been used already. <Link to="/signup">Sign up again</Link> or <Link to="/login">sign in</Link>.</p>
        </>
      )}
    </AuthLayout>
  );
}
