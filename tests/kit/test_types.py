"""kit.types input types: UTCInstant (a time without an offset is UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from xinex.kit.types import NUL_MESSAGE, NulFreeStr, UTCInstant, no_nul

instant = TypeAdapter(UTCInstant)


def test_time_without_offset_is_utc():
    v = instant.validate_python("2025-01-01T00:00:00")
    assert v == datetime(2025, 1, 1, tzinfo=UTC) and v.tzinfo is UTC
    # Comparable with an aware value (the 500s were "can't compare offset-naive and offset-aware").
    assert v < instant.validate_python("2025-01-01T00:00:01Z")


def test_offset_is_converted_to_utc():
    v = instant.validate_python("2025-01-01T02:30:00+02:00")
    assert v == datetime(2025, 1, 1, 0, 30, tzinfo=UTC) and v.utcoffset() == timedelta(0) and v.tzinfo is UTC
    v = instant.validate_python(datetime(2025, 1, 1, 12, tzinfo=timezone(timedelta(hours=-5))))
    assert v.tzinfo is UTC and v.hour == 17
    assert instant.validate_python(datetime(2025, 1, 1)).tzinfo is UTC


def test_serialises_as_rfc3339_z_and_rejects_garbage():
    class M(BaseModel):
        at: UTCInstant
        maybe: UTCInstant | None = None

    m = M(at="2025-06-01T08:00:00")
    assert m.model_dump(mode="json") == {"at": "2025-06-01T08:00:00Z", "maybe": None}
    with pytest.raises(ValidationError):
        M(at="yesterday")


def test_nul_free_str():
    class M(BaseModel):
        name: NulFreeStr = Field(max_length=10)
        note: NulFreeStr | None = None

    assert M(name="a b", note=None).name == "a b"
    for bad in ({"name": "a\u0000"}, {"name": "ok", "note": "\u0000x"}):
        with pytest.raises(ValidationError) as exc:
            M(**bad)
        [err] = exc.value.errors()
        assert err["type"] == "string_nul" and err["msg"] == NUL_MESSAGE and "NUL" in err["msg"]
    with pytest.raises(ValueError):
        no_nul("x\x00")
