import { Link } from "react-router";
import { useMonitors } from "../../api/queries";
import { formatSeconds, timeAgo } from "../../lib/format";
import { useTitle } from "../../lib/useTitle";
import { Card, Empty, ErrorAlert, Loading, PageHead, StatusBadge } from "../../ui";

export function MonitorList() {
  useTitle("Monitors");
  const monitors = useMonitors();
  return (
    <>
      <PageHead title="Monitors" subtitle="HTTP, TCP, DNS and TLS checks from every region you choose."
        actions={<Link className="btn btn-primary" to="/monitors/new">New monitor</Link>} />
      <Card>
        {monitors.isPending && <Loading />}
        <ErrorAlert error={monitors.error} />
        {monitors.data?.length === 0 && <Empty title="No monitors yet"><p><Link to="/monitors/new">Create your first monitor</Link>.</p></Empty>}
        {!!monitors.data?.length && (
          <div className="table-wrap"><table className="table">
            <caption className="sr-only">Monitors</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Every</th><th scope="col">Latency</th><th scope="col">Last check</th></tr></thead>
            <tbody>{monitors.data.map((m) => (
              <tr key={m.id}>
                <td><Link to={`/monitors/${m.id}`}>{m.name}</Link></td>
                <td className="muted">{m.type.toUpperCase()}</td>
                <td><StatusBadge status={m.paused ? "paused" : m.status} /></td>
                <td className="muted">{formatSeconds(m.interval)}</td>
                <td>{m.last_latency_ms !== null && m.last_latency_ms !== undefined ? `${Math.round(m.last_latency_ms)} ms` : "—"}</td>
                <td className="muted">{timeAgo(m.last_checked_at)}</td>
              </tr>))}</tbody>
          </table></div>
        )}
      </Card>
    </>
  );
}

export { MonitorForm } from "./MonitorForm";
