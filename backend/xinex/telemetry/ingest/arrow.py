"""Building the Arrow columns of an insert from flat Python lists.

The mappers walk the decoded protobuf once and append to flat lists (no per-row dicts); these
helpers turn the lists into typed Arrow arrays, so the insert is encoded in C (pyarrow) and
parsed in C++ (ClickHouse's Arrow input) instead of clickhouse-connect's pure-Python Native
encoder. Maps are (offsets, keys, values); lists of maps nest one more offsets array.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from xinex.telemetry.ingest.common import VALUE_TYPES, any_value

STRING = pa.string()
TIMESTAMP = pa.timestamp("ns", tz="UTC")
_INT64_MAX = pa.scalar(2**63 - 1, pa.uint64())


def strings(values: list[str]) -> pa.Array:
    return pa.array(values, STRING)


def constant(value: Any, n: int, type_: pa.DataType) -> pa.Array:
    return pa.repeat(pa.scalar(value, type_), n)


def timestamps(nanos: list[int]) -> pa.Array:
    """OTLP fixed64 nanoseconds; values past DateTime64(9)'s range (year 2262) are clamped."""
    return pc.min_element_wise(pa.array(nanos, pa.uint64()), _INT64_MAX).cast(pa.int64()).view(TIMESTAMP)


def string_maps(offsets: list[int], keys: list[str], values: list[str]) -> pa.Array:
    """Map(LowCardinality(String), String): row i holds entries offsets[i]:offsets[i + 1]."""
    return pa.MapArray.from_arrays(pa.array(offsets, pa.int32()), strings(keys), strings(values))


def lists(offsets: list[int], values: pa.Array) -> pa.Array:
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values)


def repeat_rows(per_group: pa.Array, group_of_row: list[int]) -> pa.Array:
    """One value per resource/scope, repeated for each of its rows (a C-level take)."""
    return per_group.take(pa.array(group_of_row, pa.int32()))


class AttributeMaps:
    """The attribute lists of successive rows (resources, spans, events, links, log records) as two
    Map columns: every value's text, and the types of the values that are not strings."""

    __slots__ = ("offsets", "keys", "values", "type_offsets", "type_keys", "type_values")

    def __init__(self) -> None:
        self.offsets, self.keys, self.values = [0], [], []
        self.type_offsets, self.type_keys, self.type_values = [0], [], []

    def add(self, kvs: Any) -> None:
        """One row's KeyValues. Most values are non-empty strings: they skip the oneof lookup
        (the hot path of ingest: no function call per value)."""
        keys, values, type_keys = self.keys, self.values, self.type_keys
        add_key, add_value = keys.append, values.append
        for kv in kvs:
            add_key(kv.key)
            v = kv.value
            text = v.string_value
            if text:
                add_value(text)
                continue
            kind = v.WhichOneof("value")
            if kind == "string_value":  # an empty string
                add_value(text)
            else:
                add_value(any_value(v, kind))
                type_keys.append(kv.key)
                self.type_values.append(VALUE_TYPES[kind])
        self.offsets.append(len(keys))
        self.type_offsets.append(len(type_keys))

    def texts(self) -> pa.Array:
        return string_maps(self.offsets, self.keys, self.values)

    def types(self) -> pa.Array:
        return string_maps(self.type_offsets, self.type_keys, self.type_values)
