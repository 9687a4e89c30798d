import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { formatDateTime, formatDuration, formatSeconds, timeAgo } from "../../lib/format";
import { useTitle } from "../../lib/useTitle";
import { Alert, Button, Card, CodeBlock, Empty, ErrorAlert, LoadError, Loading, PageHead, StatusBadge } from "../../ui";
import { aiRunSnippet, breachText, budgetLines, formatUsd, scheduleText } from "./format";

/** One AI heartbeat: its status and budgets, where the budgets stand now, how to report runs, and the runs. */
export function AiHeartbeatDetail() {
  const { id = "" } = useParams();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const hb = useQuery({
    queryKey: ["ai-heartbeats", id],
    queryFn: async () => unwrap(await api.GET("/api/v1/ai-heartbeats/{hb_id}", { params: { path: { hb_id: id } } })),
    refetchInterval: 15_000,
  });
  const summary = useQuery({
    queryKey: ["ai-heartbeats", id, "summary"],
    queryFn: async () => unwrap(await api.GET("/api/v1/ai-heartbeats/{hb_id}/summary", { params: { path: { hb_id: id } } })),
    refetchInterval: 15_000,
    enabled: hb.isSuccess,
  });
  const runs = useQuery({
    queryKey: ["ai-heartbeats", id, "runs"],
    queryFn: async () => unwrap(await api.GET("/api/v1/ai-heartbeats/{hb_id}/runs", { params: { path: { hb_id: id }, query: { per_page: 50 } } })),
    refetchInterval: 15_000,
    enabled: hb.isSuccess,
  });
  useTitle(hb.data?.name ?? "AI heartbeat");
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/api/v1/ai-heartbeats/{hb_id}", { params: { path: { hb_id: id } } })),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ["ai-heartbeats"] });
      await qc.invalidateQueries({ queryKey: ["overview"] });
      navigate("/");
    },
  });
  if (hb.isPending) return <Loading />;
  if (hb.isError || !hb.data) return <LoadError error={hb.error} what="AI heartbeat" back="/" backLabel="Overview" />;
  const h = hb.data;
  const s = summary.data;
  return (
    <>
      <p><Link to="/">← Overview</Link></p>
      <PageHead title={h.name} subtitle={<><StatusBadge status={h.status} /> AI heartbeat · {scheduleText(h, formatSeconds)}</>}
        actions={<Button variant="danger" busy={remove.isPending}
          onClick={() => { if (window.confirm(`Delete ${h.name} and its runs?`)) remove.mutate(); }}>Delete</Button>} />
      <ErrorAlert error={remove.error} />
      {h.description && <p>{h.description}</p>}
      {h.breaches.length > 0 && (
        <Alert>Over budget: {h.breaches.map(breachText).join("; ")}</Alert>
      )}
      <div className="stack">
        <section aria-label="Where the budgets stand" className="grid-stats">
          {summary.isPending && <Loading />}
          <ErrorAlert error={summary.error} />
          {s && <>
            <div className="stat"><div className="num">{s.runs}</div><div className="label">Runs in the last {formatSeconds(s.window_s)}</div></div>
            <div className="stat"><div className="num">{s.failure_rate === null ? "–" : `${(s.failure_rate * 100).toFixed(1)} %`}</div><div className="label">Failure rate ({s.failures} failed)</div></div>
            <div className="stat"><div className="num">{s.p95_latency_ms === null ? "–" : formatDuration(s.p95_latency_ms)}</div><div className="label">p95 latency</div></div>
            <div className="stat"><div className="num">{formatUsd(s.cost_today_usd)}</div><div className="label">Cost today (UTC)</div></div>
            <div className="stat"><div className="num">{s.running}</div><div className="label">Running now</div></div>
          </>}
        </section>
        <div className="grid-2">
          <Card title="Budgets">
            <dl className="props">
              {budgetLines(h.budgets).map(([k, v]) => <div key={k} style={{ display: "contents" }}><dt>{k}</dt><dd>{v}</dd></div>)}
              <dt>Last event</dt><dd>{timeAgo(h.last_event_at)}</dd>
              <dt>Next run due</dt><dd>{h.late_at ? formatDateTime(h.late_at) : "—"}</dd>
              <dt>Tags</dt><dd>{h.tags.length ? h.tags.join(", ") : "—"}</dd>
            </dl>
          </Card>
          <Card title="Report runs">
            <p className="muted">Send a start and an end event per run, with an API token that has the heartbeats:write scope.</p>
            <CodeBlock label="run events with curl" code={aiRunSnippet(window.location.origin, h.id)} />
          </Card>
        </div>
        <Card title="Runs">
          {runs.isPending && <Loading />}
          <ErrorAlert error={runs.error} />
          {runs.data?.items.length === 0 && <Empty title="No runs yet"><p>Runs appear here as your agent reports them.</p></Empty>}
          {!!runs.data?.items.length && (
            <div className="table-wrap"><table className="table">
              <caption className="sr-only">Runs, newest first</caption>
              <thead><tr><th scope="col">Run</th><th scope="col">Started</th><th scope="col">Outcome</th><th scope="col">Model</th>
                <th scope="col">Tokens in / out</th><th scope="col">Cost</th><th scope="col">Latency</th><th scope="col">Steps</th></tr></thead>
              <tbody>{runs.data.items.map((r) => (
                <tr key={r.id}>
                  <td><code>{r.run_id}</code></td>
                  <td title={formatDateTime(r.started_at)}>{timeAgo(r.started_at)}</td>
                  <td><StatusBadge status={r.outcome} />{r.error ? ` ${r.error}` : ""}</td>
                  <td>{r.model ?? "—"}</td>
                  <td>{r.input_tokens.toLocaleString()} / {r.output_tokens.toLocaleString()}</td>
                  <td>{formatUsd(r.cost_usd)}</td>
                  <td>{formatDuration(r.latency_ms)}</td>
                  <td>{r.steps}</td>
                </tr>))}</tbody>
            </table></div>
          )}
        </Card>
      </div>
    </>
  );
}
