import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, ApiError, unwrap } from "../../api/client";
import { Alert, Button, ErrorAlert, TextField } from "../../ui";
import { AuthLayout } from "./AuthLayout";

export function ForgotPassword() {
  const [email, setEmail] = useState("");
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      unwrap(await api.POST("/api/v1/auth/password-reset", { body: { email } }));
      setDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <AuthLayout title="Reset your password" footer={<Link to="/login">Back to sign in</Link>}>
      {done ? (
        <Alert kind="ok">If an account exists for {email}, we sent it a link to choose a new password. It works for an hour.</Alert>
      ) : (
        <form onSubmit={submit} noValidate>
          <ErrorAlert error={error} />
          <TextField label="E-mail" type="email" autoComplete="email" required value={email}
            onChange={(e) => setEmail(e.target.value)} />
          <Button type="submit" variant="primary" block busy={busy}>Send reset link</Button>
        </form>
      )}
    </AuthLayout>
  );
}

export function ResetPassword() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const mismatch = confirm.length > 0 && confirm !== password ? "The two passwords differ" : null;
  const fields = error instanceof ApiError ? error.fields : {};
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (mismatch) return;
    setBusy(true);
    setError(null);
    try {
      unwrap(await api.POST("/api/v1/auth/password-reset/confirm", { body: { token, password } }));
      setDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <AuthLayout title="Choose a new password">
      {!token && <Alert>This link has no token. Open the link from the e-mail again, or <Link to="/forgot-password">ask for a new one</Link>.</Alert>}
      {done ? (
        <Alert kind="ok">Your password is changed, and every other session was signed out. <Link to="/login">Sign in</Link></Alert>
      ) : (
        <form onSubmit={submit} noValidate>
          {error && !fields.password ? <ErrorAlert error={error} /> : null}
          <TextField label="New password" type="password" autoComplete="new-password" required minLength={10}
            hint="At least 10 characters; common passwords are refused." value={password}
            onChange={(e) => setPassword(e.target.value)} error={fields.password} />
          <TextField label="Repeat the new password" type="password" autoComplete="new-password" required
            value={confirm} onChange={(e) => setConfirm(e.target.value)} error={mismatch} />
          <Button type="submit" variant="primary" block busy={busy} disabled={!token}>Set password</Button>
        </form>
      )}
    </AuthLayout>
  );
}
