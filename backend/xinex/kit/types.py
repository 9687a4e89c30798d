"""Column and schema types shared by every model."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, DateTime, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_rfc3339(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# Every datetime leaves the API as RFC 3339 UTC with a "Z".
UTCDatetime = Annotated[datetime, PlainSerializer(to_rfc3339, return_type=str, when_used="json")]


def as_utc(value: datetime) -> datetime:
    """A time without an offset is taken as UTC; one with an offset is converted to UTC.

    A time at the edge of the calendar whose UTC equivalent falls outside years 1-9999
    (e.g. 9999-12-31T23:00:00-14:00) is a validation error, not an OverflowError (a 500)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise PydanticCustomError("datetime_range", "is outside the range of representable times "
                                  "once converted to UTC") from None


# Every datetime the API accepts (query parameters and bodies): RFC 3339 or ISO 8601; a time given
# without an offset means UTC. The value is always aware and in UTC, so comparing two inputs, or an
# input with utcnow() or a stored time, never mixes naive and aware datetimes.
def iso_8601_only(value: object) -> object:
    """pydantic's lax datetime also takes a number (or a numeric string such as `?to=0.5`) as Unix time,
    which the schema's `format: date-time` does not allow and no user means: only text is parsed."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) or (
            isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit()):
        raise PydanticCustomError("datetime_format", "must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z, "
                                  "not a number")
    return value


# A datetime given as text only (offset rules left to the caller).
ISODatetime = Annotated[datetime, BeforeValidator(iso_8601_only)]

UTCInstant = Annotated[datetime, BeforeValidator(iso_8601_only), AfterValidator(as_utc),
                       PlainSerializer(to_rfc3339, return_type=str, when_used="json")]


NUL_MESSAGE = "must not contain the NUL character (\\u0000)"


def no_nul(value: str) -> str:
    """PostgreSQL refuses NUL in text and JSON: refuse it at the edge (422), not at the INSERT (500)."""
    if "\x00" in value:
        raise PydanticCustomError("string_nul", NUL_MESSAGE)
    return value


# For any str that is stored in PostgreSQL or compared with its columns, in bodies and queries:
# `name: NulFreeStr = Field(max_length=...)`, `Annotated[NulFreeStr | None, Query(...)]`, or the
# NoNul constraint on another str type, Annotated[str, NoNul, ...]; no_nul() for hand-written checks.
NoNul = AfterValidator(no_nul)
NulFreeStr = Annotated[str, NoNul]


class UTCDateTimeType(TypeDecorator):
    """Timezone-aware UTC on every engine (SQLite drops the offset; we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


def utc_field(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTimeType, **kwargs)


class Entity(SQLModel):
    """id, created_at, updated_at on every persisted object."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTimeType, nullable=False)
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTimeType,
        nullable=False,
        sa_column_kwargs={"onupdate": utcnow},
    )
