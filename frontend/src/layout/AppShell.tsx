import { useEffect, useState, type ReactNode } from "react";
import { Navigate, NavLink, Outlet, useLocation, useNavigate, useRouteError } from "react-router";
import { errorMessage } from "../api/client";
import { useLiveFeed } from "../api/live";
import { useMe, useSignOut } from "../api/session";
import { useUnreadCount } from "../pages/notifications/Feed";
import { Alert, Loading } from "../ui";
import { ThemeToggle } from "../ui/ThemeToggle";

export function Logo() {
  return (
    <svg width="26" height="26" viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="7" fill="#2f5bea" />
      <path d="M9 9l14 14M23 9L9 23" stroke="#fff" strokeWidth="4" strokeLinecap="round" />
    </svg>
  );
}

/** Pages behind sign-in: a browser without a session goes to /login and comes back afterwards. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <div className="auth"><Loading /></div>;
  if (me.isError) return <div className="auth"><Alert>{errorMessage(me.error)}</Alert></div>;
  if (!me.data) {
    const next = location.pathname + location.search;
    return <Navigate to={next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return <>{children}</>;
}

const NAV: { to: string; label: string; end?: boolean }[] = [
  { to: "/", label: "Overview", end: true },
  { to: "/incidents", label: "Incidents" },
  { to: "/monitors", label: "Monitors" },
  { to: "/heartbeats", label: "Heartbeats" },
  { to: "/oncall", label: "On-call" },
  { to: "/channels", label: "Channels" },
  { to: "/status-pages", label: "Status pages" },
  { to: "/explore", label: "Explore" },
  { to: "/telemetry", label: "Telemetry" },
  { to: "/settings", label: "Settings" },
];

export function AppShell() {
  const me = useMe();
  const live = useLiveFeed(Boolean(me.data));
  const unread = useUnreadCount(Boolean(me.data));
  const signOut = useSignOut();
  const navigate = useNavigate();
  const location = useLocation();
  // On a phone the navigation is a menu: closed on every page change.
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => {
    setMenuOpen(false);
    document.getElementById("main")?.focus({ preventScroll: true });
  }, [location.pathname]);
  const tenant = me.data?.tenants?.find((t) => t.id === me.data?.tenant_id);
  return (
    <div className="shell">
      <a className="skip-link" href="#main">Skip to content</a>
      <aside className="sidebar">
        <div className="sidebar-top">
          <NavLink to="/" className="brand"><Logo /> Xinex</NavLink>
          <button type="button" className="btn btn-sm menu-toggle" aria-expanded={menuOpen} aria-controls="app-menu"
            onClick={() => setMenuOpen((open) => !open)}>
            <span aria-hidden="true">☰</span> Menu
          </button>
        </div>
        <div id="app-menu" className="sidebar-menu" data-open={menuOpen}>
        <nav className="nav" aria-label="Main">
          {NAV.map((item) => <NavLink key={item.to} to={item.to} end={item.end}>{item.label}</NavLink>)}
          <NavLink to="/notifications">
            Notifications
            {!!unread.data && <span className="count" aria-label={`${unread.data} unread`}>{unread.data}</span>}
          </NavLink>
        </nav>
        <div className="sidebar-foot">
          <span className="live" title="Live updates">
            <span className="live-dot" data-state={live} aria-hidden="true" />
            {live === "open" ? "Live" : live === "connecting" ? "Connecting…" : "Reconnecting…"}
          </span>
          {tenant && <span>{tenant.name}</span>}
          <span>{me.data?.email}</span>
          <div className="row">
            <ThemeToggle />
            <button type="button" className="btn btn-sm" onClick={async () => { await signOut(); navigate("/login"); }}>
              Sign out
            </button>
          </div>
        </div>
        </div>
      </aside>
      <main id="main" className="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}

export function RouteError() {
  const error = useRouteError();
  return (
    <div className="auth">
      <div className="card auth-card">
        <h1>Something went wrong</h1>
        <Alert>{errorMessage(error)}</Alert>
        <a href="/">Back to the overview</a>
      </div>
    </div>
  );
}
