"""Move in from PagerDuty (and Opsgenie, Grafana OnCall: their objects are first put in PagerDuty's
shapes, then the same steps run): users, schedules, escalation policies and services read from its REST
API (paged lists, `Authorization: Token token=…`) become members (matched by e-mail, invited if missing),
schedules, escalation policies, and per service an integration (kind pagerduty, a new routing key)
with a routing rule to the service's policy.

A re-run updates what the last run made (`import_links` remembers it) and never duplicates. A dry
run does every step inside a savepoint that is rolled back (and sends no invitation), so the plan
it prints is what a real run would do. Every source object that cannot be mapped is reported with
the reason, never silently dropped.

How PagerDuty's objects map (docs/migration.md):
- a schedule layer → a layer: `rotation_virtual_start` in the schedule's time zone is the first
  handoff (local wall-clock, so handoffs stay at the same local time across DST, as there), the turn
  length in whole hours; daily restrictions → a daily window, weekly restrictions → per-day windows;
  PagerDuty's later layers win, as Xinex's later layers do;
- an escalation rule → a step: a rule's delay is the wait before the *next* rule, a step's delay the
  wait before *itself*, so delays shift by one; `num_loops` → repeat, repeating after the last rule's
  delay.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.audit import service as audit
from xinex.audit.context import AuditContext
from xinex.identity.principal import Principal
from xinex.integrations import service
from xinex.integrations.schemas import IntegrationCreate
from xinex.kit import outbound
from xinex.kit.errors import AppError
from xinex.kit.fields import valid_timezone
from xinex.kit.tenancy import bound_tenant
from xinex.models.identity import User
from xinex.models.integrations import ImportLink, Integration
from xinex.models.oncall import EscalationPolicy, RoutingRule, Schedule, ScheduleOverride
from xinex.models.tenant import Membership, Role
from xinex.oncall import service as oncall
from xinex.oncall.schemas import (
    LayerIn,
    OverrideIn,
    PolicyIn,
    RestrictionIn,
    RoutingRuleIn,
    ScheduleIn,
    StepIn,
    Target,
)
from xinex.tenants.service import create_invitation

SOURCE = "pagerduty"
SOURCES = ("pagerduty", "opsgenie", "grafana-oncall")
LABELS = {"pagerduty": "PagerDuty", "opsgenie": "Opsgenie", "grafana-oncall": "Grafana OnCall"}
PAGE_LIMIT = 100
OVERRIDES_AHEAD = timedelta(days=365)  # overrides imported: those overlapping the coming year
MAX_PAGES = 200  # 20,000 objects per collection: a bound on a source that never says "no more"
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class ImportFailed(Exception):
    """The source could not be read (unreachable, refused the token, answered something else)."""


@dataclass
class Item:
    type: str  # user | schedule | override | escalation_policy | service
    external_id: str
    name: str
    action: str  # matched | invited | create | update | skip
    object_id: str | None = None
    detail: str = ""
    key: str | None = None  # a new integration's routing key: shown in this report only


@dataclass
class Problem:
    type: str
    external_id: str
    name: str
    why: str


@dataclass
class Report:
    source: str
    dry_run: bool
    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for item in self.items:
            out.setdefault(item.type, {}).setdefault(item.action, 0)
            out[item.type][item.action] += 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "dry_run": self.dry_run, "summary": self.summary(),
                "items": [asdict(i) for i in self.items], "problems": [asdict(p) for p in self.problems]}


# --- reading PagerDuty's REST API ----------------------------------------------------------------------

class PagerDutyReader:
    label = "PagerDuty"

    def __init__(self, url: str, token: str) -> None:
        self.base = url.rstrip("/")
        self.headers = {"Authorization": f"Token token={token}",
                        "Accept": "application/vnd.pagerduty+json;version=2"}

    async def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.base}{path}" + (f"?{urlencode(params, doseq=True)}" if params else "")
        try:
            response = await outbound.request("GET", url, headers=self.headers, follow_redirects=False)
        except (outbound.OutboundBlocked, outbound.OutboundFailed) as exc:
            raise ImportFailed(f"GET {path}: {exc}") from None
        if response.status_code in (401, 403):
            raise ImportFailed(f"GET {path}: {self.label} refused the token ({response.status_code})")
        if response.status_code != 200:
            raise ImportFailed(f"GET {path}: {self.label} answered {response.status_code}")
        try:
            body = json.loads(response.content)
        except ValueError:
            raise ImportFailed(f"GET {path}: the answer is not JSON") from None
        if not isinstance(body, dict):
            raise ImportFailed(f"GET {path}: the answer is not a JSON object")
        return body

    async def collection(self, path: str, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every page of a classic-paginated list (offset, limit, more)."""
        out: list[dict[str, Any]] = []
        offset = 0
        for _ in range(MAX_PAGES):
            body = await self.get(path, {**(params or {}), "limit": PAGE_LIMIT, "offset": offset})
            page = body.get(name)
            if not isinstance(page, list):
                raise ImportFailed(f"GET {path}: no '{name}' list in the answer")
            out += [o for o in page if isinstance(o, dict)]
            if not body.get("more") or not page:
                return out
            offset += len(page)
        raise ImportFailed(f"GET {path}: more than {MAX_PAGES} pages")


class OpsgenieReader(PagerDutyReader):
    """Opsgenie's REST API: `Authorization: GenieKey …`, lists as {data, paging: {next}}."""

    label = "Opsgenie"

    def __init__(self, url: str, token: str) -> None:
        self.base = url.rstrip("/")
        self.headers = {"Authorization": f"GenieKey {token}", "Accept": "application/json"}

    async def collection(self, path: str, name: str = "data", params: dict[str, Any] | None = None
                         ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        offset = 0
        for _ in range(MAX_PAGES):
            body = await self.get(path, {**(params or {}), "limit": PAGE_LIMIT, "offset": offset})
            page = body.get("data")
            if not isinstance(page, list):
                raise ImportFailed(f"GET {path}: no 'data' list in the answer")
            out += [o for o in page if isinstance(o, dict)]
            # The next page's URL is the source's to give, but only its offset is followed here: the
            # request stays on the URL the importer was given.
            if not (body.get("paging") or {}).get("next") or not page:
                return out
            offset += len(page)
        raise ImportFailed(f"GET {path}: more than {MAX_PAGES} pages")


class GrafanaOnCallReader(PagerDutyReader):
    """Grafana OnCall's public API: `Authorization: <token>`, lists as {results, next} by page number."""

    label = "Grafana OnCall"

    def __init__(self, url: str, token: str) -> None:
        self.base = url.rstrip("/")
        self.headers = {"Authorization": token, "Accept": "application/json"}

    async def collection(self, path: str, name: str = "results", params: dict[str, Any] | None = None
                         ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for number in range(1, MAX_PAGES + 1):
            body = await self.get(path, {**(params or {}), "page": number})
            page = body.get("results")
            if not isinstance(page, list):
                raise ImportFailed(f"GET {path}: no 'results' list in the answer")
            out += [o for o in page if isinstance(o, dict)]
            if not body.get("next") or not page:  # only the page number of `next` is followed
                return out
        raise ImportFailed(f"GET {path}: more than {MAX_PAGES} pages")


GO_DAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
GO_FREQUENCY_HOURS = {"hourly": 1, "daily": 24, "weekly": 168}
GO_KINDS = {"alertmanager": "alertmanager", "grafana_alerting": "grafana", "grafana": "grafana"}


def grafana_oncall_as_pagerduty(users: list[dict[str, Any]], schedules: list[dict[str, Any]],
                                shifts: list[dict[str, Any]], chains: list[dict[str, Any]],
                                steps: list[dict[str, Any]], integrations: list[dict[str, Any]]
                                ) -> tuple[dict[str, list[dict[str, Any]]], list[tuple[str, dict[str, Any], str]]]:
    """Grafana OnCall's objects in the PagerDuty shapes the importer's steps read, plus what has none."""
    problems: list[tuple[str, dict[str, Any], str]] = []
    out_users = [{"id": u.get("id"), "name": u.get("username"), "email": u.get("email")} for u in users]
    by_id = {str(s.get("id")): s for s in shifts}
    out_schedules = []
    for sched in schedules:
        if sched.get("type") == "ical":
            problems.append(("schedule", sched, "an iCal-imported schedule has no shifts to import"))
            continue
        layers = []
        for shift_id in sched.get("shifts") or []:
            shift = by_id.get(str(shift_id))
            if shift is None:
                continue
            label = f"shift {shift.get('name')!r}"
            if shift.get("type") != "rolling_users" or shift.get("frequency") not in GO_FREQUENCY_HOURS:
                problems.append(("schedule", sched, f"{label}: a {shift.get('type')} shift with frequency "
                                                    f"{shift.get('frequency')} cannot be mapped"))
                continue
            groups = [g for g in shift.get("rolling_users") or [] if g]
            if any(len(g) > 1 for g in groups):
                problems.append(("schedule", sched, f"{label}: several people on call at once: the first of "
                                                    "each group is imported"))
            turn = GO_FREQUENCY_HOURS[str(shift["frequency"])] * int(shift.get("interval") or 1)
            duration = int(shift.get("duration") or turn * 3600)
            restrictions = []
            if duration < turn * 3600 or shift.get("by_day"):
                start_of_day = _seconds_of_day(str(shift.get("start") or "T00:00:00").split("T")[-1][:8])
                for day in shift.get("by_day") or list(GO_DAYS):
                    restrictions.append({"type": "weekly_restriction", "start_time_of_day": _hhmm(start_of_day) + ":00",
                                         "start_day_of_week": GO_DAYS.get(str(day), 0) + 1,
                                         "duration_seconds": min(duration, 86400)})
            order = list(groups)
            first = int(shift.get("start_rotation_from_user_index") or 0)
            order = order[first:] + order[:first]
            layers.append({"name": str(shift.get("name") or shift_id), "priority": int(shift.get("level") or 0),
                           "rotation_virtual_start": shift.get("rotation_start") or shift.get("start"),
                           "end": shift.get("until"), "rotation_turn_length_seconds": turn * 3600,
                           "users": [{"user": {"id": g[0]}} for g in order], "restrictions": restrictions})
        out_schedules.append({"id": sched.get("id"), "name": sched.get("name"), "description": None,
                              "time_zone": sched.get("time_zone") or "UTC", "schedule_layers": layers})
    out_policies = []
    for chain in chains:
        rules: list[dict[str, Any]] = []
        first_delay = 0
        for step in sorted((s for s in steps if s.get("escalation_chain_id") == chain.get("id")),
                           key=lambda s: int(s.get("position") or 0)):
            kind = step.get("type")
            if kind == "wait":
                minutes = int(step.get("duration") or 0) // 60
                if rules:
                    rules[-1]["escalation_delay_in_minutes"] += minutes
                else:
                    first_delay += minutes
            elif kind in ("notify_persons", "notify_person_next_each_time"):
                rules.append({"escalation_delay_in_minutes": 0, "targets": [
                    {"type": "user_reference", "id": u} for u in step.get("persons_to_notify") or []]})
            elif kind == "notify_on_call_from_schedule":
                rules.append({"escalation_delay_in_minutes": 0, "targets": [
                    {"type": "schedule_reference", "id": step.get("notify_on_call_from_schedule")}]})
            else:
                problems.append(("escalation_policy", chain, f"a {kind} step cannot be mapped: left out"))
        out_policies.append({"id": chain.get("id"), "name": chain.get("name"), "first_delay_minutes": first_delay,
                             "num_loops": 0, "escalation_rules": rules})
    out_services = []
    for integration in integrations:
        kind = GO_KINDS.get(str(integration.get("type")))
        if kind is None:
            problems.append(("service", integration, f"a {integration.get('type')} integration is not imported "
                                                     "(Alertmanager and Grafana alerting ones are)"))
            continue
        chain_id = (integration.get("default_route") or {}).get("escalation_chain_id")
        out_services.append({"id": integration.get("id"), "name": integration.get("name"), "kind": kind,
                             "escalation_policy": {"id": chain_id} if chain_id else None})
    return ({"users": out_users, "schedules": out_schedules, "escalation_policies": out_policies,
             "services": out_services}, problems)


OG_DAYS = {d: i for i, d in enumerate(DAYS)}
OG_UNIT_HOURS = {"hourly": 1, "daily": 24, "weekly": 168}
OG_MINUTES = {"minutes": 1, "hours": 60, "days": 1440}


def _og_restrictions(raw: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Opsgenie's time restriction in PagerDuty's restriction shape (what restrictions_of reads)."""
    if not raw:
        return []
    if raw.get("type") == "time-of-day":
        r = raw.get("restriction") or {}
        start = int(r.get("startHour") or 0) * 3600 + int(r.get("startMin") or 0) * 60
        end = int(r.get("endHour") or 0) * 3600 + int(r.get("endMin") or 0) * 60
        return [{"type": "daily_restriction", "start_time_of_day": _hhmm(start) + ":00",
                 "duration_seconds": (end - start) % 86400 or 86400}]
    out = []
    for r in raw.get("restrictions") or []:
        start_day, end_day = OG_DAYS.get(str(r.get("startDay")).lower(), 0), OG_DAYS.get(str(r.get("endDay")).lower(), 0)
        start = start_day * 86400 + int(r.get("startHour") or 0) * 3600 + int(r.get("startMin") or 0) * 60
        end = end_day * 86400 + int(r.get("endHour") or 0) * 3600 + int(r.get("endMin") or 0) * 60
        out.append({"type": "weekly_restriction", "start_time_of_day": _hhmm(start) + ":00",
                    "start_day_of_week": start_day + 1, "duration_seconds": (end - start) % (7 * 86400) or 7 * 86400})
    return out


def opsgenie_as_pagerduty(users: list[dict[str, Any]], schedules: list[dict[str, Any]],
                          escalations: list[dict[str, Any]], integrations: list[dict[str, Any]]
                          ) -> tuple[dict[str, list[dict[str, Any]]], list[tuple[str, dict[str, Any], str]]]:
    """Opsgenie's objects in the PagerDuty shapes the importer's steps read, plus what has no such shape."""
    problems: list[tuple[str, dict[str, Any], str]] = []
    out_users = [{"id": u.get("id"), "name": u.get("fullName"), "email": u.get("username")} for u in users]
    out_schedules = []
    for sched in schedules:
        layers = []
        for index, rot in enumerate(sched.get("rotations") or []):
            hours = OG_UNIT_HOURS.get(str(rot.get("type")), 0) * int(rot.get("length") or 1)
            people = []
            for p in rot.get("participants") or []:
                if p.get("type") == "user":
                    people.append({"user": {"id": p.get("id")}})
                else:
                    problems.append(("schedule", sched, f"rotation {rot.get('name')!r}: a {p.get('type')} "
                                                        "participant cannot be mapped: left out"))
            layers.append({"name": str(rot.get("name") or f"Rotation {index + 1}"), "priority": index + 1,
                           "rotation_virtual_start": rot.get("startDate"), "end": rot.get("endDate"),
                           "rotation_turn_length_seconds": hours * 3600, "users": people,
                           "restrictions": _og_restrictions(rot.get("timeRestriction"))})
        out_schedules.append({"id": sched.get("id"), "name": sched.get("name"), "description": sched.get("description"),
                              "time_zone": sched.get("timezone") or "UTC", "schedule_layers": layers})
    out_policies = []
    for esc in escalations:
        rules = sorted(esc.get("rules") or [], key=lambda r: _og_delay(r))
        pd_rules = []
        for index, rule in enumerate(rules):
            recipient = rule.get("recipient") or {}
            kind = {"user": "user_reference", "schedule": "schedule_reference"}.get(str(recipient.get("type")))
            if kind is None:
                problems.append(("escalation_policy", esc, f"rule {index + 1}: a {recipient.get('type')} recipient "
                                                          "cannot be mapped"))
            # Opsgenie's delays count from the alert; PagerDuty's (what the steps read) from the previous rule.
            following = _og_delay(rules[index + 1]) if index + 1 < len(rules) else None
            repeat = esc.get("repeat") or {}
            gap = (following - _og_delay(rule)) if following is not None else int(repeat.get("waitInterval") or 0)
            pd_rules.append({"escalation_delay_in_minutes": gap,
                             "targets": [{"type": kind or "unmapped", "id": recipient.get("id")}]})
        repeat = esc.get("repeat") or {}
        out_policies.append({"id": esc.get("id"), "name": esc.get("name"), "description": esc.get("description"),
                             "first_delay_minutes": _og_delay(rules[0]) if rules else 0,
                             "num_loops": int(repeat.get("count") or 0), "escalation_rules": pd_rules})
    out_services = []
    for integration in integrations:
        if str(integration.get("type")) != "API":
            problems.append(("service", integration, f"an Opsgenie integration of type {integration.get('type')} "
                                                     "is not imported (only API integrations: their senders "
                                                     "speak the Alert API)"))
            continue
        out_services.append({"id": integration.get("id"), "name": integration.get("name"), "escalation_policy": None})
    return ({"users": out_users, "schedules": out_schedules, "escalation_policies": out_policies,
             "services": out_services}, problems)


def _og_delay(rule: dict[str, Any]) -> int:
    delay = rule.get("delay") or {}
    return int(delay.get("timeAmount") or 0) * OG_MINUTES.get(str(delay.get("timeUnit") or "minutes"), 1)


# --- mapping ---------------------------------------------------------------------------------------------

def _hhmm(seconds: int) -> str:
    seconds %= 86400
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _seconds_of_day(text: str) -> int:
    parts = [int(p) for p in text.split(":")]
    return parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0)


def restrictions_of(raw: list[dict[str, Any]]) -> tuple[list[RestrictionIn], list[str]]:
    """PagerDuty's restrictions as daily windows: a weekly one spanning days becomes one window per day."""
    out: list[RestrictionIn] = []
    problems: list[str] = []
    for r in raw:
        start = _seconds_of_day(str(r.get("start_time_of_day") or "00:00:00"))
        duration = int(r.get("duration_seconds") or 0)
        if duration <= 0 or duration > 7 * 86400:
            problems.append(f"a restriction of {duration} s cannot be mapped")
            continue
        if r.get("type") == "daily_restriction":
            if duration >= 86400:
                continue  # all day, every day: no restriction
            out.append(RestrictionIn(start=_hhmm(start), end=_hhmm(start + duration)))
            continue
        day = int(r.get("start_day_of_week") or 1) - 1  # PagerDuty: 1 = Monday
        if duration >= 7 * 86400:
            continue
        # Walk the span day by day: [start, midnight), whole days, [midnight, end).
        offset, left = start, duration
        while left > 0:
            span = min(left, 86400 - offset)
            out.append(RestrictionIn(days=[day % 7], start=_hhmm(offset), end=_hhmm(offset + span)))
            left -= span
            day, offset = day + 1, 0
    return out, problems


def _local_start(value: str, tz: ZoneInfo) -> datetime:
    at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return at.astimezone(tz).replace(tzinfo=None) if at.tzinfo else at


def _layer_number(layer: dict[str, Any], index: int, count: int) -> int:
    if isinstance(layer.get("priority"), int):
        return int(layer["priority"])
    match = re.search(r"(\d+)$", str(layer.get("name") or ""))
    # PagerDuty answers the highest layer first; "Layer N" names the priority when present.
    return int(match.group(1)) if match else count - index


# --- applying ------------------------------------------------------------------------------------------------

class Importer:
    def __init__(self, session: AsyncSession, principal: Principal, request: Request | None, public_url: str,
                 *, dry_run: bool, source: str = SOURCE) -> None:
        if principal.tenant_id is None:
            raise AppError("FORBIDDEN", "Imports go into a tenant: use a credential of one")
        self.session, self.principal, self.request = session, principal, request
        self.audit_ctx = AuditContext.of(request) if request is not None else None
        # Every query below is scoped by the session's tenant (kit/tenancy.py), none by hand: it must be
        # bound to the caller's (bound_tenant raises on an unbound session or a system scope).
        if bound_tenant(session) != principal.tenant_id:
            raise AppError("FORBIDDEN", "Imports go into the tenant of the credential used")
        self.tenant_id: uuid.UUID = principal.tenant_id
        self.public_url = public_url
        self.source = source
        self.report = Report(source, dry_run)
        self.users: dict[str, uuid.UUID] = {}  # PagerDuty user id -> member
        self.schedules: dict[str, uuid.UUID] = {}
        self.policies: dict[str, uuid.UUID] = {}

    def problem(self, type_: str, obj: dict[str, Any], why: str) -> None:
        self.report.problems.append(Problem(type_, str(obj.get("id")), str(obj.get("name") or obj.get("summary")
                                                                             or obj.get("email") or ""), why))

    async def _link(self, external_type: str, external_id: str) -> ImportLink | None:
        found = await self.session.execute(select(ImportLink).where(
            col(ImportLink.source) == self.source, col(ImportLink.external_type) == external_type,
            col(ImportLink.external_id) == external_id))
        return found.scalar_one_or_none()

    async def _remember(self, external_type: str, external_id: str, object_type: str, object_id: uuid.UUID) -> None:
        if await self._link(external_type, external_id) is None:
            self.session.add(ImportLink(tenant_id=self.tenant_id, source=self.source, external_type=external_type,
                                        external_id=external_id, object_type=object_type, object_id=object_id))

    async def users_step(self, users: list[dict[str, Any]]) -> None:
        rows = await self.session.execute(
            select(col(User.id), col(User.email)).join(Membership, col(Membership.user_id) == col(User.id)))
        members = {email.lower(): user_id for user_id, email in rows.all()}
        for u in users:
            email = str(u.get("email") or "").strip().lower()
            if not email:
                self.problem("user", u, "no e-mail address to match or invite")
                continue
            if email in members:
                self.users[str(u["id"])] = members[email]
                self.report.items.append(Item("user", str(u["id"]), email, "matched", str(members[email])))
                continue
            detail = "not a member: invited; re-run the import after they accept to put them in schedules"
            if not self.report.dry_run:
                try:
                    await create_invitation(self.session, self.request, self.principal, email,  # type: ignore[arg-type]
                                            Role.member)
                except AppError as exc:
                    if exc.code != "CONFLICT":
                        self.problem("user", u, f"could not be invited: {exc.message}")
                        continue
                    detail = "not a member: already invited; re-run the import after they accept"
            self.report.items.append(Item("user", str(u["id"]), email, "invited", None, detail))

    def _layers(self, raw: dict[str, Any], tz: ZoneInfo) -> list[LayerIn]:
        layers = list(raw.get("schedule_layers") or [])
        ordered = sorted(enumerate(layers), key=lambda p: _layer_number(p[1], p[0], len(layers)))
        out: list[LayerIn] = []
        for _, layer in ordered:
            if layer.get("end"):
                self.problem("schedule", raw, f"layer {layer.get('name')!r} has ended: not imported")
                continue
            seconds = int(layer.get("rotation_turn_length_seconds") or 0)
            if seconds <= 0 or seconds % 3600:
                self.problem("schedule", raw, f"layer {layer.get('name')!r}: a turn of {seconds} s is not whole "
                                              "hours: not imported")
                continue
            users: list[uuid.UUID] = []
            for entry in layer.get("users") or []:
                ref = (entry or {}).get("user") or {}
                if str(ref.get("id")) in self.users:
                    users.append(self.users[str(ref["id"])])
                else:
                    self.problem("schedule", raw, f"layer {layer.get('name')!r}: user {ref.get('id')} is not a "
                                                  "member yet: left out of the rotation")
            if not users:
                self.problem("schedule", raw, f"layer {layer.get('name')!r}: nobody left to rotate: not imported")
                continue
            restrictions, problems = restrictions_of(list(layer.get("restrictions") or []))
            for p in problems:
                self.problem("schedule", raw, f"layer {layer.get('name')!r}: {p}")
            hours = seconds // 3600
            out.append(LayerIn(name=str(layer.get("name") or "")[:200],
                               rotation="daily" if hours == 24 else "weekly" if hours == 168 else "custom",
                               shift_hours=None if hours in (24, 168) else hours,
                               start=_local_start(str(layer.get("rotation_virtual_start") or layer.get("start")), tz),
                               users=users, restrictions=restrictions))
        return out

    async def schedules_step(self, schedules: list[dict[str, Any]]) -> None:
        for raw in schedules:
            tz_name = str(raw.get("time_zone") or "UTC")
            if not valid_timezone(tz_name):
                self.problem("schedule", raw, f"unknown time zone {tz_name!r}")
                continue
            data = ScheduleIn(name=str(raw.get("name") or raw["id"])[:200],
                              description=(str(raw.get("description") or "")[:2000] or None), timezone=tz_name,
                              layers=self._layers(raw, ZoneInfo(tz_name)))
            link = await self._link("schedule", str(raw["id"]))
            existing = None
            if link is not None:
                existing = (await self.session.execute(
                    select(Schedule).where(col(Schedule.id) == link.object_id))).scalar_one_or_none()
            schedule = existing or Schedule(tenant_id=self.tenant_id, name=data.name)
            await oncall.apply_schedule(self.session, self.tenant_id, schedule, data)
            await self.session.flush()
            await self._remember("schedule", str(raw["id"]), "schedule", schedule.id)
            self.schedules[str(raw["id"])] = schedule.id
            self.report.items.append(Item("schedule", str(raw["id"]), data.name,
                                          "update" if existing else "create", str(schedule.id),
                                          f"{len(data.layers)} layer(s), {tz_name}"))
            await self._overrides(raw, schedule.id)

    async def _overrides(self, raw: dict[str, Any], schedule_id: uuid.UUID) -> None:
        """The schedule's overrides (someone covering a shift), each once: a re-run updates it."""
        for o in raw.get("overrides") or []:
            user_ref = str((o.get("user") or {}).get("id"))
            try:
                starts = datetime.fromisoformat(str(o.get("start")).replace("Z", "+00:00"))
                ends = datetime.fromisoformat(str(o.get("end")).replace("Z", "+00:00"))
            except ValueError:
                self.problem("override", o, "start or end is not an ISO 8601 date-time")
                continue
            if starts.tzinfo is None or ends.tzinfo is None or ends <= starts:
                self.problem("override", o, "start and end must carry an offset, end after start")
                continue
            if user_ref not in self.users:
                self.problem("override", o, f"user {user_ref} is not a member yet: not imported")
                continue
            link = await self._link("override", str(o.get("id")))
            existing = None
            if link is not None:
                existing = (await self.session.execute(select(ScheduleOverride).where(
                    col(ScheduleOverride.id) == link.object_id))).scalar_one_or_none()
            if existing is not None:
                existing.user_id, existing.starts_at, existing.ends_at = self.users[user_ref], starts, ends
                override = existing
            else:
                override = await oncall.create_override(
                    self.session, self.tenant_id, schedule_id,
                    OverrideIn(user_id=self.users[user_ref], starts_at=starts, ends_at=ends),
                    audit_ctx=self.audit_ctx, principal=self.principal)
                await self._remember("override", str(o.get("id")), "schedule_override", override.id)
            self.report.items.append(Item("override", str(o.get("id")), f"{starts.isoformat()} – {ends.isoformat()}",
                                          "update" if existing else "create", str(override.id)))

    async def policies_step(self, policies: list[dict[str, Any]]) -> None:
        for raw in policies:
            rules = list(raw.get("escalation_rules") or [])
            steps: list[StepIn] = []
            wait = int(raw.get("first_delay_minutes") or 0)  # before the first step (Opsgenie's first rule)
            previous_delay = 0
            for index, rule in enumerate(rules):
                targets: list[Target] = []
                for t in rule.get("targets") or []:
                    kind, ref = str(t.get("type") or ""), str(t.get("id"))
                    if kind.startswith("user") and ref in self.users:
                        targets.append(Target(type="user", id=self.users[ref]))
                    elif kind.startswith("schedule") and ref in self.schedules:
                        targets.append(Target(type="schedule", id=self.schedules[ref]))
                    else:
                        self.problem("escalation_policy", raw, f"rule {index + 1}: target {kind} {ref} was not "
                                                               "imported (not a member or not mapped): left out")
                wait += previous_delay if index else 0
                if targets:
                    steps.append(StepIn(delay_minutes=min(wait, 10_080), targets=targets))
                    wait = 0
                else:
                    self.problem("escalation_policy", raw, f"rule {index + 1}: no target left: rule skipped")
                previous_delay = int(rule.get("escalation_delay_in_minutes") or 0)
            if not steps:
                self.problem("escalation_policy", raw, "no rule with a target: not imported")
                continue
            data = PolicyIn(name=str(raw.get("name") or raw["id"])[:200],
                            description=(str(raw.get("description") or "")[:2000] or None), steps=steps,
                            repeat=min(int(raw.get("num_loops") or 0), 9),
                            repeat_delay_minutes=max(1, previous_delay or 30))
            link = await self._link("escalation_policy", str(raw["id"]))
            existing = None
            if link is not None:
                existing = (await self.session.execute(select(EscalationPolicy).where(
                    col(EscalationPolicy.id) == link.object_id))).scalar_one_or_none()
            policy = existing or EscalationPolicy(tenant_id=self.tenant_id, name=data.name)
            await oncall.apply_policy(self.session, self.tenant_id, policy, data)
            await self.session.flush()
            await self._remember("escalation_policy", str(raw["id"]), "escalation_policy", policy.id)
            self.policies[str(raw["id"])] = policy.id
            self.report.items.append(Item("escalation_policy", str(raw["id"]), data.name,
                                          "update" if existing else "create", str(policy.id),
                                          f"{len(steps)} step(s), repeat {data.repeat}"))

    async def services_step(self, services: list[dict[str, Any]]) -> None:
        for raw in services:
            name = str(raw.get("name") or raw["id"])[:180]
            policy_ref = str(((raw.get("escalation_policy") or {}).get("id")) or "")
            policy_id = self.policies.get(policy_ref)
            if policy_id is None and policy_ref:
                self.problem("service", raw, f"its escalation policy {policy_ref} was not imported: "
                                             "its integration routes by the default route")
            link = await self._link("service", str(raw["id"]))
            integration = None
            if link is not None:
                integration = (await self.session.execute(select(Integration).where(
                    col(Integration.id) == link.object_id))).scalar_one_or_none()
            key = None
            if integration is None:
                made = await service.create(self.session, self.principal, self.audit_ctx,
                                            IntegrationCreate(name=f"{LABELS[self.source]}: {name}",
                                                              kind=raw.get("kind") or (
                                                                  "opsgenie" if self.source == "opsgenie"
                                                                  else "pagerduty"),
                                                              service=name), self.public_url)
                integration_id, key = made.id, made.key
            else:
                integration_id = integration.id
            await self._remember("service", str(raw["id"]), "integration", integration_id)
            if policy_id is not None:
                await self._route(str(raw["id"]), name, integration_id, policy_id)
            self.report.items.append(Item(
                "service", str(raw["id"]), name, "update" if integration else "create", str(integration_id),
                f"an integration of kind {raw.get('kind') or self.source}" + (
                    ": point the sender at the new URL / key"
                                                      if key else " (its key is unchanged)"),
                None if self.report.dry_run else key))

    async def _route(self, service_id: str, name: str, integration_id: uuid.UUID, policy_id: uuid.UUID) -> None:
        link = await self._link("service_rule", service_id)
        rule = None
        if link is not None:
            rule = (await self.session.execute(select(RoutingRule).where(
                col(RoutingRule.id) == link.object_id))).scalar_one_or_none()
        if rule is None:
            last = (await self.session.execute(select(func.max(RoutingRule.position)))).scalar_one_or_none()
            rule = RoutingRule(tenant_id=self.tenant_id, name=name, position=int(last or 0) + 1)
        data = RoutingRuleIn(name=f"{LABELS[self.source]} service {name}"[:200], position=rule.position, source_type="integration",
                             source_ids=[integration_id], escalation_policy_id=policy_id)
        await oncall.apply_rule(self.session, rule, data)
        await self.session.flush()
        await self._remember("service_rule", service_id, "routing_rule", rule.id)


async def read_pagerduty(url: str, token: str) -> dict[str, list[dict[str, Any]]]:
    reader = PagerDutyReader(url, token)
    users = await reader.collection("/users", "users")
    summaries = await reader.collection("/schedules", "schedules")
    schedules = [(await reader.get(f"/schedules/{s['id']}")).get("schedule") or s for s in summaries if s.get("id")]
    # Overrides from now on (PagerDuty answers those overlapping [since, until]); past ones change nothing.
    now = datetime.now(UTC)
    window = {"since": now.isoformat(), "until": (now + OVERRIDES_AHEAD).isoformat()}
    for schedule in schedules:
        if isinstance(schedule, dict) and schedule.get("id"):
            found = (await reader.get(f"/schedules/{schedule['id']}/overrides", window)).get("overrides")
            schedule["overrides"] = [o for o in found or [] if isinstance(o, dict)]
    policies = await reader.collection("/escalation_policies", "escalation_policies")
    services = await reader.collection("/services", "services")
    return {"users": users, "schedules": [s for s in schedules if isinstance(s, dict)],
            "escalation_policies": policies, "services": services}


async def read_opsgenie(url: str, token: str) -> tuple[dict[str, list[dict[str, Any]]],
                                                       list[tuple[str, dict[str, Any], str]]]:
    reader = OpsgenieReader(url, token)
    users = await reader.collection("/v2/users")
    schedules = (await reader.get("/v2/schedules", {"expand": "rotation"})).get("data") or []
    escalations = (await reader.get("/v2/escalations")).get("data") or []
    integrations = (await reader.get("/v2/integrations")).get("data") or []
    return opsgenie_as_pagerduty(users, [s for s in schedules if isinstance(s, dict)],
                                 [e for e in escalations if isinstance(e, dict)],
                                 [i for i in integrations if isinstance(i, dict)])


async def read_grafana_oncall(url: str, token: str) -> tuple[dict[str, list[dict[str, Any]]],
                                                             list[tuple[str, dict[str, Any], str]]]:
    reader = GrafanaOnCallReader(url, token)
    users = await reader.collection("/api/v1/users/")
    schedules = await reader.collection("/api/v1/schedules/")
    shifts = await reader.collection("/api/v1/on_call_shifts/")
    chains = await reader.collection("/api/v1/escalation_chains/")
    steps = await reader.collection("/api/v1/escalation_policies/")
    integrations = await reader.collection("/api/v1/integrations/")
    return grafana_oncall_as_pagerduty(users, schedules, shifts, chains, steps, integrations)


async def run_import(session: AsyncSession, principal: Principal, request: Request | None, public_url: str, *,
                     url: str, token: str, dry_run: bool, source_name: str = SOURCE) -> Report:
    """Read everything first (a source that fails changes nothing), then apply it in order."""
    problems: list[tuple[str, dict[str, Any], str]] = []
    try:
        if source_name == "opsgenie":
            source, problems = await read_opsgenie(url, token)
        elif source_name == "grafana-oncall":
            source, problems = await read_grafana_oncall(url, token)
        else:
            source = await read_pagerduty(url, token)
    except ImportFailed as exc:
        raise AppError("BAD_REQUEST", f"Could not read {LABELS[source_name]}: {exc}",
                       details={"source": source_name}) from None
    importer = Importer(session, principal, request, public_url, dry_run=dry_run, source=source_name)
    for type_, obj, why in problems:
        importer.problem(type_, obj, why)
    savepoint = await session.begin_nested()
    await importer.users_step(source["users"])
    await importer.schedules_step(source["schedules"])
    await importer.policies_step(source["escalation_policies"])
    await importer.services_step(source["services"])
    if dry_run:
        await savepoint.rollback()
    else:
        await savepoint.commit()
        audit.record(session, "integration.imported", request=request, principal=principal,
                     target_type="tenant", target_id=principal.tenant_id,
                     details={"source": source_name, "summary": importer.report.summary(),
                              "problems": len(importer.report.problems)})
    return importer.report
