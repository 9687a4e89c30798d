"""AI heartbeats: runs of AI agents/jobs report start/step/end; alerts on missed schedule,
failure rate, cost and latency budgets."""
