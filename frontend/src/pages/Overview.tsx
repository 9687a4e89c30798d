import { Link, useSearchParams } from "react-router";
import { useAiHeartbeats, useHeartbeats, useIncidents, useMonitors } from "../api/queries";
import { timeAgo } from "../lib/format";
import { Alert, Card, Empty, ErrorAlert, Loading, PageHead, StatusBadge } from "../ui";
import { useTitle } from "../lib/useTitle";

export interface Row {
  key: string;
  kind: "Heartbeat" | "Monitor" | "AI heartbeat";
  name: string;
  status: string;
  href: string | null;
  last: string | null;
}

const RANK: Record<string, number> = { down: 0, failed: 0, late: 1, degraded: 1, new: 2, up: 3, paused: 4 };

/** Everything monitored in one list, the worst first. */
export function overviewRows(hbs: { id: string; name: string; status: string; last_ping_at: string | null }[],
  monitors: { id: string; name: string; status: string; paused: boolean; last_checked_at: string | null }[],
  ai: { id: string; name: string; status: string; last_event_at: string | null }[]): Row[] {
  const rows: Row[] = [
    ...hbs.map((h) => ({ key: `h-${h.id}`, kind: "Heartbeat" as const, name: h.name, status: h.status, href: `/heartbeats/${h.id}`, last: h.last_ping_at })),
    ...monitors.map((m) => ({ key: `m-${m.id}`, kind: "Monitor" as const, name: m.name, status: m.paused ? "paused" : m.status, href: `/monitors/${m.id}`, last: m.last_checked_at })),
    ...ai.map((a) => ({ key: `a-${a.id}`, kind: "AI heartbeat" as const, name: a.name, status: a.status, href: null, last: a.last_event_at })),
  ];
  return rows.sort((a, b) => (RANK[a.status] ?? 2) - (RANK[b.status] ?? 2) || a.name.localeCompare(b.name));
}

export function Overview() {
  useTitle("Overview");
  const [params] = useSearchParams();
  const hbs = useHeartbeats();
  const monitors = useMonitors();
  const ai = useAiHeartbeats();
  const open = useIncidents(["open"]);
  const loading = hbs.isPending || monitors.isPending || ai.isPending;
  const error = hbs.error || monitors.error || ai.error;
  const rows = overviewRows(hbs.data ?? [], monitors.data ?? [], ai.data ?? []);
  const count = (s: string) => rows.filter((r) => r.status === s).length;
  return (
    <>
      <PageHead title="Overview" subtitle="Everything you monitor, live." actions={
        <Link className="btn btn-primary" to="/heartbeats/new">New heartbeat</Link>} />
      {params.get("welcome") && <Alert kind="ok">Welcome to Xinex! Your account is ready — start with a heartbeat for a cron job.</Alert>}
      <div className="grid-stats" style={{ marginBottom: "1rem" }}>
        <Link to="/incidents" className="stat" style={{ color: "inherit", textDecoration: "none" }}>
          <div className="num">{open.data?.total ?? "–"}</div><div className="label">Open incidents</div>
        </Link>
        <div className="stat"><div className="num">{count("down")}</div><div className="label">Down</div></div>
        <div className="stat"><div className="num">{count("late")}</div><div className="label">Late</div></div>
        <div className="stat"><div className="num">{count("up")}</div><div className="label">Up</div></div>
      </div>
      <Card title="Monitors and heartbeats">
        {loading && <Loading />}
        <ErrorAlert error={error} />
        {!loading && !error && rows.length === 0 && (
          <Empty title="Nothing monitored yet">
            <ol style={{ textAlign: "left", display: "inline-block" }}>
              <li><Link to="/heartbeats/new">Create a heartbeat</Link> for a cron job or a worker.</li>
              <li>Add its ping URL to the job.</li>
              <li>Get an incident when it misses a run.</li>
            </ol>
          </Empty>
        )}
        {rows.length > 0 && (
          <div className="table-wrap">
            <table className="table">
              <caption className="sr-only">Monitors and heartbeats, the worst status first</caption>
              <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Last activity</th></tr></thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.key}>
                    <td>{r.href ? <Link to={r.href}>{r.name}</Link> : r.name}</td>
                    <td className="muted">{r.kind}</td>
                    <td><StatusBadge status={r.status} /></td>
                    <td className="muted">{timeAgo(r.last)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  );
}
