/** Words for an AI heartbeat's schedule, budgets and breaches. */

export interface Budgets {
  max_failure_rate?: number | null; window_s?: number; min_runs?: number; max_cost_per_run_usd?: number | null;
  max_cost_per_day_usd?: number | null; max_p95_latency_ms?: number | null;
}

export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return value < 0.01 && value > 0 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`;
}

export function scheduleText(h: { schedule: string; interval: number | null; cron: string | null; timezone: string; grace: number },
  seconds: (s: number) => string): string {
  if (h.schedule === "simple" && h.interval) return `a run every ${seconds(h.interval)} (grace ${seconds(h.grace)})`;
  if (h.schedule === "cron" && h.cron) return `runs on ${h.cron} ${h.timezone} (grace ${seconds(h.grace)})`;
  return "no schedule: no missed-run alerts";
}

/** The budgets as (label, value) lines; unset limits say so. */
export function budgetLines(b: Budgets): [string, string][] {
  const window = b.window_s ?? 3600;
  const pct = (x: number) => `${+(x * 100).toFixed(2)} %`;
  return [
    ["Failure rate", b.max_failure_rate != null ? `at most ${pct(b.max_failure_rate)} over ${Math.round(window / 60)} min (from ${b.min_runs ?? 5} runs)` : "no limit"],
    ["p95 latency", b.max_p95_latency_ms != null ? `at most ${b.max_p95_latency_ms} ms` : "no limit"],
    ["Cost per run", b.max_cost_per_run_usd != null ? `at most ${formatUsd(b.max_cost_per_run_usd)}` : "no limit"],
    ["Cost per day", b.max_cost_per_day_usd != null ? `at most ${formatUsd(b.max_cost_per_day_usd)}` : "no limit"],
  ];
}

/** One breached budget in words ({budget, value, limit} as the API reports it). */
export function breachText(b: Record<string, unknown>): string {
  const name = String(b.budget ?? b.kind ?? "budget").replace(/_/g, " ");
  return b.value !== undefined && b.limit !== undefined ? `${name} ${String(b.value)} (limit ${String(b.limit)})` : name;
}

export function aiRunSnippet(origin: string, id: string): string {
  const url = `${origin}/api/v1/ai-heartbeats/${id}/run`;
  return [
    `curl -sS -X POST ${url} -H "Authorization: Bearer $XINEX_TOKEN" -H 'Content-Type: application/json' \\`,
    `  -d '{"event": "start", "run_id": "run-42"}'`,
    `curl -sS -X POST ${url} -H "Authorization: Bearer $XINEX_TOKEN" -H 'Content-Type: application/json' \\`,
    `  -d '{"event": "end", "run_id": "run-42", "outcome": "success", "model": "gpt-4o", "input_tokens": 1200, "output_tokens": 350, "cost_usd": 0.012, "latency_ms": 2400}'`,
  ].join("\n");
}
