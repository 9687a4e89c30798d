"""Reusable validated field types for request schemas (names, cron expressions, time zones, tags).

Use them as annotations, e.g. `cron: CronExpression | None = None`, instead of repeating a
`field_validator` in every schema.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import AfterValidator, BeforeValidator


def valid_cron(expr: str) -> bool:
    return len(expr.split()) == 5 and croniter.is_valid(expr)


def valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _non_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


def _blank_to_none(value):
    return None if isinstance(value, str) and not value.strip() else value


def _cron(value: str) -> str:
    value = " ".join(value.split())
    if not valid_cron(value):
        raise ValueError("not a valid 5-field cron expression")
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
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > max_tags:
        raise ValueError(f"at most {max_tags} tags")
    return cleaned


def _optional_cron(value: str | None) -> str | None:
    return None if value is None else _cron(value)


NonBlankStr = Annotated[str, AfterValidator(_non_blank)]
CronExpression = Annotated[str, AfterValidator(_cron)]
# A blank string means "no cron"; anything else must be a valid 5-field expression.
OptionalCron = Annotated[str | None, BeforeValidator(_blank_to_none), AfterValidator(_optional_cron)]
TimeZoneName = Annotated[str, AfterValidator(_timezone)]
Tags = Annotated[list[str], AfterValidator(clean_tags)]
