import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { formatDateTime, formatDuration, formatSeconds, timeAgo } from "../../lib/format";
import { cronSchedule, cronSnippet, curlSnippet, jobRunSnippet, nativeSnippet, pingUrls, startEndSnippet } from "../../lib/snippets";
import { useTitle } from "../../lib/useTitle";
import { Button, Card, CodeBlock, CopyButton, Empty, ErrorAlert, LoadError, Loading, PageHead, StatusBadge } from "../../ui";

const TimeChart = lazy(() => import("../../ui/charts/TimeChart"));

export function HeartbeatDetail() {
  const { id = "" } = useParams();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [tab, setTab] = useState<"pings" | "runs">("pings");
  const hb = useQuery({
    queryKey: ["heartbeats", id],
    queryFn: async () => unwrap(await api.GET("/api/v1/heartbeats/{heartbeat_id}", { params: { path: { heartbeat_id: id } } })),
    refetchInterval: 15_000,
  });
  const pings = useQuery({
    queryKey: ["heartbeats", id, "pings"],
    queryFn: async () => unwrap(await api.GET("/api/v1/heartbeats/{heartbeat_id}/pings", {
      params: { path: { heartbeat_id: id }, query: { per_page: 50 } } })),
    refetchInterval: 15_000,
  });
  const runs = useQuery({
    queryKey: ["heartbeats", id, "runs"],
    queryFn: async () => unwrap(await api.GET("/api/v1/heartbeats/{heartbeat_id}/runs", {
      params: { path: { heartbeat_id: id }, query: { per_page: 100 } } })),
    refetchInterval: 30_000,
  });
  useTitle(hb.data?.name ?? "Heartbeat");
  const action = useMutation({
    mutationFn: async (what: "pause" | "resume" | "delete") => {
      const path = { heartbeat_id: id };
      if (what === "pause") return unwrap(await api.POST("/api/v1/heartbeats/{heartbeat_id}/pause", { params: { path } }));
      if (what === "resume") return unwrap(await api.POST("/api/v1/heartbeats/{heartbeat_id}/resume", { params: { path } }));
      return unwrap(await api.DELETE("/api/v1/heartbeats/{heartbeat_id}", { params: { path } }));
    },
    onSuccess: async (_d, what) => {
      await qc.invalidateQueries({ queryKey: ["heartbeats"] });
      if (what === "delete") navigate("/heartbeats");
    },
  });
  const chart = useMemo(() => {
    const done = (runs.data?.items ?? []).filter((r) => r.duration_ms !== null && r.started_at).reverse();
    return {
      times: done.map((r) => Date.parse(r.started_at as string) / 1000),
      series: [{ label: "Run time", values: done.map((r) => Math.round((r.duration_ms ?? 0) / 100) / 10) }],
    };
  }, [runs.data]);

  if (hb.isPending) return <Loading />;
  if (hb.isError) return <LoadError error={hb.error} what="Heartbeat" back="/heartbeats" backLabel="Heartbeats" />;
  const h = hb.data;
  const urls = pingUrls(h.ping_url, h.slug);
  return (
    <>
      <PageHead title={h.name} subtitle={<><StatusBadge status={h.status} />{" "}
        {h.cron ? <>cron <code>{h.cron}</code> ({h.timezone})</> : <>every {formatSeconds(h.interval)}</>}, grace {formatSeconds(h.grace)}</>}
        actions={<>
          <Link className="btn" to={`/heartbeats/${h.id}/edit`}>Edit</Link>
          {h.status === "paused"
            ? <Button onClick={() => action.mutate("resume")} busy={action.isPending}>Resume</Button>
            : <Button onClick={() => action.mutate("pause")} busy={action.isPending}>Pause</Button>}
          <Button variant="danger" onClick={() => { if (window.confirm(`Delete ${h.name}? Its pings and runs go too.`)) action.mutate("delete"); }}>Delete</Button>
        </>} />
      <ErrorAlert error={action.error} />
      <div className="grid-stats" style={{ marginBottom: "1rem" }}>
        <div className="stat"><div className="num">{timeAgo(h.last_ping_at)}</div><div className="label">Last ping</div></div>
        <div className="stat"><div className="num">{formatDuration(h.last_duration_ms)}</div><div className="label">Last run</div></div>
        <div className="stat"><div className="num">{h.n_pings}</div><div className="label">Pings</div></div>
        <div className="stat"><div className="num">{h.down_at ? timeAgo(h.down_at) : "—"}</div><div className="label">Missed after</div></div>
      </div>
      <div className="stack">
        <Card title="Ping URLs">
          <p className="muted">Any of these marks a run as done. The first needs no token, so it fits any cron job.</p>
          <dl className="props">
            <dt>Ping URL</dt>
            <dd className="row"><code data-testid="ping-url">{urls.healthchecks}</code><CopyButton text={urls.healthchecks} label="Copy ping URL" /></dd>
            <dt>Native (token)</dt>
            <dd className="row"><code>POST {urls.native}</code><CopyButton text={urls.native} label="Copy native URL" /></dd>
            <dt>Job-run (token)</dt>
            <dd className="row"><code>POST {urls.jobRun}</code><CopyButton text={urls.jobRun} label="Copy job-run URL" /></dd>
          </dl>
          <h3 style={{ marginTop: "1rem" }}>Snippets</h3>
          <CodeBlock label="curl snippet" code={curlSnippet(urls.healthchecks)} />
          <CodeBlock label="crontab line" code={cronSnippet(urls.healthchecks, cronSchedule(h.cron, h.interval))} />
          <CodeBlock label="start and end snippet" code={startEndSnippet(urls.healthchecks)} />
          <CodeBlock label="native ping snippet" code={nativeSnippet(urls)} />
          <CodeBlock label="job-run ping snippet" code={jobRunSnippet(urls, h.name)} />
        </Card>
        <Card title="Run time">
          {chart.times.length < 2
            ? <p className="muted">The chart appears after two runs with start and end pings.</p>
            : <Suspense fallback={<Loading />}><TimeChart title="Run time of recent runs" times={chart.times} series={chart.series} unit=" s" /></Suspense>}
        </Card>
        <Card>
          <div className="tabs" role="tablist" aria-label="History">
            <button type="button" role="tab" aria-selected={tab === "pings"} onClick={() => setTab("pings")}>Pings</button>
            <button type="button" role="tab" aria-selected={tab === "runs"} onClick={() => setTab("runs")}>Runs</button>
          </div>
          {tab === "pings" && (
            <div role="tabpanel" aria-label="Pings">
              {pings.isPending && <Loading />}
              <ErrorAlert error={pings.error} />
              {pings.data?.items.length === 0 && <Empty title="No pings yet"><p>Run the curl snippet above to send the first one.</p></Empty>}
              {!!pings.data?.items.length && (
                <div className="table-wrap"><table className="table">
                  <caption className="sr-only">Ping log</caption>
                  <thead><tr><th scope="col">Received</th><th scope="col">Kind</th><th scope="col">Dialect</th><th scope="col">From</th><th scope="col">Body</th></tr></thead>
                  <tbody>{pings.data.items.map((p) => (
                    <tr key={p.id}>
                      <td title={formatDateTime(p.received_at)}>{timeAgo(p.received_at)}</td>
                      <td><StatusBadge status={p.kind} />{p.exit_code !== null && p.exit_code !== undefined ? ` exit ${p.exit_code}` : ""}</td>
                      <td className="muted">{p.dialect} {p.method}</td>
                      <td className="muted">{p.remote_ip}</td>
                      <td className="mono">{(p.body ?? "").slice(0, 80)}</td>
                    </tr>))}</tbody>
                </table></div>
              )}
            </div>
          )}
          {tab === "runs" && (
            <div role="tabpanel" aria-label="Runs">
              {runs.isPending && <Loading />}
              <ErrorAlert error={runs.error} />
              {runs.data?.items.length === 0 && <Empty title="No runs yet"><p>Send a /start ping before the job and a ping after it to record runs.</p></Empty>}
              {!!runs.data?.items.length && (
                <div className="table-wrap"><table className="table">
                  <caption className="sr-only">Runs</caption>
                  <thead><tr><th scope="col">Started</th><th scope="col">Outcome</th><th scope="col">Duration</th><th scope="col">Exit code</th></tr></thead>
                  <tbody>{runs.data.items.map((r) => (
                    <tr key={r.id}>
                      <td>{formatDateTime(r.started_at)}</td>
                      <td><StatusBadge status={r.outcome ?? "running"} />{r.ran_too_long ? " (too long)" : ""}</td>
                      <td>{formatDuration(r.duration_ms)}</td>
                      <td>{r.exit_code ?? "—"}</td>
                    </tr>))}</tbody>
                </table></div>
              )}
            </div>
          )}
        </Card>
      </div>
    </>
  );
}
