import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useMemo } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { formatDateTime, formatSeconds, timeAgo } from "../../lib/format";
import { useTitle } from "../../lib/useTitle";
import { Button, Card, Empty, ErrorAlert, Loading, PageHead, StatusBadge } from "../../ui";

const TimeChart = lazy(() => import("../../ui/charts/TimeChart"));

export function MonitorDetail() {
  const { id = "" } = useParams();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const monitor = useQuery({
    queryKey: ["monitors", id],
    queryFn: async () => unwrap(await api.GET("/api/v1/monitors/{monitor_id}", { params: { path: { monitor_id: id } } })),
    refetchInterval: 30_000,
  });
  const checks = useQuery({
    queryKey: ["monitors", id, "checks"],
    queryFn: async () => unwrap(await api.GET("/api/v1/monitors/{monitor_id}/checks", { params: { path: { monitor_id: id }, query: { per_page: 100 } } })),
    refetchInterval: 30_000,
  });
  const m = monitor.data as ({ name: string; type: string; status: string; paused: boolean; interval: number; timeout: number; regions: string[];
    last_checked_at: string | null; last_error: string | null; status_changed_at: string | null; tags: string[] } & Record<string, unknown>) | undefined;
  useTitle(m?.name ?? "Monitor");
  const action = useMutation({
    mutationFn: async (what: "pause" | "resume" | "delete") => {
      const path = { monitor_id: id };
      if (what === "pause") return unwrap(await api.POST("/api/v1/monitors/{monitor_id}/pause", { params: { path } }));
      if (what === "resume") return unwrap(await api.POST("/api/v1/monitors/{monitor_id}/resume", { params: { path } }));
      return unwrap(await api.DELETE("/api/v1/monitors/{monitor_id}", { params: { path } }));
    },
    onSuccess: async (_d, what) => {
      await qc.invalidateQueries({ queryKey: ["monitors"] });
      if (what === "delete") navigate("/monitors");
    },
  });
  const chart = useMemo(() => {
    const items = [...(checks.data?.items ?? [])].reverse();
    const regions = [...new Set(items.map((c) => c.region))];
    const times = [...new Set(items.map((c) => Date.parse(c.timestamp) / 1000))].sort((a, b) => a - b);
    const at = new Map(times.map((t, i) => [t, i]));
    const series = regions.map((r) => {
      const values: (number | null)[] = new Array(times.length).fill(null);
      for (const c of items) if (c.region === r) values[at.get(Date.parse(c.timestamp) / 1000)!] = Math.round(c.latency_ms);
      return { label: r, values };
    });
    return { times, series };
  }, [checks.data]);
  if (monitor.isPending) return <Loading />;
  if (monitor.isError || !m) return <ErrorAlert error={monitor.error} />;
  const target = String(m.url ?? m.hostname ?? (m.host ? `${m.host}:${m.port ?? ""}` : ""));
  return (
    <>
      <p><Link to="/monitors">← Monitors</Link></p>
      <PageHead title={m.name} subtitle={<><StatusBadge status={m.paused ? "paused" : m.status} /> {m.type.toUpperCase()} {target} · every {formatSeconds(m.interval)}</>}
        actions={<>
          <Link className="btn" to={`/monitors/${id}/edit`}>Edit</Link>
          {m.paused ? <Button onClick={() => action.mutate("resume")}>Resume</Button> : <Button onClick={() => action.mutate("pause")}>Pause</Button>}
          <Button variant="danger" onClick={() => { if (window.confirm(`Delete ${m.name}?`)) action.mutate("delete"); }}>Delete</Button>
        </>} />
      <ErrorAlert error={action.error} />
      <div className="stack">
        <Card title="Response time">
          {chart.times.length < 2 ? <p className="muted">The chart appears after two checks.</p> : (
            <Suspense fallback={<Loading />}><TimeChart title="Response time by region" times={chart.times} series={chart.series} unit=" ms" /></Suspense>
          )}
        </Card>
        <div className="grid-2">
          <Card title="Details">
            <dl className="props">
              <dt>Status since</dt><dd>{formatDateTime(m.status_changed_at)}</dd>
              <dt>Last check</dt><dd>{timeAgo(m.last_checked_at)}</dd>
              <dt>Last error</dt><dd>{m.last_error || "—"}</dd>
              <dt>Timeout</dt><dd>{m.timeout} s</dd>
              <dt>Regions</dt><dd>{m.regions.length ? m.regions.join(", ") : "this server"}</dd>
              <dt>Tags</dt><dd>{m.tags.length ? m.tags.join(", ") : "—"}</dd>
            </dl>
          </Card>
          <Card title="Recent checks">
            {checks.isPending && <Loading />}
            <ErrorAlert error={checks.error} />
            {checks.data?.items.length === 0 && <Empty title="No checks yet" />}
            {!!checks.data?.items.length && (
              <div className="table-wrap"><table className="table">
                <caption className="sr-only">Recent checks</caption>
                <thead><tr><th scope="col">When</th><th scope="col">Region</th><th scope="col">Result</th><th scope="col">Latency</th></tr></thead>
                <tbody>{checks.data.items.slice(0, 30).map((c) => (
                  <tr key={c.check_id}>
                    <td title={formatDateTime(c.timestamp)}>{timeAgo(c.timestamp)}</td><td>{c.region}</td>
                    <td><StatusBadge status={c.status} />{c.status_code ? ` ${c.status_code}` : ""}{c.error ? ` ${c.error}` : ""}</td>
                    <td>{Math.round(c.latency_ms)} ms</td>
                  </tr>))}</tbody>
              </table></div>
            )}
          </Card>
        </div>
      </div>
    </>
  );
}
