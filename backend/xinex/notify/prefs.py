"""Per-user notification preferences: which media for which severity, and quiet hours (the rules; the row is
read by `repository.PrefRepository.of_user`)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from xinex.models.notify import NotificationPref

USER_MEDIA = ("email", "push", "feed")
DEFAULT_RULES: dict[str, list[str]] = {
    "critical": ["email", "push", "feed"],
    "high": ["email", "push", "feed"],
    "warning": ["email", "feed"],
    "info": ["feed"],
}


def effective_rules(pref: NotificationPref | None) -> dict[str, list[str]]:
    rules = dict(DEFAULT_RULES)
    if pref is not None:
        rules.update(pref.rules or {})
    return rules


def media_for(pref: NotificationPref | None, severity: str) -> list[str]:
    rules = effective_rules(pref)
    return list(rules.get(severity, rules["critical"]))


def _parse(hhmm: str) -> time:
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))


def in_quiet_hours(quiet: dict[str, Any] | None, now: datetime) -> bool:
    """Quiet hours are local wall-clock times in the user's zone; a window may cross midnight."""
    if not quiet or not quiet.get("enabled"):
        return False
    local = now.astimezone(ZoneInfo(quiet.get("timezone") or "UTC")).time().replace(second=0, microsecond=0)
    start, end = _parse(quiet["start"]), _parse(quiet["end"])
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def suppressed_by_quiet_hours(pref: NotificationPref | None, severity: str, now: datetime) -> bool:
    # Critical pages always go through: quiet hours only hold back the rest.
    return severity != "critical" and in_quiet_hours(pref.quiet_hours if pref else None, now)
