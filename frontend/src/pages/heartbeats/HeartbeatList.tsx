import { Link } from "react-router";
import { useHeartbeats } from "../../api/queries";
import { formatDuration, formatSeconds, timeAgo } from "../../lib/format";
import { useTitle } from "../../lib/useTitle";
import { Card, Empty, ErrorAlert, Loading, PageHead, StatusBadge } from "../../ui";

export function HeartbeatList() {
  useTitle("Heartbeats");
  const hbs = useHeartbeats();
  return (
    <>
      <PageHead title="Heartbeats" subtitle="Cron jobs and workers that ping Xinex; a missing ping opens an incident."
        actions={<Link className="btn btn-primary" to="/heartbeats/new">New heartbeat</Link>} />
      <Card>
        {hbs.isPending && <Loading />}
        <ErrorAlert error={hbs.error} />
        {hbs.data?.length === 0 && (
          <Empty title="No heartbeats yet"><p><Link to="/heartbeats/new">Create your first heartbeat</Link>.</p></Empty>
        )}
        {!!hbs.data?.length && (
          <div className="table-wrap">
            <table className="table">
              <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Schedule</th>
                <th scope="col">Last ping</th><th scope="col">Last run</th></tr></thead>
              <tbody>
                {hbs.data.map((h) => (
                  <tr key={h.id}>
                    <td><Link to={`/heartbeats/${h.id}`}>{h.name}</Link></td>
                    <td><StatusBadge status={h.status} /></td>
                    <td className="muted">{h.cron ? <code>{h.cron}</code> : `every ${formatSeconds(h.interval)}`}</td>
                    <td className="muted">{timeAgo(h.last_ping_at)}</td>
                    <td className="muted">{formatDuration(h.last_duration_ms)}</td>
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
