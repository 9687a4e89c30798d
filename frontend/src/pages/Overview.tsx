import { memo, useMemo, useRef } from "react";
import { Link, useSearchParams } from "react-router";
import { useIncidents, useOverview, type OverviewData } from "../api/queries";
import { timeAgo } from "../lib/format";
import { formatUptime } from "../lib/spark";
import { useTitle } from "../lib/useTitle";
import { useVirtualRows } from "../lib/virtual";
import { Alert, Card, Empty, ErrorAlert, Loading, PageHead, StatusBadge } from "../ui";
import { Sparkline } from "../ui/Sparkline";

export interface Row {
  key: string;
  kind: "Heartbeat" | "Monitor" | "AI heartbeat";
  name: string;
  status: string;
  href: string;
  last: string | null;
  uptime: number | null;
  spark: (number | null)[];
  sparkLabel: string;
}

const RANK: Record<string, number> = { down: 0, failed: 0, breached: 0, late: 1, degraded: 1, new: 2, pending: 2, up: 3, ok: 3, paused: 4 };
const ROW_HEIGHT = 48;

/** Everything monitored in one list, the worst first. */
export function overviewRows(data: Pick<OverviewData, "heartbeats" | "monitors" | "ai_heartbeats">): Row[] {
  const rows: Row[] = [
    ...data.heartbeats.map((h) => ({
      key: `h-${h.id}`, kind: "Heartbeat" as const, name: h.name, status: h.status, href: `/heartbeats/${h.id}`,
      last: h.last_ping_at ?? null, uptime: h.uptime_pct ?? null, spark: h.spark, sparkLabel: `Durations of the last ${h.spark.length} runs`,
    })),
    ...data.monitors.map((m) => ({
      key: `m-${m.id}`, kind: "Monitor" as const, name: m.name, status: m.paused ? "paused" : m.status, href: `/monitors/${m.id}`,
      last: m.last_checked_at ?? null, uptime: m.uptime_pct ?? null, spark: m.spark, sparkLabel: "Response time per hour, last 24 hours",
    })),
    ...data.ai_heartbeats.map((a) => ({
      key: `a-${a.id}`, kind: "AI heartbeat" as const, name: a.name, status: a.status, href: `/ai-heartbeats/${a.id}`,
      last: a.last_event_at ?? null, uptime: a.uptime_pct ?? null, spark: [], sparkLabel: "",
    })),
  ];
  return rows.sort((a, b) => (RANK[a.status] ?? 2) - (RANK[b.status] ?? 2) || a.name.localeCompare(b.name));
}

const OverviewRow = memo(function OverviewRow({ row, index }: { row: Row; index: number }) {
  return (
    <tr aria-rowindex={index + 2} style={{ height: ROW_HEIGHT }}>
      <td className="cell-name"><Link to={row.href}>{row.name}</Link></td>
      <td className="muted col-kind">{row.kind}</td>
      <td><StatusBadge status={row.status} /></td>
      <td className="num-cell">{formatUptime(row.uptime)}</td>
      <td className="col-spark">{row.kind === "AI heartbeat" ? <span className="muted">–</span> : <Sparkline values={row.spark} label={row.sparkLabel} />}</td>
      <td className="muted col-last">{timeAgo(row.last)}</td>
    </tr>
  );
});

/** The list, virtualised: a thousand items put only the rows in view (and a margin) in the DOM. */
function OverviewTable({ rows }: { rows: Row[] }) {
  const box = useRef<HTMLDivElement>(null);
  const range = useVirtualRows(box, rows.length, ROW_HEIGHT);
  return (
    <div ref={box} className="vscroll" tabIndex={0} role="region" aria-label="Monitors and heartbeats, scrollable"
      style={{ maxHeight: Math.min(rows.length * ROW_HEIGHT + 44, 640) }}>
      <table className="table table-fixed" aria-rowcount={rows.length + 1}>
        <caption className="sr-only">Monitors and heartbeats, the worst status first ({rows.length})</caption>
        <thead>
          <tr aria-rowindex={1}>
            <th scope="col">Name</th><th scope="col" className="col-kind">Type</th><th scope="col" className="col-status">Status</th>
            <th scope="col" className="col-uptime">Uptime 24 h</th><th scope="col" className="col-spark">Trend</th><th scope="col" className="col-last">Last activity</th>
          </tr>
        </thead>
        <tbody>
          {/* Spacers span one column: a wider span would add phantom columns where a phone hides two. */}
          {range.before > 0 && <tr aria-hidden="true" className="spacer" style={{ height: range.before }}><td /></tr>}
          {rows.slice(range.start, range.end).map((r, i) => <OverviewRow key={r.key} row={r} index={range.start + i} />)}
          {range.after > 0 && <tr aria-hidden="true" className="spacer" style={{ height: range.after }}><td /></tr>}
        </tbody>
      </table>
    </div>
  );
}

export function Overview() {
  useTitle("Overview");
  const [params] = useSearchParams();
  const overview = useOverview();
  const open = useIncidents(["open"]);
  const rows = useMemo(() => (overview.data ? overviewRows(overview.data) : []), [overview.data]);
  const counts = useMemo(() => {
    const c: Record<string, number> = {};
    for (const r of rows) c[r.status] = (c[r.status] ?? 0) + 1;
    return c;
  }, [rows]);
  return (
    <>
      <PageHead title="Overview" subtitle="Everything you monitor, live." actions={
        <Link className="btn btn-primary" to="/heartbeats/new">New heartbeat</Link>} />
      {params.get("welcome") && <Alert kind="ok">Welcome to Xinex! Your account is ready — start with a heartbeat for a cron job.</Alert>}
      <div className="grid-stats" style={{ marginBottom: "1rem" }}>
        <Link to="/incidents" className="stat" style={{ color: "inherit", textDecoration: "none" }}>
          <div className="num">{open.data?.total ?? "–"}</div><div className="label">Open incidents</div>
        </Link>
        <div className="stat"><div className="num">{counts.down ?? 0}</div><div className="label">Down</div></div>
        <div className="stat"><div className="num">{counts.late ?? 0}</div><div className="label">Late</div></div>
        <div className="stat"><div className="num">{(counts.up ?? 0) + (counts.ok ?? 0)}</div><div className="label">Up</div></div>
      </div>
      <Card title="Monitors and heartbeats">
        {overview.isPending && <Loading />}
        <ErrorAlert error={overview.error} />
        {overview.data && !overview.data.history_available && (
          <Alert kind="info">Response-time history is unavailable right now; statuses are current.</Alert>
        )}
        {overview.data && rows.length === 0 && (
          <Empty title="Nothing monitored yet">
            <ol style={{ textAlign: "left", display: "inline-block" }}>
              <li><Link to="/heartbeats/new">Create a heartbeat</Link> for a cron job or a worker.</li>
              <li>Add its ping URL to the job.</li>
              <li>Get an incident when it misses a run.</li>
            </ol>
          </Empty>
        )}
        {rows.length > 0 && <OverviewTable rows={rows} />}
      </Card>
    </>
  );
}
