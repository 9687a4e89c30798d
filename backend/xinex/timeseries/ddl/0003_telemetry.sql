-- OpenTelemetry traces, logs and metrics (issue 5). Column names are the contract with the
-- OTLP ingest and with the OQL compiler (xinex/telemetry/oql/schema.py). Timestamps keep OTLP's
-- nanoseconds. Attribute values are stored as strings (OQL converts for numeric use).
CREATE TABLE IF NOT EXISTS spans
(
    tenant_id              UUID,
    timestamp              DateTime64(9, 'UTC'),
    trace_id               String,
    span_id                String,
    parent_span_id         String DEFAULT '',
    trace_state            String DEFAULT '',
    name                   LowCardinality(String),
    kind                   LowCardinality(String) DEFAULT 'unspecified',
    service_name           LowCardinality(String) DEFAULT '',
    duration_ns            UInt64,
    status_code            LowCardinality(String) DEFAULT 'unset',
    status_message         String DEFAULT '',
    scope_name             LowCardinality(String) DEFAULT '',
    scope_version          LowCardinality(String) DEFAULT '',
    resource_attributes    Map(LowCardinality(String), String),
    attributes             Map(LowCardinality(String), String),
    events_timestamp       Array(DateTime64(9, 'UTC')),
    events_name            Array(LowCardinality(String)),
    events_attributes      Array(Map(LowCardinality(String), String)),
    links_trace_id         Array(String),
    links_span_id          Array(String),
    links_trace_state      Array(String),
    links_attributes       Array(Map(LowCardinality(String), String)),
    dropped_attributes_count UInt32 DEFAULT 0,
    retention_days         UInt16 DEFAULT 15,
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_ts timestamp TYPE minmax GRANULARITY 1,
    INDEX idx_attr_keys mapKeys(attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration duration_ns TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(timestamp)
ORDER BY (tenant_id, service_name, name, timestamp)
TTL toDateTime(timestamp) + toIntervalDay(retention_days)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS logs
(
    tenant_id              UUID,
    timestamp              DateTime64(9, 'UTC'),
    observed_timestamp     DateTime64(9, 'UTC'),
    trace_id               String DEFAULT '',
    span_id                String DEFAULT '',
    trace_flags            UInt8 DEFAULT 0,
    severity_text          LowCardinality(String) DEFAULT '',
    severity_number        UInt8 DEFAULT 0,
    service_name           LowCardinality(String) DEFAULT '',
    body                   String,
    scope_name             LowCardinality(String) DEFAULT '',
    scope_version          LowCardinality(String) DEFAULT '',
    resource_attributes    Map(LowCardinality(String), String),
    attributes             Map(LowCardinality(String), String),
    dropped_attributes_count UInt32 DEFAULT 0,
    retention_days         UInt16 DEFAULT 15,
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_ts timestamp TYPE minmax GRANULARITY 1,
    INDEX idx_body body TYPE ngrambf_v1(3, 65536, 3, 0) GRANULARITY 1,
    INDEX idx_attr_keys mapKeys(attributes) TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(timestamp)
ORDER BY (tenant_id, service_name, timestamp)
TTL toDateTime(timestamp) + toIntervalDay(retention_days)
SETTINGS non_replicated_deduplication_window = 1000;

-- One row per metric data point, all five OTLP point kinds in one table (metric_type says which
-- columns are meaningful): gauge/sum use value; histogram uses hist_* and bucket arrays;
-- exponential histograms use exp_*; summaries use quantiles/quantile_values.
-- host_name is resource attribute host.name, denormalised because FROM host groups by it.
CREATE TABLE IF NOT EXISTS metrics
(
    tenant_id              UUID,
    metric_name            LowCardinality(String),
    metric_type            LowCardinality(String),
    timestamp              DateTime64(9, 'UTC'),
    start_timestamp        DateTime64(9, 'UTC') DEFAULT toDateTime64(0, 9, 'UTC'),
    service_name           LowCardinality(String) DEFAULT '',
    host_name              LowCardinality(String) DEFAULT '',
    unit                   LowCardinality(String) DEFAULT '',
    description            String DEFAULT '',
    aggregation_temporality LowCardinality(String) DEFAULT '',
    is_monotonic           UInt8 DEFAULT 0,
    value                  Float64 DEFAULT 0,
    hist_count             UInt64 DEFAULT 0,
    hist_sum               Float64 DEFAULT 0,
    hist_min               Nullable(Float64),
    hist_max               Nullable(Float64),
    bucket_counts          Array(UInt64),
    explicit_bounds        Array(Float64),
    exp_scale              Int32 DEFAULT 0,
    exp_zero_count         UInt64 DEFAULT 0,
    exp_positive_offset    Int32 DEFAULT 0,
    exp_positive_bucket_counts Array(UInt64),
    exp_negative_offset    Int32 DEFAULT 0,
    exp_negative_bucket_counts Array(UInt64),
    quantiles              Array(Float64),
    quantile_values        Array(Float64),
    flags                  UInt32 DEFAULT 0,
    scope_name             LowCardinality(String) DEFAULT '',
    scope_version          LowCardinality(String) DEFAULT '',
    resource_attributes    Map(LowCardinality(String), String),
    attributes             Map(LowCardinality(String), String),
    retention_days         UInt16 DEFAULT 15,
    INDEX idx_ts timestamp TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(timestamp)
ORDER BY (tenant_id, metric_name, host_name, service_name, timestamp)
TTL toDateTime(timestamp) + toIntervalDay(retention_days)
SETTINGS non_replicated_deduplication_window = 1000;
