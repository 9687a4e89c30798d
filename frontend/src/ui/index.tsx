import { useId, useState, type ButtonHTMLAttributes, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from "react";
import { Link } from "react-router";
import { ApiError, errorMessage } from "../api/client";

type Variant = "primary" | "default" | "danger";

export function Button({ variant = "default", size, block, busy, children, className, ...rest }:
  ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant; size?: "sm"; block?: boolean; busy?: boolean }) {
  const cls = ["btn", variant !== "default" && `btn-${variant}`, size && `btn-${size}`, block && "btn-block", className]
    .filter(Boolean).join(" ");
  return (
    <button type="button" className={cls} disabled={busy || rest.disabled} aria-busy={busy || undefined} {...rest}>
      {busy && <span className="spinner" aria-hidden="true" />}
      {children}
    </button>
  );
}

interface FieldProps { label: string; hint?: ReactNode; error?: string | null }

/** A labelled input: the label, hint and error are tied to it for assistive technology. */
export function TextField({ label, hint, error, ...rest }: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errId = error ? `${id}-err` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} className="input" aria-invalid={error ? true : undefined}
        aria-describedby={[hintId, errId].filter(Boolean).join(" ") || undefined} {...rest} />
      {hint && <span id={hintId} className="hint">{hint}</span>}
      {error && <span id={errId} className="err">{error}</span>}
    </div>
  );
}

export function SelectField({ label, hint, error, children, ...rest }:
  FieldProps & SelectHTMLAttributes<HTMLSelectElement>) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} className="input" aria-invalid={error ? true : undefined}
        aria-describedby={hint ? `${id}-hint` : undefined} {...rest}>{children}</select>
      {hint && <span id={`${id}-hint`} className="hint">{hint}</span>}
      {error && <span className="err">{error}</span>}
    </div>
  );
}

export function TextArea({ label, hint, error, ...rest }: FieldProps & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea id={id} className="input" aria-invalid={error ? true : undefined}
        aria-describedby={hint ? `${id}-hint` : undefined} {...rest} />
      {hint && <span id={`${id}-hint`} className="hint">{hint}</span>}
      {error && <span className="err">{error}</span>}
    </div>
  );
}

export function Checkbox({ label, ...rest }: { label: string } & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <div className="check">
      <input id={id} type="checkbox" {...rest} />
      <label htmlFor={id}>{label}</label>
    </div>
  );
}

export function Alert({ kind = "error", children }: { kind?: "error" | "ok" | "info"; children: ReactNode }) {
  return <div className={`alert alert-${kind}`} role={kind === "error" ? "alert" : "status"}>{children}</div>;
}

export function ErrorAlert({ error }: { error: unknown }) {
  if (!error) return null;
  return <Alert>{errorMessage(error)}</Alert>;
}

/**
 * A detail page whose record failed to load. A 404, or a 422 for a malformed id in the URL
 * (`/incidents/not-a-uuid`), is a "not found" page with a way back to the list; other errors stay an alert.
 */
export function LoadError({ error, what, back, backLabel }: { error: unknown; what: string; back: string; backLabel: string }) {
  if (error instanceof ApiError && (error.status === 404 || error.status === 422)) {
    return (
      <div className="empty">
        <h1>{what} not found</h1>
        <p>There is no such {what.toLowerCase()}: the link may be wrong, or it was deleted.</p>
        <p><Link to={back}>← {backLabel}</Link></p>
      </div>
    );
  }
  return <ErrorAlert error={error} />;
}

export function Card({ title, children, actions }: { title?: ReactNode; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="card" aria-label={typeof title === "string" ? title : undefined}>
      {(title || actions) && (
        <div className="page-head" style={{ marginBottom: ".75rem" }}>
          {title && <h2>{title}</h2>}
          {actions && <div className="row">{actions}</div>}
        </div>
      )}
      {children}
    </section>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return <div className="loading" role="status"><span className="spinner" aria-hidden="true" />{label}</div>;
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return <div className="empty"><h2>{title}</h2>{children}</div>;
}

export function PageHead({ title, subtitle, actions }: { title: string; subtitle?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="page-head">
      <div><h1>{title}</h1>{subtitle && <p>{subtitle}</p>}</div>
      {actions && <div className="row">{actions}</div>}
    </div>
  );
}

const STATUS_TONE: Record<string, "ok" | "warn" | "bad" | "info" | undefined> = {
  up: "ok", resolved: "ok", ok: "ok", healthy: "ok", success: "ok", active: "ok",
  late: "warn", acknowledged: "warn", degraded: "warn", running: "info", started: "info", start: "info",
  down: "bad", triggered: "bad", failed: "bad", fail: "bad", failure: "bad", error: "bad", critical: "bad",
  new: undefined, paused: undefined,
};

export function StatusBadge({ status }: { status: string }) {
  const tone = STATUS_TONE[status.toLowerCase()];
  return <span className={`badge${tone ? ` badge-${tone}` : ""}`}>{status}</span>;
}

/** Copies `text`; the button says so, and a screen reader hears it. */
export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <Button size="sm" aria-label={done ? label.replace(/^Copy/, "Copied") : label} onClick={async () => {
      try {
        await navigator.clipboard.writeText(text);
      } catch {
        const area = document.createElement("textarea");
        area.value = text;
        document.body.appendChild(area);
        area.select();
        document.execCommand("copy");
        area.remove();
      }
      setDone(true);
      window.setTimeout(() => setDone(false), 1500);
    }}>
      <span aria-live="polite">{done ? "Copied" : "Copy"}</span>
    </Button>
  );
}

export function CodeBlock({ code, label }: { code: string; label: string }) {
  return (
    <pre className="code" aria-label={label}><code>{code}</code><CopyButton text={code} label={`Copy ${label}`} /></pre>
  );
}
