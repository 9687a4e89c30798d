import { useMutation, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { api, ApiError, unwrap } from "../../api/client";
import { localInputToIso, toLocalInput, toMarks } from "../../lib/annotations";
import { formatDateTime } from "../../lib/format";
import { offsetOf, toChart, type Cell, type Column } from "../../lib/oql";
import { useTitle } from "../../lib/useTitle";
import { Alert, Button, Card, Empty, ErrorAlert, Loading, PageHead, TextField } from "../../ui";

const TimeChart = lazy(() => import("../../ui/charts/TimeChart"));

const EXAMPLES = [
  "SELECT count() FROM spans TIMESERIES 5m LAST 1h",
  "SELECT service, count(), p99(duration_ms) FROM spans GROUP BY service ORDER BY 2 DESC LAST 1d",
  "SELECT severity, count() FROM logs GROUP BY severity TIMESERIES 5m LAST 3h",
  "SELECT monitor, avg(latency_ms) FROM checks GROUP BY monitor TIMESERIES 5m LAST 6h",
];

function describe(err: ApiError): string {
  const d = err.details as { line?: number; column?: number; expected?: string[]; valid?: string[] };
  const where = d.line ? ` (line ${d.line}, column ${d.column})` : "";
  const hint = d.expected?.length ? ` Expected: ${d.expected.slice(0, 8).join(", ")}.` : d.valid?.length ? ` Valid: ${d.valid.slice(0, 20).join(", ")}.` : "";
  return `${err.message}${where}.${hint}`;
}

export function Explore() {
  useTitle("Explore");
  const [query, setQuery] = useState(EXAMPLES[0]);
  const editor = useRef<HTMLTextAreaElement>(null);
  const run = useMutation({
    mutationFn: runDsl,
    onError: (err) => {
      const d = err instanceof ApiError ? (err.details as { line?: number; column?: number }) : {};
      if (d.line && editor.current) {
        const at = offsetOf(editor.current.value, d.line, d.column ?? 1);
        editor.current.focus();
        editor.current.setSelectionRange(at, at + 1);
      }
    },
  });
  const columns = (run.data?.columns ?? []) as Column[];
  const rows = (run.data?.rows ?? []) as Cell[][];
  const chart = useMemo(() => (run.data ? toChart(columns, rows) : null), [run.data]); // eslint-disable-line react-hooks/exhaustive-deps
  const annotations = run.data?.annotations ?? [];
  const marks = useMemo(() => (chart?.times.length
    ? toMarks(run.data?.annotations ?? [], chart.times[0], chart.times[chart.times.length - 1]) : []), [chart, run.data]);
  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (query.trim()) run.mutate(query);
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) submit();
  };
  return (
    <>
      <PageHead title="Explore" subtitle="Query traces, logs, metrics, host metrics and checks with OQL (docs/telemetry.md)." />
      <div className="stack">
        <Card>
          <form onSubmit={submit}>
            <div className="field">
              <label htmlFor="oql">OQL query</label>
              <textarea id="oql" ref={editor} className="input" rows={4} spellCheck={false} value={query}
                onChange={(e) => setQuery(e.target.value)} onKeyDown={onKey}
                aria-describedby="oql-hint" aria-invalid={run.isError || undefined} />
              <span id="oql-hint" className="hint">Ctrl+Enter runs it. TIMESERIES answers are drawn as a chart.</span>
            </div>
            <div className="row">
              <Button type="submit" variant="primary" busy={run.isPending}>Run query</Button>
              <label className="sr-only" htmlFor="oql-examples">Examples</label>
              <select id="oql-examples" className="input" style={{ width: "auto" }} value=""
                onChange={(e) => { if (e.target.value) setQuery(e.target.value); }}>
                <option value="">Examples…</option>
                {EXAMPLES.map((x) => <option key={x} value={x}>{x}</option>)}
              </select>
            </div>
          </form>
        </Card>
        {run.isError && <Alert>{run.error instanceof ApiError ? describe(run.error) : String(run.error)}</Alert>}
        {run.isPending && <Loading label="Running…" />}
        {chart && (
          <Card title="Chart">
            <Suspense fallback={<Loading />}>
              <TimeChart title="Query result over time" times={chart.times} series={chart.series} marks={marks} />
            </Suspense>
            <Annotations items={annotations} onChange={() => run.variables && run.mutate(run.variables)} />
          </Card>
        )}
        {run.data && (
          <Card title={`Results (${rows.length} row${rows.length === 1 ? "" : "s"})`}>
            {rows.length === 0 ? <Empty title="No rows" /> : (
              <div className="table-wrap"><table className="table">
                <caption className="sr-only">Query results</caption>
                <thead><tr>{columns.map((c) => <th scope="col" key={c.name}>{c.name}</th>)}</tr></thead>
                <tbody>{rows.slice(0, 1000).map((r, i) => (
                  <tr key={i}>{r.map((v, j) => <td key={j} className="mono">{v === null ? "∅" : typeof v === "object" ? JSON.stringify(v) : String(v)}</td>)}</tr>
                ))}</tbody>
              </table></div>
            )}
          </Card>
        )}
      </div>
    </>
  );
}

type Annotation = NonNullable<Awaited<ReturnType<typeof runDsl>>["annotations"]>[number];
async function runDsl(query: string) {
  return unwrap(await api.POST("/api/v1/dsl", { body: { query, annotations: true } }));
}

/** The annotations of the chart's range (drawn on it as dashed lines), and a form to add one. */
function Annotations({ items, onChange }: { items: Annotation[]; onChange: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [time, setTime] = useState(() => toLocalInput());
  const [tags, setTags] = useState("");
  const create = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/annotations", { body: {
      name, time: localInputToIso(time), tags: tags.split(",").map((t) => t.trim()).filter(Boolean) } })),
    onSuccess: async () => {
      setName("");
      setTags("");
      await qc.invalidateQueries({ queryKey: ["annotations"] });
      onChange();
    },
  });
  const remove = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE("/api/v1/annotations/{annotation_id}", { params: { path: { annotation_id: id } } })),
    onSuccess: onChange,
  });
  const fields = create.error instanceof ApiError ? create.error.fields : {};
  return (
    <section aria-label="Annotations" style={{ marginTop: "1rem" }}>
      <h3>Annotations</h3>
      {items.length === 0 ? <p className="muted">None in this range. Deploys and changes marked here show on every chart of their time.</p> : (
        <ul className="stack" style={{ listStyle: "none", padding: 0, gap: ".35rem" }}>
          {items.map((a) => (
            <li key={a.id} className="row">
              <span aria-hidden="true" style={{ color: "var(--warn)" }}>┆</span>
              <strong>{a.name}</strong>
              <span className="muted">{formatDateTime(a.start || a.time)}{a.end ? ` – ${formatDateTime(a.end)}` : ""}</span>
              {a.tags.map((t) => <span key={t} className="badge">{t}</span>)}
              <Button size="sm" aria-label={`Delete annotation ${a.name}`} onClick={() => remove.mutate(a.id)}>Delete</Button>
            </li>
          ))}
        </ul>
      )}
      <ErrorAlert error={remove.error || (Object.keys(fields).length ? null : create.error)} />
      <form className="row" style={{ alignItems: "flex-start" }} onSubmit={(e: FormEvent) => { e.preventDefault(); create.mutate(); }} noValidate>
        <TextField label="Annotation" value={name} onChange={(e) => setName(e.target.value)} error={fields.name} placeholder="deploy checkout v1.14" />
        <TextField label="At" type="datetime-local" value={time} onChange={(e) => setTime(e.target.value)} error={fields.time} />
        <TextField label="Tags" value={tags} onChange={(e) => setTags(e.target.value)} hint="Comma-separated." error={fields.tags} />
        <div className="field"><span aria-hidden="true">&nbsp;</span><Button type="submit" busy={create.isPending} disabled={!name.trim()}>Add annotation</Button></div>
      </form>
    </section>
  );
}
