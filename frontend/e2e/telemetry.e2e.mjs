// Telemetry in the browser: spans and logs sent over OTLP/HTTP to the server's own receiver, the recent traces,
// a trace's waterfall (collapse, span details), the logs search with filters, and annotations on an OQL chart.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { apiCall, assertAccessible, launch, newPage, screenshot, signUp, uniqueEmail } from "./harness.mjs";

const OTLP_URL = process.env.OTLP_URL ?? "http://127.0.0.1:4318";
let chrome;
before(async () => { chrome = await launch(); });
after(async () => { await chrome?.close(); });

const hex = (bytes) => randomBytes(bytes).toString("hex");
const str = (v) => ({ stringValue: v });
const resource = (service) => ({ attributes: [{ key: "service.name", value: str(service) }] });

async function otlp(path, token, body) {
  const res = await fetch(`${OTLP_URL}${path}`, { method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", "x-api-key": token } });
  assert.equal(res.status, 200, `${path}: ${res.status} ${await res.text()}`);
}

/** A checkout trace: the server span, a database call inside it and a payment call that fails. */
function checkoutTrace(traceId, t0) {
  const ns = (ms) => String(BigInt(t0) * 1_000_000n + BigInt(Math.round(ms * 1e6)));
  const root = hex(8), db = hex(8), pay = hex(8);
  const span = (spanId, parent, name, kind, from, to, error, attrs = []) => ({
    traceId, spanId, parentSpanId: parent, name, kind, startTimeUnixNano: ns(from), endTimeUnixNano: ns(to),
    status: error ? { code: 2, message: "card declined" } : { code: 1 }, attributes: attrs });
  return {
    ids: { root, db, pay },
    body: { resourceSpans: [
      { resource: resource("checkout"), scopeSpans: [{ scope: { name: "e2e" }, spans: [
        span(root, "", "POST /checkout", 2, 0, 180, false, [{ key: "http.route", value: str("/checkout") }]),
        span(pay, root, "charge card", 3, 70, 170, true),
      ] }] },
      { resource: resource("orders-db"), scopeSpans: [{ scope: { name: "e2e" }, spans: [
        span(db, root, "SELECT orders", 3, 10, 60, false, [{ key: "db.system", value: str("postgresql") }]),
      ] }] },
    ] },
  };
}

test("a trace sent over OTLP shows as a waterfall, its logs are searchable, and an annotation marks an OQL chart", async () => {
  const { context, page, errors } = await newPage(chrome.browser);
  await signUp(page, { name: "Tara Trace", email: uniqueEmail("telemetry"), password: "correct horse battery staple" });
  const { token } = await apiCall(context, "POST", "/api/v1/api-tokens", { name: "otel collector", scopes: ["telemetry:write"] });
  const traceId = hex(16);
  const t0 = Date.now() - 60_000;
  const trace = checkoutTrace(traceId, t0);
  await otlp("/v1/traces", token, trace.body);
  const logAt = (ms) => String(BigInt(t0 + ms) * 1_000_000n);
  await otlp("/v1/logs", token, { resourceLogs: [{ resource: resource("checkout"), scopeLogs: [{ scope: { name: "e2e" }, logRecords: [
    { timeUnixNano: logAt(75), severityNumber: 17, severityText: "ERROR", body: str("payment declined for order 42"), traceId, spanId: trace.ids.pay },
    { timeUnixNano: logAt(5), severityNumber: 9, severityText: "INFO", body: str("checkout started for order 42"), traceId, spanId: trace.ids.root },
    { timeUnixNano: logAt(200), severityNumber: 9, severityText: "INFO", body: str("unrelated heartbeat line") },
  ] }] }] });
  // Ingestion is batched: wait until the trace can be read.
  for (let i = 0; ; i++) {
    try { await apiCall(context, "GET", `/api/v1/telemetry/traces/${traceId}`); break; } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Telemetry" }).click();
  await page.getByRole("table", { name: "Recent traces" }).getByRole("link", { name: "POST /checkout" }).click();
  await page.getByRole("heading", { name: `Trace ${traceId}` }).waitFor();
  const spans = page.getByRole("table", { name: "Spans" });
  const names = await spans.getByRole("rowheader").allInnerTexts();
  assert.deepEqual(names.map((n) => n.replace(/[▾▸]/g, "").trim()),
    ["checkout POST /checkout", "orders-db SELECT orders", "checkout charge card"]);
  await page.getByText("180 ms", { exact: true }).first().waitFor();
  await spans.getByRole("button", { name: "orders-db SELECT orders" }).click();
  await page.getByRole("region", { name: "Span SELECT orders" }).getByText("postgresql").waitFor();
  await assertAccessible(page, "telemetry: trace");
  await screenshot(page, "trace");
  await spans.getByRole("button", { name: "Collapse POST /checkout" }).click();
  assert.equal(await spans.getByRole("rowheader").count(), 1);
  await spans.getByRole("button", { name: "Expand POST /checkout" }).click();
  assert.equal(await spans.getByRole("rowheader").count(), 3);
  await page.getByRole("button", { name: "Show logs" }).click();
  await page.getByText(/payment declined for order 42/).waitFor();

  // Logs: text and severity filters, kept in the URL.
  await page.getByRole("navigation", { name: "Telemetry" }).getByRole("link", { name: "Logs" }).click();
  const list = page.getByRole("list", { name: "Log records" });
  await list.getByText("unrelated heartbeat line").waitFor();
  await page.getByLabel("Text in the message", { exact: true }).fill("order 42");
  await page.getByLabel("Severity", { exact: true }).selectOption({ label: "error and up" });
  await page.getByRole("button", { name: "Search logs" }).click();
  await page.waitForURL(/q=order\+42/);
  await list.getByText("unrelated heartbeat line").waitFor({ state: "detached" });
  await list.getByText("payment declined for order 42").waitFor();
  assert.equal(await list.getByRole("listitem").count(), 1);
  await assertAccessible(page, "telemetry: logs");
  await screenshot(page, "logs");
  // Live tail: a record sent now shows up without searching again.
  await page.getByLabel("Live tail (refresh every 3 s)", { exact: true }).check();
  await otlp("/v1/logs", token, { resourceLogs: [{ resource: resource("checkout"), scopeLogs: [{ scope: { name: "e2e" }, logRecords: [
    { timeUnixNano: String(BigInt(Date.now()) * 1_000_000n), severityNumber: 17, severityText: "ERROR", body: str("refund failed for order 42") },
  ] }] }] });
  await list.getByText("refund failed for order 42").waitFor();
  await page.getByLabel("Live tail (refresh every 3 s)", { exact: true }).uncheck();
  await list.getByRole("link", { name: /Trace of: payment declined/ }).click();
  await page.getByRole("heading", { name: `Trace ${traceId}` }).waitFor();

  // An annotation on the OQL chart.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Explore" }).click();
  await page.getByLabel("OQL query", { exact: true }).fill("SELECT service, count() FROM spans GROUP BY service TIMESERIES 5m LAST 1h");
  await page.getByRole("button", { name: "Run query" }).click();
  await page.getByRole("figure", { name: "Query result over time" }).locator("canvas").waitFor();
  await page.getByText(/None in this range/).waitFor();
  await page.getByLabel("Annotation", { exact: true }).fill("deploy checkout v1.14");
  await page.getByLabel("Tags", { exact: true }).fill("deploy, checkout");
  await page.getByRole("button", { name: "Add annotation" }).click();
  const marks = page.getByRole("region", { name: "Annotations" });
  await marks.getByText("deploy checkout v1.14").waitFor();
  await marks.getByText("checkout", { exact: true }).waitFor();
  const listed = await apiCall(context, "GET", "/api/v1/annotations?name=deploy");
  assert.equal(listed.items.length, 1);
  await assertAccessible(page, "explore with annotations");
  await screenshot(page, "explore-annotations");
  await marks.getByRole("button", { name: "Delete annotation deploy checkout v1.14" }).click();
  await page.getByText(/None in this range/).waitFor();
  assert.deepEqual(errors, []);
});

test("a trace id that does not exist shows 'Trace not found'", async () => {
  const { page, errors } = await newPage(chrome.browser);
  await signUp(page, { name: "Nora Notrace", email: uniqueEmail("notrace"), password: "correct horse battery staple" });
  await page.goto(`/telemetry/traces/${hex(16)}`);
  await page.getByRole("heading", { name: "Trace not found" }).waitFor();
  await page.goto("/telemetry/traces");
  await page.getByText("No traces in this range").waitFor();
  await page.goto("/telemetry/logs");
  await page.getByText("No logs match").waitFor();
  assert.deepEqual(errors, []);
});
