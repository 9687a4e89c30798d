"""Shared OTLP → row helpers: attribute values as strings, resources, scopes, ids.

Attribute values are stored as strings (DDL 0003_telemetry): scalars in their natural text form,
arrays and key-value lists as JSON, bytes as base64. OQL converts to numbers where it needs to.
Spans and logs also store the OTLP type of every value that is not a string (DDL 0006, the
*_attribute_types maps: VALUE_TYPES), so reads give back ints, doubles, bools, arrays, kvlists.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

SERVICE_NAME = "service.name"
HOST_NAME = "host.name"


# AnyValue oneof field → the type name stored in the *_attribute_types maps (strings are not stored).
VALUE_TYPES = {"int_value": "int", "double_value": "double", "bool_value": "bool", "array_value": "array",
               "kvlist_value": "kvlist", "bytes_value": "bytes", None: "empty"}


def any_value(v: Any, kind: str | None = "") -> str:
    """An OTLP AnyValue as the text we store (kind: its oneof field, when the caller has it)."""
    if kind == "":
        kind = v.WhichOneof("value")
    if kind == "string_value":
        return v.string_value
    if kind == "int_value":
        return str(v.int_value)
    if kind == "bool_value":
        return "true" if v.bool_value else "false"
    if kind == "double_value":
        return repr(v.double_value)
    if kind is None:
        return ""
    if kind == "bytes_value":  # plain base64, as the module doc says (not a quoted JSON string)
        return base64.b64encode(v.bytes_value).decode()
    return json.dumps(_py(v), separators=(",", ":"), ensure_ascii=False)


def _py(v: Any) -> Any:
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_py(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _py(kv.value) for kv in v.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(v.bytes_value).decode()
    return getattr(v, kind)


def attributes(kvs: Any) -> dict[str, str]:
    # Fast path: most attributes are strings; WhichOneof once per value.
    out = {}
    for kv in kvs:
        v = kv.value
        out[kv.key] = v.string_value if v.WhichOneof("value") == "string_value" else any_value(v)
    return out


def lookup(keys: list[str], values: list[str], start: int, key: str) -> str:
    """The value of `key` among keys[start:] (the last one wins, as in a dict), else ''."""
    found = ""
    for i in range(start, len(keys)):
        if keys[i] == key:
            found = values[i]
    return found


def id_hex(raw: bytes) -> str:
    """A trace/span id as hex; '' for an absent or all-zero (invalid, W3C) id rather than zeros."""
    return raw.hex() if raw.lstrip(b"\0") else ""


def now_ns() -> int:
    return time.time_ns()


class MappingReport:
    """What mapping one export request found that the receiver acts on: the invalid items
    (counted, with the first few reasons, for the partial-success message), parts dropped from
    stored items, and whether the receiver filled in the time of any item that came without one."""

    __slots__ = ("rejected", "reasons", "dropped", "time_filled")

    def __init__(self) -> None:
        self.rejected = 0
        self.reasons: list[str] = []
        # Parts dropped from items that are stored (e.g. a malformed span link): what → how many.
        # Reported to the client as a partial-success warning, not counted as rejected items.
        self.dropped: dict[str, int] = {}
        # Such an item's time is the receive time: the same bytes sent again are another record,
        # so the request must not be taken for a retry (receiver.py, retry dedup).
        self.time_filled = False

    def reject(self, reason: str, n: int = 1) -> None:
        self.rejected += n
        if len(self.reasons) < 5 and reason not in self.reasons:
            self.reasons.append(reason)

    def drop(self, what: str, n: int = 1) -> None:
        self.dropped[what] = self.dropped.get(what, 0) + n

    @property
    def message(self) -> str:
        return "; ".join(self.reasons)
