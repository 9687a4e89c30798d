import { describe, expect, it } from "vitest";
import { cronSchedule, cronSnippet, curlSnippet, jobRunSnippet, nativeSnippet, pingUrls, startEndSnippet } from "./snippets";

const PING = "https://xinex.example.com/ping/5f1c1a52-3d0b-4d7c-9c53-1f8d0c3a9e11";

describe("ping URLs", () => {
  it("gives the three dialects on the ping URL's origin", () => {
    const urls = pingUrls(PING, "nightly-backup");
    expect(urls.healthchecks).toBe(PING);
    expect(urls.native).toBe("https://xinex.example.com/api/v1/hb/nightly-backup");
    expect(urls.jobRun).toBe("https://xinex.example.com/api/v1/heartbeat/ping");
  });
  it("escapes a slug in the path", () => {
    expect(pingUrls(PING, "a b/c").native).toBe("https://xinex.example.com/api/v1/hb/a%20b%2Fc");
  });
});

describe("snippets", () => {
  it("curl pings quietly with retries", () => {
    expect(curlSnippet(PING)).toBe(`curl -fsS -m 10 --retry 5 -o /dev/null "${PING}"`);
  });
  it("a crontab line reports the job's exit code", () => {
    expect(cronSnippet(PING, "0 3 * * *", "/usr/local/bin/backup.sh"))
      .toBe(`0 3 * * * /usr/local/bin/backup.sh; curl -fsS -m 10 --retry 5 -o /dev/null "${PING}/$?"`);
  });
  it("start and end pings surround the job", () => {
    const lines = startEndSnippet(PING).split("\n");
    expect(lines[0]).toContain(`"${PING}/start"`);
    expect(lines[2]).toContain(`"${PING}/$?"`);
  });
  it("token dialects send the token from the environment, never a literal one", () => {
    const urls = pingUrls(PING, "db");
    expect(nativeSnippet(urls)).toContain('Authorization: Bearer $XINEX_TOKEN');
    expect(jobRunSnippet(urls, "it's a job")).toContain(`'{"name":"it'\\''s a job","status":"success"}'`);
  });
});

describe("cronSchedule", () => {
  it("keeps a cron line and turns a period into one", () => {
    expect(cronSchedule("30 2 * * 1-5", 60)).toBe("30 2 * * 1-5");
    expect(cronSchedule(null, 60)).toBe("* * * * *");
    expect(cronSchedule(null, 300)).toBe("*/5 * * * *");
    expect(cronSchedule(null, 3600)).toBe("0 * * * *");
    expect(cronSchedule(null, 6 * 3600)).toBe("0 */6 * * *");
    expect(cronSchedule(null, 86400)).toBe("0 0 * * *");
  });
});
