-- AI run events (start / step / end of AI-heartbeat runs). Run state and totals live in the
-- relational database (ai_runs); this is the append-only event history behind a run's timeline.
-- retention_days is written per row from the tenant's tier, like the other tables.
CREATE TABLE IF NOT EXISTS ai_run_events
(
    tenant_id       UUID,
    ai_heartbeat_id UUID,
    event_id        UUID,
    timestamp       DateTime64(3, 'UTC'),
    run_id          String,
    event           LowCardinality(String),
    outcome         LowCardinality(String) DEFAULT '',
    model           LowCardinality(String) DEFAULT '',
    step_name       String DEFAULT '',
    input_tokens    UInt64 DEFAULT 0,
    output_tokens   UInt64 DEFAULT 0,
    cost_usd        Float64 DEFAULT 0,
    latency_ms      Nullable(Float64),
    error           String DEFAULT '',
    metadata        Map(LowCardinality(String), String),
    retention_days  UInt16 DEFAULT 30
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant_id, ai_heartbeat_id, timestamp)
TTL toDateTime(timestamp) + toIntervalDay(retention_days)
SETTINGS non_replicated_deduplication_window = 1000;
