-- Attribute value types (issue 14). The Map(String, String) attribute columns keep every value as
-- text (what OQL compares and converts); these maps name the OTLP type of each value that is not a
-- string — int, double, bool, array, kvlist, bytes, empty — so the read API returns it typed. A key
-- absent from them is a string; rows stored before this migration read as strings. Mostly empty
-- maps: a few bytes per row.
ALTER TABLE spans
    ADD COLUMN IF NOT EXISTS attribute_types Map(LowCardinality(String), LowCardinality(String)) AFTER attributes,
    ADD COLUMN IF NOT EXISTS resource_attribute_types Map(LowCardinality(String), LowCardinality(String)) AFTER attribute_types,
    ADD COLUMN IF NOT EXISTS events_attribute_types Array(Map(LowCardinality(String), LowCardinality(String))) AFTER events_attributes,
    ADD COLUMN IF NOT EXISTS links_attribute_types Array(Map(LowCardinality(String), LowCardinality(String))) AFTER links_attributes;
ALTER TABLE logs
    ADD COLUMN IF NOT EXISTS attribute_types Map(LowCardinality(String), LowCardinality(String)) AFTER attributes,
    ADD COLUMN IF NOT EXISTS resource_attribute_types Map(LowCardinality(String), LowCardinality(String)) AFTER attribute_types;
