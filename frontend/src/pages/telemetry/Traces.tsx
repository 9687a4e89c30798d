import { useMutation, useQuery } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, unwrap } from "../../api/client";
import type { Ok } from "../../api/endpoints";
import { formatDateTime, formatDuration } from "../../lib/format";
import { useTitle } from "../../lib/useTitle";
import { layoutWaterfall, ticks, type WaterfallRow } from "../../lib/waterfall";
import { Alert, Button, Card, Empty, ErrorAlert, Loading, LoadError, SelectField, StatusBadge, TextField } from "../../ui";
import "./telemetry.css";

type Trace = Ok<"/api/v1/telemetry/traces/{trace_id}", "get">;
type Span = Trace["roots"][number];
const RANGES = ["15m", "1h", "6h", "1d", "7d"];

/** Recent root spans (one per trace) from OQL, and a box to open any trace by id. */
export function Traces() {
  useTitle("Traces");
  const navigate = useNavigate();
  const [id, setId] = useState("");
  const [range, setRange] = useState("1h");
  const [errorsOnly, setErrorsOnly] = useState(false);
  const recent = useQuery({
    queryKey: ["recent-traces", { range, errorsOnly }],
    queryFn: async () => unwrap(await api.POST("/api/v1/dsl", { body: {
      query: `SELECT trace_id, service, name, duration_ms, is_error, timestamp FROM spans WHERE is_root${errorsOnly ? " AND is_error" : ""} `
        + `ORDER BY timestamp DESC LIMIT 100 LAST ${range}`, annotations: false } })),
    refetchInterval: 30_000,
  });
  const open = (e: FormEvent) => {
    e.preventDefault();
    if (id.trim()) navigate(`/telemetry/traces/${id.trim().toLowerCase()}`);
  };
  const rows = (recent.data?.rows ?? []) as [string, string, string, number, boolean | number, string][];
  return (
    <div className="stack">
      <Card>
        <form className="row" onSubmit={open} style={{ alignItems: "flex-end" }}>
          <div style={{ flex: 1, minWidth: 280 }}>
            <TextField label="Trace id" value={id} onChange={(e) => setId(e.target.value)} placeholder="32 hex digits"
              pattern="[0-9a-fA-F]{32}" spellCheck={false} className="input mono" />
          </div>
          <div className="field"><Button type="submit" variant="primary" disabled={!id.trim()}>Open trace</Button></div>
        </form>
      </Card>
      <Card title="Recent traces" actions={<>
        <SelectField label="Time range" value={range} onChange={(e) => setRange(e.target.value)}>
          {RANGES.map((r) => <option key={r} value={r}>last {r}</option>)}
        </SelectField>
        <div className="check" style={{ marginTop: "1.2rem" }}>
          <input id="traces-errors" type="checkbox" checked={errorsOnly} onChange={(e) => setErrorsOnly(e.target.checked)} />
          <label htmlFor="traces-errors">Errors only</label>
        </div>
      </>}>
        {recent.isPending && <Loading />}
        <ErrorAlert error={recent.error} />
        {recent.data && rows.length === 0 && <Empty title="No traces in this range"><p>Send spans over OTLP to see them here.</p></Empty>}
        {rows.length > 0 && (
          <div className="table-wrap"><table className="table">
            <caption className="sr-only">Recent traces</caption>
            <thead><tr><th scope="col">Started</th><th scope="col">Service</th><th scope="col">Root span</th><th scope="col">Duration</th><th scope="col">Status</th></tr></thead>
            <tbody>{rows.map(([traceId, service, name, ms, isError, ts]) => (
              <tr key={`${traceId}-${ts}`}>
                <td>{formatDateTime(ts)}</td><td>{service}</td>
                <td><Link to={`/telemetry/traces/${traceId}`}>{name}</Link></td>
                <td>{formatDuration(ms)}</td>
                <td><StatusBadge status={isError ? "error" : "ok"} /></td>
              </tr>))}</tbody>
          </table></div>
        )}
      </Card>
    </div>
  );
}

export function TraceView() {
  const { traceId = "" } = useParams();
  useTitle(`Trace ${traceId.slice(0, 8)}`);
  const trace = useQuery({
    queryKey: ["trace", traceId],
    queryFn: async () => unwrap(await api.GET("/api/v1/telemetry/traces/{trace_id}", { params: { path: { trace_id: traceId } } })),
  });
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [selected, setSelected] = useState<string | null>(null);
  const rows = useMemo(() => (trace.data ? layoutWaterfall<Span>(trace.data.roots, collapsed) : []), [trace.data, collapsed]);
  const logs = useMutation({
    mutationFn: async () => unwrap(await api.GET("/api/v1/telemetry/logs", { params: { query: { trace_id: traceId, per_page: 100,
      from: trace.data ? new Date(Date.parse(trace.data.start) - 3600_000).toISOString() : undefined } } })),
  });
  if (trace.isPending) return <Loading />;
  if (trace.isError) return <LoadError error={trace.error} what="Trace" back="/telemetry/traces" backLabel="Traces" />;
  const t = trace.data;
  const total = t.duration_ms;
  const toggle = (id: string) => {
    const next = new Set(collapsed);
    if (next.has(id)) next.delete(id); else next.add(id);
    setCollapsed(next);
  };
  const chosen = rows.find((r) => r.span.span_id === selected)?.span;
  return (
    <div className="stack">
      <p><Link to="/telemetry/traces">← Traces</Link></p>
      <h2 className="mono">Trace {t.trace_id}</h2>
      <div className="grid-stats">
        <div className="stat"><div className="num">{formatDuration(total)}</div><div className="label">duration</div></div>
        <div className="stat"><div className="num">{t.span_count}</div><div className="label">spans</div></div>
        <div className="stat"><div className="num">{t.services.length}</div><div className="label">services: {t.services.join(", ")}</div></div>
        <div className="stat"><div className="num">{t.error_count}</div><div className="label">errors</div></div>
      </div>
      {(t.truncated || t.depth_capped) && (
        <Alert kind="info">{t.truncated ? "Only the first spans of this very large trace are shown. " : ""}
          {t.depth_capped ? `Spans nested deeper than ${t.max_depth} levels are listed flat.` : ""}</Alert>
      )}
      <Card title="Waterfall">
        <p className="muted">Started {formatDateTime(t.start)}. Select a span for its attributes and events.</p>
        <div className="waterfall" role="table" aria-label="Spans">
          <div role="rowgroup">
            <div className="wf-row wf-head" role="row">
              <span role="columnheader" className="wf-name">Span</span>
              <span role="columnheader" className="wf-bar-cell">
                {ticks(total).map((ms) => <span key={ms} className="wf-tick" style={{ left: `${total ? (ms / total) * 100 : 0}%` }}>{formatDuration(ms)}</span>)}
              </span>
            </div>
          </div>
          <div role="rowgroup">
            {rows.map((r) => <SpanRow key={r.span.span_id} row={r} collapsed={collapsed.has(r.span.span_id)} onToggle={toggle}
              selected={selected === r.span.span_id} onSelect={setSelected} />)}
          </div>
        </div>
      </Card>
      {chosen && <SpanDetails span={chosen} />}
      <Card title="Logs of this trace" actions={<Button size="sm" busy={logs.isPending} onClick={() => logs.mutate()}>Show logs</Button>}>
        <ErrorAlert error={logs.error} />
        {logs.data && logs.data.items.length === 0 && <Empty title="No logs carry this trace id" />}
        {!!logs.data?.items.length && (
          <ul className="stack" style={{ listStyle: "none", padding: 0, gap: ".25rem" }}>
            {logs.data.items.map((l, i) => <li key={i} className="mono"><StatusBadge status={l.severity || "log"} /> {formatDateTime(l.timestamp)} {l.service}: {l.body}</li>)}
          </ul>
        )}
        {!logs.data && <p className="muted"><Link to={`/telemetry/logs?trace_id=${t.trace_id}`}>Search the logs for this trace →</Link></p>}
      </Card>
    </div>
  );
}

function SpanRow({ row, collapsed, onToggle, selected, onSelect }:
  { row: WaterfallRow<Span>; collapsed: boolean; onToggle: (id: string) => void; selected: boolean; onSelect: (id: string) => void }) {
  const s = row.span;
  const bad = s.status === "error";
  return (
    <div className={`wf-row${selected ? " wf-selected" : ""}`} role="row">
      <span role="rowheader" className="wf-name" style={{ paddingLeft: `${Math.min(row.depth, 24) * 14}px` }}>
        {row.hasChildren ? (
          <button type="button" className="wf-toggle" aria-expanded={!collapsed} onClick={() => onToggle(s.span_id)}
            aria-label={`${collapsed ? "Expand" : "Collapse"} ${s.name}`}>{collapsed ? "▸" : "▾"}</button>
        ) : <span className="wf-toggle" aria-hidden="true" />}
        <button type="button" className="wf-label" onClick={() => onSelect(s.span_id)} aria-pressed={selected}>
          <span className="muted">{s.service}</span> {s.name}
        </button>
      </span>
      <span role="cell" className="wf-bar-cell">
        <span className={`wf-bar${bad ? " wf-bar-error" : ""}`} style={{ left: `${row.offsetPct}%`, width: `max(2px, ${row.widthPct}%)` }}
          title={`${s.name}: ${formatDuration(s.duration_ms)} at +${formatDuration(row.startMs)}`} />
        <span className="wf-dur" style={{ left: `min(calc(${row.offsetPct + row.widthPct}% + 4px), 100%)` }}>{formatDuration(s.duration_ms)}</span>
      </span>
    </div>
  );
}

function SpanDetails({ span }: { span: Span }) {
  const entries = (o: Record<string, unknown>) => Object.entries(o ?? {});
  return (
    <Card title={`Span ${span.name}`}>
      <dl className="props">
        <dt>Service</dt><dd>{span.service}</dd>
        <dt>Kind</dt><dd>{span.kind}</dd>
        <dt>Status</dt><dd><StatusBadge status={span.status || "unset"} /> {span.status_message}</dd>
        <dt>Start</dt><dd className="mono">{span.start}</dd>
        <dt>Duration</dt><dd>{formatDuration(span.duration_ms)}</dd>
        <dt>Span id</dt><dd className="mono">{span.span_id}</dd>
        {entries(span.attributes).map(([k, v]) => <Fragmented key={`a-${k}`} k={k} v={v} />)}
        {entries(span.resource).map(([k, v]) => <Fragmented key={`r-${k}`} k={`resource ${k}`} v={v} />)}
      </dl>
      {span.events.length > 0 && (
        <>
          <h3 style={{ marginTop: "1rem" }}>Events</h3>
          <ul>{span.events.map((e, i) => <li key={i}><span className="mono">{e.time}</span> {e.name} {Object.keys(e.attributes).length > 0 && <code>{JSON.stringify(e.attributes)}</code>}</li>)}</ul>
        </>
      )}
    </Card>
  );
}

function Fragmented({ k, v }: { k: string; v: unknown }) {
  return <><dt className="mono">{k}</dt><dd className="mono" style={{ wordBreak: "break-all" }}>{typeof v === "string" ? v : JSON.stringify(v)}</dd></>;
}
