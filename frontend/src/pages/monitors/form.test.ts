import { describe, expect, it } from "vitest";
import { EMPTY_MONITOR, formFromMonitor, monitorBody, parseHeaders, parseStatuses } from "./form";

describe("the monitor form", () => {
  it("creates an HTTP monitor with every option, leaving empty ones to the server", () => {
    const body = monitorBody({ ...EMPTY_MONITOR, name: " api ", url: "https://x.example/h", method: "POST",
      headers: "Authorization: Bearer s3cret\n\nX-Env: prod", body: "{}", expected_status: "200, 3xx, 400-404",
      keyword: "ok", keyword_absent: true, follow_redirects: false, latency_threshold_ms: "800", confirmation_period: "3",
      regions: "eu-west, us-east", tags: "shop" }, false);
    expect(body).toEqual({ type: "http", name: "api", interval: 60, timeout: 10, latency_threshold_ms: 800,
      confirmation_period: 3, recovery_period: 1, regions: ["eu-west", "us-east"], tags: ["shop"], paused: false,
      url: "https://x.example/h", method: "POST", headers: { Authorization: "Bearer s3cret", "X-Env": "prod" }, body: "{}",
      keyword: "ok", keyword_absent: true, follow_redirects: false, expected_status: [200, "3xx", "400-404"] });
    const plain = monitorBody({ ...EMPTY_MONITOR, name: "a", url: "https://a.example" }, false);
    expect(plain).not.toHaveProperty("keyword");
    expect(plain).not.toHaveProperty("regions");
    expect(plain).not.toHaveProperty("expected_status");
  });
  it("on edit sends cleared optional fields as null and lists always", () => {
    const body = monitorBody({ ...EMPTY_MONITOR, name: "a", url: "https://a.example" }, true);
    expect(body).toMatchObject({ keyword: null, body: null, latency_threshold_ms: null, regions: [], expected_status: ["200-299"] });
    expect(body).not.toHaveProperty("paused");
  });
  it("builds TCP, DNS and TLS bodies", () => {
    expect(monitorBody({ ...EMPTY_MONITOR, type: "tcp", name: "db", host: "db.example", port: "5432" }, false))
      .toMatchObject({ type: "tcp", host: "db.example", port: 5432 });
    expect(monitorBody({ ...EMPTY_MONITOR, type: "dns", name: "mx", hostname: "example.com", record_type: "MX",
      nameserver: "1.1.1.1", nameserver_port: "5353" }, false))
      .toMatchObject({ type: "dns", hostname: "example.com", record_type: "MX", nameserver: "1.1.1.1", nameserver_port: 5353 });
    expect(monitorBody({ ...EMPTY_MONITOR, type: "tls", name: "cert", host: "example.com", warn_days: "21", ca_pem: "-----BEGIN" }, false))
      .toMatchObject({ type: "tls", host: "example.com", port: 443, warn_days: 21, ca_pem: "-----BEGIN" });
  });
  it("fills the form from the API's monitor and back", () => {
    const m = { type: "http", name: "api", interval: 30, timeout: 5, latency_threshold_ms: null, confirmation_period: 2,
      recovery_period: 1, regions: ["eu-west"], tags: ["a", "b"], paused: true, url: "https://a.example", method: "HEAD",
      headers: { Authorization: "••••••" }, expected_status: [200, "3xx"], keyword: null, keyword_absent: false, follow_redirects: false };
    const f = formFromMonitor(m);
    expect(f).toMatchObject({ interval: "30", regions: "eu-west", tags: "a, b", headers: "Authorization: ••••••",
      expected_status: "200, 3xx", keyword: "", follow_redirects: false, latency_threshold_ms: "" });
    // The masked header goes back as it came: the server keeps the stored value.
    expect(monitorBody(f, true)).toMatchObject({ headers: { Authorization: "••••••" }, expected_status: [200, "3xx"], method: "HEAD" });
  });
  it("parses headers and statuses", () => {
    expect(parseHeaders("A: 1:2\nbroken")).toEqual({ A: "1:2", broken: "" });
    expect(parseStatuses(" 204 ,2xx")).toEqual([204, "2xx"]);
  });
});
