-- Heartbeat ping history (every ping of every dialect). Current heartbeat state lives in the
-- relational database; this is the append-only log behind "pings" and "executions" listings.
CREATE TABLE IF NOT EXISTS heartbeat_pings
(
    tenant_id      UUID,
    heartbeat_id   UUID,
    ping_id        UUID,
    timestamp      DateTime64(3, 'UTC'),
    kind           LowCardinality(String),
    exit_code      Nullable(Int16),
    run_id         String DEFAULT '',
    duration_ms    Nullable(Float64),
    dialect        LowCardinality(String) DEFAULT '',
    method         LowCardinality(String) DEFAULT '',
    source_ip      String DEFAULT '',
    user_agent     String DEFAULT '',
    body           String DEFAULT '',
    attributes     Map(LowCardinality(String), String),
    retention_days UInt16 DEFAULT 30
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant_id, heartbeat_id, timestamp)
TTL toDateTime(timestamp) + toIntervalDay(retention_days)
SETTINGS non_replicated_deduplication_window = 1000;
