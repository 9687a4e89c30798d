-- Durable before acknowledged (DESIGN §4): by default a MergeTree insert returns once its part is
-- written to the page cache, and chdb deletes merged-away parts at once (old_parts_lifetime = 0),
-- so a power loss could drop rows the API had already acknowledged. fsync every inserted part and
-- its directory before the insert returns, and keep merged-away parts for 8 minutes (ClickHouse's
-- server default): merges are not fsynced, and after a crash a broken merged part is replaced by
-- the parts it was made of. MODIFY SETTING is idempotent (same values on every run).
ALTER TABLE schema_migrations MODIFY SETTING fsync_after_insert = 1, fsync_part_directory = 1, old_parts_lifetime = 480;
ALTER TABLE check_results MODIFY SETTING fsync_after_insert = 1, fsync_part_directory = 1, old_parts_lifetime = 480;
ALTER TABLE heartbeat_pings MODIFY SETTING fsync_after_insert = 1, fsync_part_directory = 1, old_parts_lifetime = 480;
ALTER TABLE spans MODIFY SETTING fsync_after_insert = 1, fsync_part_directory = 1, old_parts_lifetime = 480;
ALTER TABLE logs MODIFY SETTING fsync_after_insert = 1, fsync_part_directory = 1, old_parts_lifetime = 480;
ALTER TABLE metrics MODIFY SETTING fsync_after_insert = 1, fsync_part_directory = 1, old_parts_lifetime = 480;
ALTER TABLE ai_run_events MODIFY SETTING fsync_after_insert = 1, fsync_part_directory = 1, old_parts_lifetime = 480;
