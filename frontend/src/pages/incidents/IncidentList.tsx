import { useState } from "react";
import { Link } from "react-router";
import { useIncidents, type IncidentStatus } from "../../api/queries";
import { formatDateTime, timeAgo } from "../../lib/format";
import { useTitle } from "../../lib/useTitle";
import { Button, Card, Empty, ErrorAlert, Loading, PageHead, SelectField, StatusBadge } from "../../ui";

const FILTERS: Record<string, IncidentStatus[] | null> = {
  open: ["open"], triggered: ["triggered"], acknowledged: ["acknowledged"], resolved: ["resolved"], all: null,
};

export function IncidentList() {
  useTitle("Incidents");
  const [filter, setFilter] = useState("open");
  const [page, setPage] = useState(1);
  const incidents = useIncidents(FILTERS[filter], page);
  const data = incidents.data;
  return (
    <>
      <PageHead title="Incidents" subtitle="Updated live as incidents open, escalate, get acknowledged and resolve." />
      <Card>
        <div style={{ maxWidth: 240 }}>
          <SelectField label="Show" value={filter} onChange={(e) => { setFilter(e.target.value); setPage(1); }}>
            <option value="open">Open (triggered or acknowledged)</option>
            <option value="triggered">Triggered</option>
            <option value="acknowledged">Acknowledged</option>
            <option value="resolved">Resolved</option>
            <option value="all">All</option>
          </SelectField>
        </div>
        {incidents.isPending && <Loading />}
        <ErrorAlert error={incidents.error} />
        {data?.items.length === 0 && <Empty title={filter === "open" ? "No open incidents" : "No incidents"}><p>All quiet.</p></Empty>}
        {!!data?.items.length && (
          <div className="table-wrap">
            <table className="table">
              <caption className="sr-only">Incidents</caption>
              <thead><tr><th scope="col">Incident</th><th scope="col">Status</th><th scope="col">Severity</th><th scope="col">Opened</th><th scope="col">Alerts</th></tr></thead>
              <tbody>
                {data.items.map((i) => (
                  <tr key={i.id}>
                    <td><Link to={`/incidents/${i.id}`}>{i.title}</Link></td>
                    <td><StatusBadge status={i.status} /></td>
                    <td>{i.severity}</td>
                    <td title={formatDateTime(i.opened_at)}>{timeAgo(i.opened_at)}</td>
                    <td>{i.alert_count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {data && data.total_pages > 1 && (
          <div className="row" style={{ marginTop: ".75rem" }}>
            <Button size="sm" disabled={page <= 1} onClick={() => setPage(page - 1)}>Previous</Button>
            <span className="muted">Page {data.page} of {data.total_pages}</span>
            <Button size="sm" disabled={page >= data.total_pages} onClick={() => setPage(page + 1)}>Next</Button>
          </div>
        )}
      </Card>
    </>
  );
}
