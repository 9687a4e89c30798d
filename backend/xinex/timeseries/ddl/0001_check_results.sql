-- Uptime check results (one row per probe execution). Tenant-owned: tenant_id leads ORDER BY.
-- Every statement must be idempotent (IF NOT EXISTS): replicas may run migrate() concurrently.
-- retention_days is written per row from the tenant's tier, so a tier change applies to new rows
-- and the TTL below removes old rows as parts merge.
CREATE TABLE IF NOT EXISTS check_results
(
    tenant_id      UUID,
    monitor_id     UUID,
    check_id       UUID,
    timestamp      DateTime64(3, 'UTC'),
    region         LowCardinality(String) DEFAULT '',
    monitor_type   LowCardinality(String) DEFAULT '',
    status         LowCardinality(String),
    latency_ms     Float64 DEFAULT 0,
    status_code    UInt16 DEFAULT 0,
    error          String DEFAULT '',
    details        Map(LowCardinality(String), String),
    retention_days UInt16 DEFAULT 30
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant_id, monitor_id, timestamp)
TTL toDateTime(timestamp) + toIntervalDay(retention_days)
-- Lets writers pass insert_deduplication_token so a job that runs twice stores its batch once.
SETTINGS non_replicated_deduplication_window = 1000;
