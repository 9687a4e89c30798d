/** What a heartbeat's owner pastes into a job: the three ping dialects and ready-made snippets. */

export interface PingUrls {
  /** healthchecks.io-compatible: GET/POST /ping/<uuid> (+ /start, /fail, /log, /<exit code>); no token */
  healthchecks: string;
  /** native: POST /api/v1/hb/<slug> with an API token (status, exit_code, run_id, message) */
  native: string;
  /** job-run: POST /api/v1/heartbeat/{start,ping,end} with {"name": …} and an API token */
  jobRun: string;
}

export function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "";
  }
}

export function pingUrls(pingUrl: string, slug: string): PingUrls {
  const base = origin(pingUrl);
  return {
    healthchecks: pingUrl,
    native: `${base}/api/v1/hb/${encodeURIComponent(slug)}`,
    jobRun: `${base}/api/v1/heartbeat/ping`,
  };
}

const CURL = "curl -fsS -m 10 --retry 5 -o /dev/null";

export function curlSnippet(pingUrl: string): string {
  return `${CURL} "${pingUrl}"`;
}

/** A crontab line: the job, then a ping carrying its exit code (0 = success, anything else = failure). */
export function cronSnippet(pingUrl: string, schedule: string, command = "/path/to/job.sh"): string {
  return `${schedule} ${command}; ${CURL} "${pingUrl}/$?"`;
}

/** Start and end pings around a job, so its runs get durations. */
export function startEndSnippet(pingUrl: string, command = "/path/to/job.sh"): string {
  return [`${CURL} "${pingUrl}/start"`, command, `${CURL} "${pingUrl}/$?"`].join("\n");
}

export function nativeSnippet(urls: PingUrls): string {
  return `curl -fsS -m 10 --retry 5 -X POST -H "Authorization: Bearer $XINEX_TOKEN" \\\n  -H 'Content-Type: application/json' -d '{"status": "success"}' "${urls.native}"`;
}

export function jobRunSnippet(urls: PingUrls, name: string): string {
  const body = JSON.stringify({ name, status: "success" }).replace(/'/g, `'\\''`);
  return `curl -fsS -m 10 --retry 5 -X POST -H "Authorization: Bearer $XINEX_TOKEN" \\\n  -H 'Content-Type: application/json' -d '${body}' "${urls.jobRun}"`;
}

/** A schedule in crontab terms: the cron line itself, or every N seconds rounded to minutes. */
export function cronSchedule(cron: string | null | undefined, intervalS: number): string {
  if (cron) return cron;
  const minutes = Math.max(1, Math.round(intervalS / 60));
  if (minutes < 60) return minutes === 1 ? "* * * * *" : `*/${minutes} * * * *`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return hours === 1 ? "0 * * * *" : `0 */${hours} * * *`;
  return "0 0 * * *";
}
