/** The monitor form's state ⇄ the API's body: every type and option of POST/PUT /api/v1/monitors. */

export type Kind = "http" | "tcp" | "dns" | "tls";

export interface MonitorFormState {
  type: Kind; name: string; interval: string; timeout: string; latency_threshold_ms: string;
  confirmation_period: string; recovery_period: string; regions: string; tags: string; paused: boolean;
  url: string; method: string; headers: string; body: string; expected_status: string; keyword: string;
  keyword_absent: boolean; follow_redirects: boolean;
  host: string; port: string; warn_days: string; ca_pem: string;
  hostname: string; record_type: string; expected_value: string; nameserver: string; nameserver_port: string;
}

export const EMPTY_MONITOR: MonitorFormState = {
  type: "http", name: "", interval: "60", timeout: "10", latency_threshold_ms: "", confirmation_period: "1",
  recovery_period: "1", regions: "", tags: "", paused: false,
  url: "https://", method: "GET", headers: "", body: "", expected_status: "", keyword: "", keyword_absent: false,
  follow_redirects: true, host: "", port: "", warn_days: "14", ca_pem: "",
  hostname: "", record_type: "A", expected_value: "", nameserver: "", nameserver_port: "53",
};

const list = (v: string) => v.split(",").map((x) => x.trim()).filter(Boolean);
/** A number field: empty → undefined (the server's default), otherwise the number (NaN reaches the server's 422). */
const num = (v: string) => (v.trim() === "" ? undefined : Number(v));
const orNull = (v: string) => (v.trim() === "" ? null : v.trim());

/** "Name: value" lines → a header map (blank lines ignored; a line without a colon is kept whole, for the server to refuse). */
export function parseHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const at = line.indexOf(":");
    if (at < 0) out[line.trim()] = "";
    else out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

export function formatHeaders(headers: Record<string, string> | undefined | null): string {
  return Object.entries(headers ?? {}).map(([k, v]) => `${k}: ${v}`).join("\n");
}

/** Expected status codes: numbers stay numbers, ranges ("200-299") and classes ("2xx") stay strings. */
export function parseStatuses(text: string): (number | string)[] {
  return list(text).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/**
 * The request body. On create, empty optional fields are left out (the server's defaults apply); on edit
 * (`editing`), they are sent as null so a cleared field is cleared, and lists are always sent.
 */
export function monitorBody(f: MonitorFormState, editing: boolean): Record<string, unknown> {
  const optional = (v: string) => (editing ? orNull(v) : orNull(v) ?? undefined);
  const body: Record<string, unknown> = {
    type: f.type, name: f.name.trim(), interval: num(f.interval), timeout: num(f.timeout),
    latency_threshold_ms: editing ? (num(f.latency_threshold_ms) ?? null) : num(f.latency_threshold_ms),
    confirmation_period: num(f.confirmation_period), recovery_period: num(f.recovery_period),
    tags: list(f.tags), ...(editing || list(f.regions).length ? { regions: list(f.regions) } : {}),
  };
  if (!editing) body.paused = f.paused;
  if (f.type === "http") {
    Object.assign(body, {
      url: f.url.trim(), method: f.method, headers: parseHeaders(f.headers), body: optional(f.body),
      keyword: optional(f.keyword), keyword_absent: f.keyword_absent, follow_redirects: f.follow_redirects,
      ...(parseStatuses(f.expected_status).length ? { expected_status: parseStatuses(f.expected_status) } : editing ? { expected_status: ["200-299"] } : {}),
    });
  } else if (f.type === "tcp") {
    Object.assign(body, { host: f.host.trim(), port: num(f.port) });
  } else if (f.type === "dns") {
    Object.assign(body, { hostname: f.hostname.trim(), record_type: f.record_type, expected_value: optional(f.expected_value),
      nameserver: optional(f.nameserver), nameserver_port: num(f.nameserver_port) });
  } else {
    Object.assign(body, { host: f.host.trim(), port: num(f.port) ?? 443, warn_days: num(f.warn_days), ca_pem: optional(f.ca_pem) });
  }
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  return body;
}

/** The form filled from a monitor as the API returns it (its type's own fields at the top level). */
export function formFromMonitor(m: Record<string, unknown>): MonitorFormState {
  const s = (k: string, fallback = "") => (m[k] === null || m[k] === undefined ? fallback : String(m[k]));
  return {
    ...EMPTY_MONITOR,
    type: (m.type as Kind) ?? "http", name: s("name"), interval: s("interval"), timeout: s("timeout"),
    latency_threshold_ms: s("latency_threshold_ms"), confirmation_period: s("confirmation_period", "1"),
    recovery_period: s("recovery_period", "1"), regions: ((m.regions as string[]) ?? []).join(", "),
    tags: ((m.tags as string[]) ?? []).join(", "), paused: Boolean(m.paused),
    url: s("url", "https://"), method: s("method", "GET"), headers: formatHeaders(m.headers as Record<string, string>),
    body: s("body"), expected_status: ((m.expected_status as (number | string)[]) ?? []).join(", "), keyword: s("keyword"),
    keyword_absent: Boolean(m.keyword_absent), follow_redirects: m.follow_redirects === undefined ? true : Boolean(m.follow_redirects),
    host: s("host"), port: s("port"), warn_days: s("warn_days", "14"), ca_pem: s("ca_pem"),
    hostname: s("hostname"), record_type: s("record_type", "A"), expected_value: s("expected_value"),
    nameserver: s("nameserver"), nameserver_port: s("nameserver_port", "53"),
  };
}
