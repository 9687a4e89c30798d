"""Reusable validated field types for request schemas (names, cron expressions, time zones, tags).

Use them as annotations, e.g. `cron: CronExpression | None = None`, instead of repeating a
`field_validator` in every schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter
from pydantic import AfterValidator, BeforeValidator, Field
from pydantic.config import JsonDict

_CRON_PROBE_START = datetime(2000, 1, 1)  # a leap year: Feb 29 schedules fire within the probe


def valid_cron(expr: str) -> bool:
    """A 5-field expression that fires at all: '0 0 30 2 *' parses but never fires, and a
    heartbeat on it would never be due (and computing its next firing fails)."""
    if len(expr.split()) != 5 or not croniter.is_valid(expr):
        return False
    try:
        croniter(expr, _CRON_PROBE_START).get_next(datetime)
    except (CroniterError, ValueError, OverflowError):
        return False
    return True


def valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file path
        return False
    return True


def _non_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    if not _storable_text(value):
        raise ValueError("must not contain NUL characters or unpaired surrogates")
    return value


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _cron(value: str) -> str:
    value = " ".join(value.split())
    if not valid_cron(value):
        raise ValueError("not a valid 5-field cron expression, or one that never fires")
    return value


def _timezone(value: str) -> str:
    if not valid_timezone(value):
        raise ValueError("unknown IANA timezone")
    return value


def clean_tags(tags: list[str] | None, *, max_tags: int = 20) -> list[str] | None:
    """Trimmed, 1-50 characters each, de-duplicated in order."""
    if tags is None:
        return None
    cleaned: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if not tag or len(tag) > 50:
            raise ValueError("each tag must be 1-50 characters")
        if not _storable_text(tag):
            raise ValueError("tags must not contain NUL characters or unpaired surrogates")
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > max_tags:
        raise ValueError(f"at most {max_tags} tags")
    return cleaned


def _storable_text(value: str) -> bool:
    """Text every database stores: no NUL (PostgreSQL refuses it) and valid UTF-8 (no lone
    surrogates, which JSON escapes can carry)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _optional_cron(value: str | None) -> str | None:
    return None if value is None else _cron(value)


# At least one character that str.strip() keeps (Python counts \x1c-\x1f as white space).
VISIBLE = r"[^\s\x1c-\x1f]"
# The schema states the rule; the validator enforces it with its own message.
NonBlankStr = Annotated[str, Field(json_schema_extra={"pattern": VISIBLE}), AfterValidator(_non_blank)]
# What clean_tags accepts, for the OpenAPI document (`Field(json_schema_extra=TAGS_SCHEMA)`).
TAGS_SCHEMA: JsonDict = {"maxItems": 20, "items": {"type": "string", "minLength": 1, "maxLength": 50, "pattern": VISIBLE}}
CronExpression = Annotated[str, AfterValidator(_cron)]
# A blank string means "no cron"; anything else must be a valid 5-field expression.
OptionalCron = Annotated[str | None, BeforeValidator(_blank_to_none), AfterValidator(_optional_cron)]
TimeZoneName = Annotated[str, AfterValidator(_timezone)]
Tags = Annotated[list[str], Field(json_schema_extra=TAGS_SCHEMA), AfterValidator(clean_tags)]
