import { useEffect, type ReactNode } from "react";
import { Logo } from "../../layout/AppShell";
import { ThemeToggle } from "../../ui/ThemeToggle";

export function AuthLayout({ title, children, footer }: { title: string; children: ReactNode; footer?: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Xinex`;
  }, [title]);
  return (
    <div className="auth">
      <main className="auth-card">
        <div className="brand"><Logo /> Xinex</div>
        <div className="card">
          <h1>{title}</h1>
          {children}
        </div>
        {footer && <p className="muted" style={{ textAlign: "center", marginTop: "1rem" }}>{footer}</p>}
        <div className="row" style={{ justifyContent: "center" }}><ThemeToggle /></div>
      </main>
    </div>
  );
}

/** Only a path on this site: never let `next` send a signed-in browser elsewhere. */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  return next;
}
