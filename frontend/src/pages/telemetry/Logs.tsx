import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { formatDateTime } from "../../lib/format";
import { useTitle } from "../../lib/useTitle";
import { Button, Card, Checkbox, Empty, ErrorAlert, Loading, SelectField, StatusBadge, TextField } from "../../ui";
import { Pager } from "../../ui/Pager";
import "./telemetry.css";

const RANGES: [string, number][] = [["15 minutes", 15], ["1 hour", 60], ["6 hours", 360], ["24 hours", 1440], ["7 days", 10080]];
// OTLP severity numbers: the first of each band (TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21).
const LEVELS: [string, number][] = [["trace and up", 1], ["debug and up", 5], ["info and up", 9], ["warn and up", 13], ["error and up", 17], ["fatal", 21]];

export function Logs() {
  useTitle("Logs");
  const [params, setParams] = useSearchParams();
  const filters = {
    q: params.get("q") ?? "",
    service: params.get("service") ?? "",
    min: params.get("min") ?? "",
    trace_id: params.get("trace_id") ?? "",
    minutes: Number(params.get("minutes")) || 60,
  };
  const page = Math.max(1, Number(params.get("page")) || 1);
  const [draft, setDraft] = useState(filters);
  const [tail, setTail] = useState(false);
  const services = useQuery({
    queryKey: ["telemetry-services"],
    queryFn: async () => unwrap(await api.GET("/api/v1/telemetry/services", { params: { query: {
      from: new Date(Date.now() - 7 * 86400_000).toISOString(), per_page: 100 } } })),
    staleTime: 60_000,
  });
  const logs = useQuery({
    queryKey: ["logs", filters, page],
    // The range ends now at each fetch, so the live tail keeps moving forward.
    queryFn: async () => unwrap(await api.GET("/api/v1/telemetry/logs", { params: { query: {
      from: new Date(Date.now() - filters.minutes * 60_000).toISOString(),
      q: filters.q || undefined, service: filters.service || undefined, trace_id: filters.trace_id || undefined,
      min_severity: filters.min ? Number(filters.min) : undefined, page, per_page: 100 } } })),
    refetchInterval: tail && page === 1 ? 3000 : false,
    placeholderData: (prev) => prev,
  });
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...draft, minutes: draft.minutes === 60 ? "" : String(draft.minutes) })) if (v) q.set(k, String(v));
    setParams(q);
  };
  const setPage = (p: number) => {
    const q = new URLSearchParams(params);
    if (p > 1) q.set("page", String(p)); else q.delete("page");
    setParams(q);
  };
  return (
    <div className="stack">
      <Card>
        <form onSubmit={apply} role="search" aria-label="Search logs">
          <div className="row" style={{ alignItems: "flex-start" }}>
            <div style={{ flex: 2, minWidth: 220 }}><TextField label="Text in the message" value={draft.q} onChange={(e) => setDraft({ ...draft, q: e.target.value })} /></div>
            <SelectField label="Service" value={draft.service} onChange={(e) => setDraft({ ...draft, service: e.target.value })}>
              <option value="">all services</option>
              {services.data?.items.map((s) => <option key={s.name} value={s.name}>{s.name}</option>)}
            </SelectField>
            <SelectField label="Severity" value={draft.min} onChange={(e) => setDraft({ ...draft, min: e.target.value })}>
              <option value="">any</option>
              {LEVELS.map(([label, n]) => <option key={n} value={n}>{label}</option>)}
            </SelectField>
            <SelectField label="Time range" value={draft.minutes} onChange={(e) => setDraft({ ...draft, minutes: Number(e.target.value) })}>
              {RANGES.map(([label, m]) => <option key={m} value={m}>last {label}</option>)}
            </SelectField>
          </div>
          <div className="row" style={{ alignItems: "flex-end" }}>
            <div style={{ flex: 1, minWidth: 280 }}><TextField label="Trace id" value={draft.trace_id} className="input mono" spellCheck={false}
              onChange={(e) => setDraft({ ...draft, trace_id: e.target.value.trim() })} /></div>
            <div className="field"><Button type="submit" variant="primary">Search logs</Button></div>
            <Checkbox label="Live tail (refresh every 3 s)" checked={tail} onChange={(e) => setTail(e.target.checked)} />
          </div>
        </form>
      </Card>
      <Card title={logs.data ? `Logs (${logs.data.total})` : "Logs"}>
        {logs.isPending && <Loading />}
        <ErrorAlert error={logs.error} />
        {logs.data?.items.length === 0 && <Empty title="No logs match"><p>Widen the time range or clear a filter.</p></Empty>}
        {!!logs.data?.items.length && (
          <ul className="log-list" aria-label="Log records" aria-live={tail ? "polite" : undefined}>
            {logs.data.items.map((l, i) => (
              <li key={`${l.timestamp}-${i}`}>
                <span className="muted">{formatDateTime(l.timestamp)}</span>
                <span><StatusBadge status={(l.severity || "unset").toLowerCase()} /></span>
                <span>{l.service}</span>
                <span className="body">{l.body}
                  {l.trace_id && <> · <Link to={`/telemetry/traces/${l.trace_id}`} aria-label={`Trace of: ${l.body.slice(0, 60)}`}>trace</Link></>}</span>
              </li>
            ))}
          </ul>
        )}
        {logs.data && <Pager page={page} totalPages={logs.data.total_pages} total={logs.data.total} onPage={setPage} label="Logs" />}
      </Card>
    </div>
  );
}
