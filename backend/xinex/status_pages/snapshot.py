"""The public read model of a status page: what its JSON, HTML, feeds, badges and SSE show.

A snapshot is built from the database (page, components and the status of what each is bound to,
open incidents, maintenance) and cached per page; every CACHE_TTL_S one query checks its sources'
states and it is rebuilt only when they changed, after an admin change, or once REBUILD_EVERY_S old; the 90 daily bars come from the
time-series store (the same check results and computation as /analytics/uptime) and are cached for
BARS_TTL_S, refreshed in the background while the old ones are served. Nothing on a monitor's or
heartbeat's write path touches this module: a status change is seen by the next check, at most
CACHE_TTL_S later in every process (docs/status-pages.md, "Caching").
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.analytics import service as analytics
from xinex.analytics import uptime
from xinex.kit.db import Database
from xinex.kit.errors import AppError
from xinex.kit.etag import representation_tag
from xinex.kit.types import to_rfc3339, utcnow
from xinex.maintenance import service as maintenance
from xinex.maintenance.schedule import merge as merge_intervals
from xinex.models.status_pages import (
    StatusPage,
    StatusPageComponent,
    StatusPageIncident,
    StatusPageIncidentUpdate,
)
from xinex.status_pages import repository
from xinex.timeseries.store import TimeSeriesError

log = logging.getLogger("xinex.status_pages")

# A snapshot is fresh for this long from the moment its build began reading (not from when it finished): a
# status change committed just after a build read the database is on the page within this plus one build.
CACHE_TTL_S = 0.3
# A snapshot whose sources' statuses are unchanged is kept without a rebuild (one small query per CACHE_TTL_S
# instead of the page's whole read and serialisation) for at most this long: the bound on what that query does
# not see - time (maintenance windows starting, new bars, the day turning) and an admin change in another process.
REBUILD_EVERY_S = 1.0
MISSING_TTL_S = 2.0  # an unknown slug is asked again after this
BARS_TTL_S = 60.0
DAYS = 90
UPCOMING = timedelta(days=14)
HOURS = 24  # response times: hourly over the last day
RESPONSE_DAYS = 7  # and daily over the last week

# Worst last: the page and a group show the worst status of their components.
SEVERITY = {"operational": 0, "maintenance": 1, "degraded": 2, "partial_outage": 3, "major_outage": 4}
DESCRIPTIONS = {"operational": "All systems operational", "maintenance": "Maintenance in progress",
                "degraded": "Degraded performance", "partial_outage": "Partial outage",
                "major_outage": "Major outage"}
LABELS = {"operational": "Operational", "maintenance": "Under maintenance", "degraded": "Degraded performance",
          "partial_outage": "Partial outage", "major_outage": "Major outage", "no_data": "No data"}
# What each source's own status means on a page.
SOURCE_STATUS = {
    "monitor": {"up": "operational", "pending": "operational", "degraded": "degraded", "down": "major_outage",
                "paused": "maintenance"},
    "heartbeat": {"up": "operational", "new": "operational", "late": "degraded", "down": "major_outage",
                  "paused": "maintenance"},
    "ai_heartbeat": {"ok": "operational", "new": "operational", "breached": "degraded", "late": "degraded",
                     "down": "major_outage"},
}


def worst(statuses: list[str]) -> str:
    return max(statuses, key=lambda s: SEVERITY[s], default="operational")


def derive(component: StatusPageComponent, source_status: str | None, in_maintenance: bool,
           incident_impact: str | None) -> str:
    """The status a component shows: its override if set; else the worst of what its source says
    (maintenance when a window covers it) and the impact of the page's open incidents on it."""
    if component.status_override:
        return component.status_override
    found = ["operational"]
    if component.source_type != "manual" and source_status is not None:
        found.append(SOURCE_STATUS[component.source_type].get(source_status, "operational"))
    if in_maintenance and SEVERITY[worst(found)] < SEVERITY["degraded"]:
        found = ["maintenance"]
    if incident_impact:
        found.append(incident_impact)
    return worst(found)


@dataclass
class Entry:
    """One cached page: its access rules and its public representation."""

    page_id: uuid.UUID
    tenant_id: uuid.UUID
    slug: str
    visibility: str
    password_hash: str | None
    data: dict[str, Any]
    body: bytes
    etag: str
    built_at: float = field(default_factory=time.monotonic)
    gzip_body: bytes = b""  # `body` compressed once, for clients that accept gzip (browsers, CDNs)
    # The rendered page (and its gzip copy) per address it is read at (/status/{slug}, a custom domain),
    # made once per snapshot by the first HTML reader.
    html: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)
    # What a cheap freshness check compares: the components (for their sources) and their sources' states.
    components: list[StatusPageComponent] = field(default_factory=list)
    source_states: dict[uuid.UUID, tuple[str, list[str]]] = field(default_factory=dict)
    read_at: float = 0.0  # when the build that made it began reading the database

    @property
    def html_etag(self) -> str:
        """The HTML page's own tag: a cache must never answer a JSON request with the HTML or back."""
        return 'W/"h' + self.etag.removeprefix('W/"')


@dataclass
class _Bars:
    days: dict[str, list[dict[str, Any]]]  # component key -> days
    built_at: float
    response: dict[str, dict[str, Any]] = field(default_factory=dict)  # component key -> response times
    shape: tuple[Any, ...] = ()  # what they were built for (snapshot._shape)
    refreshing: bool = False
    days_json: dict[str, str] = field(default_factory=dict)  # the same, serialized once
    tag: str = ""  # fingerprint of days_json

    def __post_init__(self) -> None:
        self.days_json = {k: json.dumps(v, separators=(",", ":")) for k, v in self.days.items()}
        self.tag = representation_tag("".join(f"{k}{v}" for k, v in sorted(self.days_json.items()))
                                      + json.dumps(self.response, sort_keys=True))


NO_BARS = _Bars({}, 0.0)
# A NUL never reaches a stored text (every input refuses it), so no user text serializes like this.
_PLACEHOLDER = re.compile(r'"\\u0000days:([A-Za-z0-9]*)"')


_CACHE: dict[tuple[int, str], tuple[float, Entry | None]] = {}
_INFLIGHT: dict[tuple[int, str], tuple[int, asyncio.Future[Entry | None]]] = {}
_GENERATION: dict[tuple[int, str], int] = {}
_BARS: dict[tuple[int, uuid.UUID], _Bars] = {}
_TASKS: set[asyncio.Task[None]] = set()


def invalidate(db: Database, slug: str) -> None:
    """Forget this process's copy of a page (admin changes call it after commit). A build that began
    before this call is neither cached nor shared with later readers: they read what was committed."""
    key = (id(db), slug)
    _GENERATION[key] = _GENERATION.get(key, 0) + 1
    _CACHE.pop(key, None)


async def get(db: Database, slug: str) -> Entry | None:
    """The page's current snapshot (None: no such page). Built at most once at a time per page; once a
    snapshot is older than CACHE_TTL_S it is still served while one check (a rebuild if its sources changed
or it is REBUILD_EVERY_S old) runs in the background, so
    readers never queue behind the database (after an admin change, invalidate() makes them wait for it)."""
    key = (id(db), slug)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    future = _shared_build(db, slug, key, cached[1] if cached is not None else None)
    if cached is not None:
        return cached[1]
    return await asyncio.shield(future)


def _shared_build(db: Database, slug: str, key: tuple[int, str],
                  previous: Entry | None = None) -> asyncio.Future[Entry | None]:
    generation = _GENERATION.get(key, 0)
    pending = _INFLIGHT.get(key)
    if pending is not None and pending[0] == generation:
        return pending[1]
    future: asyncio.Future[Entry | None] = asyncio.get_running_loop().create_future()
    _INFLIGHT[key] = (generation, future)

    async def run() -> None:
        started = time.monotonic()
        try:
            entry = await _unchanged(db, previous, started)
            if entry is None:
                entry = await build(db, slug)
                if entry is not None:
                    entry.read_at = started
        except Exception as exc:  # noqa: BLE001 - waiters get it; a stale copy keeps being served meanwhile
            log.warning("status page snapshot not rebuilt (%s)", type(exc).__name__)
            future.set_exception(exc)
            future.exception()  # retrieved here: a background rebuild nobody waits for is not an error to log twice
        else:
            future.set_result(entry)
            if _GENERATION.get(key, 0) == generation:
                _CACHE[key] = (started + CACHE_TTL_S if entry else time.monotonic() + MISSING_TTL_S, entry)
        finally:
            if _INFLIGHT.get(key, (None, None))[1] is future:
                del _INFLIGHT[key]

    task = asyncio.get_running_loop().create_task(run())
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)
    return future


async def _unchanged(db: Database, previous: Entry | None, now: float) -> Entry | None:
    """The previous snapshot when it is younger than REBUILD_EVERY_S and none of its sources changed state."""
    if previous is None or now - previous.read_at >= REBUILD_EVERY_S:
        return None
    async with db.session(tenant_id=previous.tenant_id) as session:
        states = await repository.source_states(session, previous.components)
    return previous if states == previous.source_states else None


def _impacts(incidents: list[StatusPageIncident]) -> dict[str, str]:
    """component id -> worst impact among open incidents."""
    out: dict[str, str] = {}
    for inc in incidents:
        for a in inc.affected or []:
            cid = str(a.get("component_id"))
            out[cid] = worst([out.get(cid, "operational"), a.get("impact", "major_outage")])
    return {k: v for k, v in out.items() if v != "operational"}


def public_incident(inc: StatusPageIncident, updates: list[StatusPageIncidentUpdate],
                    names: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """An incident as the public sees it: component keys and names, never ids."""
    return {
        "key": inc.key, "title": inc.title, "status": inc.status, "impact": inc.impact,
        "started_at": to_rfc3339(inc.started_at),
        "resolved_at": to_rfc3339(inc.resolved_at) if inc.resolved_at else None,
        "components": [{"key": names[str(a["component_id"])][0], "name": names[str(a["component_id"])][1],
                        "impact": a.get("impact", "major_outage")}
                       for a in inc.affected or [] if str(a.get("component_id")) in names],
        "updates": [{"status": u.status, "message": u.body, "at": to_rfc3339(u.at)} for u in updates],
    }


async def build(db: Database, slug: str) -> Entry | None:
    now = utcnow()
    async with db.session() as session:
        page = await repository.page_by_slug(session, slug)
        if page is None:
            return None
        groups, _ = await repository.groups(session, page.id, count=False)
        comps, _ = await repository.components(session, page.id, count=False)
        states = await repository.source_states(session, comps)
        open_incidents, _ = await repository.incidents(session, page.id, resolved=False, limit=50, count=False)
        past, _ = await repository.incidents(session, page.id, resolved=True, limit=20, count=False,
                                             resolved_since=now - timedelta(days=page.past_incident_days))
        updates = await repository.updates_of(session, [i.id for i in [*open_incidents, *past]])
        windows = await repository.maintenance_windows(session) if comps else []
        bars = await _bars(db, page, comps) if page.show_uptime_bars or page.show_response_times else NO_BARS
    impacts = _impacts(open_incidents)
    names = {str(c.id): (c.key, c.name) for c in comps}
    covered: dict[uuid.UUID, list[str]] = {}  # window id -> names of the page's components it covers
    active_for: set[uuid.UUID] = set()  # components in a window now
    upcoming: list[dict[str, Any]] = []
    for w, sched in windows:
        out = maintenance.to_out(w, sched, now)
        occ = out.current_or_next
        if occ is None or occ.starts_at > now + UPCOMING:
            continue
        for c in comps:
            if c.source_type == "manual" or c.source_id is None:
                continue
            tags = states.get(c.source_id, ("", []))[1]
            if maintenance.matches(w, c.source_type, c.source_id, tags):
                covered.setdefault(w.id, []).append(c.name)
                if out.active:
                    active_for.add(c.id)
        if w.id in covered and page.show_maintenance:
            upcoming.append({"name": w.name, "description": w.description, "starts_at": to_rfc3339(occ.starts_at),
                             "ends_at": to_rfc3339(occ.ends_at), "active": out.active, "components": covered[w.id]})
    upcoming.sort(key=lambda m: m["starts_at"])
    by_group: dict[uuid.UUID | None, list[dict[str, Any]]] = {}
    for c in comps:
        source = states.get(c.source_id) if c.source_id else None
        status = derive(c, source[0] if source else None, c.id in active_for, impacts.get(str(c.id)))
        days = bars.days.get(c.key, []) if page.show_uptime_bars else []
        known = [d for d in days if d["uptime_pct"] is not None]
        by_group.setdefault(c.group_id, []).append({
            "key": c.key, "name": c.name, "description": c.description, "status": status,
            "uptime_90d_pct": round(sum(d["uptime_pct"] for d in known) / len(known), 3) if known else None,
            "days": days,
            "response_times": bars.response.get(c.key) if page.show_response_times else None,
        })
    out_groups: list[dict[str, Any]] = []
    if by_group.get(None):
        out_groups.append({"name": None, "status": worst([c["status"] for c in by_group[None]]),
                           "components": by_group[None]})
    for g in groups:
        members = by_group.get(g.id, [])
        if members:
            out_groups.append({"name": g.name, "status": worst([c["status"] for c in members]), "components": members})
    overall = worst([c["status"] for g in out_groups for c in g["components"]])
    data: dict[str, Any] = {
        "page": {"name": page.name, "slug": page.slug, "description": page.description, "logo_url": page.logo_url,
                 "brand_color": page.brand_color, "time_zone": page.time_zone},
        "status": {"status": overall, "description": DESCRIPTIONS[overall]},
        "groups": out_groups,
        "incidents": [public_incident(i, updates[i.id], names) for i in open_incidents],
        "past_incidents": [public_incident(i, updates[i.id], names) for i in past],
        "maintenance": upcoming,
        "generated_at": to_rfc3339(now),
    }
    # The bars are most of the answer: their JSON is made once per bars build and spliced in.
    shallow = {**data, "groups": [{**g, "components": [{**c, "days": f"\x00days:{c['key'] if c['days'] else ''}"}
                                                       for c in g["components"]]} for g in out_groups]}
    del shallow["generated_at"]
    stable = json.dumps(shallow, separators=(",", ":"))
    spliced = _PLACEHOLDER.sub(lambda m: bars.days_json.get(m.group(1), "[]"), stable)
    body = (spliced[:-1] + f',"generated_at":"{data["generated_at"]}"}}').encode()
    return Entry(page_id=page.id, tenant_id=page.tenant_id, slug=page.slug, visibility=page.visibility,
                 password_hash=page.password_hash, data=data, body=body, etag=representation_tag(stable + bars.tag),
                 gzip_body=gzip.compress(body, compresslevel=1, mtime=0), components=comps, source_states=states)


# --- the 90 daily bars ------------------------------------------------------------------------------


def day_status(pct: float | None, worst_impact: str = "operational") -> str:
    if pct is None:
        return "no_data"
    if pct < 95.0:
        return "major_outage"
    if pct < 99.0 or worst_impact in ("partial_outage", "major_outage"):
        return "partial_outage"
    if pct < 99.9 or worst_impact == "degraded":
        return "degraded"
    return "operational"


def day_periods(now: datetime, tz: str = "UTC") -> list[tuple[date, datetime, datetime]]:
    """The DAYS calendar days of the page's time zone ending today: (local date, start, end), in UTC."""
    return uptime.local_days(now, tz, DAYS)


async def _bars(db: Database, page: StatusPage, comps: list[StatusPageComponent]) -> _Bars:
    """Bars of the page's components: cached, refreshed in the background once older than BARS_TTL_S."""
    key = (id(db), page.id)
    cached = _BARS.get(key)
    shape = _shape(page, comps)
    if cached is not None and cached.shape == shape:
        if time.monotonic() - cached.built_at > BARS_TTL_S and not cached.refreshing:
            cached.refreshing = True
            task = asyncio.get_running_loop().create_task(_refresh_bars(db, page.id, page.tenant_id))
            _TASKS.add(task)
            task.add_done_callback(_TASKS.discard)
        return cached
    bars = await compute_bars(db, page.tenant_id, page.id, utcnow())
    _BARS[key] = bars
    return bars


def _shape(page: StatusPage, comps: list[StatusPageComponent]) -> tuple[Any, ...]:
    """What the bars depend on besides time: a change of it rebuilds them at once."""
    return (page.time_zone, page.show_response_times,
            tuple(sorted((c.key, c.source_type, str(c.source_id), c.created_at.isoformat()) for c in comps)))


async def _refresh_bars(db: Database, page_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
    try:
        _BARS[(id(db), page_id)] = await compute_bars(db, tenant_id, page_id, utcnow())
    except Exception:  # noqa: BLE001 - the old bars stay; the next request tries again
        log.warning("status page bars not refreshed", exc_info=True)
        cached = _BARS.get((id(db), page_id))
        if cached is not None:
            cached.refreshing = False


def _incident_uptime(downs: list[tuple[datetime, datetime]], known_from: datetime, p_start: datetime,
                     p_end: datetime, now: datetime) -> float | None:
    """A manual component's uptime % of one period: the time its incidents put it in major outage is down."""
    lo, hi = max(p_start, known_from), min(p_end, now)
    if hi <= lo:
        return None
    merged = merge_intervals(sorted((max(s, lo), min(e, hi)) for s, e in downs if s < hi and e > lo))
    down = sum((e - s).total_seconds() for s, e in merged)
    total = (hi - lo).total_seconds()
    return round(100.0 * (total - min(down, total)) / total, 4)


async def _heartbeat_uptime(session: AsyncSession, comps: list[StatusPageComponent],
                            periods: list[tuple[datetime, datetime]],
                            now: datetime) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """heartbeat id -> the figures of uptime.compute per period (as /analytics/uptime computes a monitor's),
    over the heartbeat's own state history — the transitions its state machine recorded, not only its
    current state —, downtime inside its maintenance windows counted as up."""
    start, end = periods[0][0], periods[-1][1]
    ids = list({c.source_id for c in comps if c.source_type == "heartbeat" and c.source_id is not None})
    sources = await repository.heartbeat_sources(session, ids)
    history = await repository.heartbeat_history(session, list(sources), start, min(end, now))
    out: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for hb_id, hb in sources.items():
        known_from = max(hb.created_at, start)
        changes = [(max(at, known_from), state) for at, state in history[hb_id]]
        if not changes or changes[0][0] > known_from:
            changes.insert(0, (known_from, "up"))  # new or up until its first recorded change
        if hb.status == "down" and hb.down_at is not None and changes[-1][1] == "down":
            # The sweeper records the change when it runs; the heartbeat was down from its deadline on.
            at = max(min(hb.down_at, changes[-1][0]), changes[-2][0] if len(changes) > 1 else known_from)
            changes[-1] = (at, "down")
        elif hb.status == "down" and changes[-1][1] != "down":
            changes.append((max(min(hb.down_at or now, now), changes[-1][0]), "down"))
        elif hb.status != "down" and changes[-1][1] == "down":
            # Left down without a recorded change (paused, edited): down until the row last changed.
            changes.append((max(min(hb.updated_at, now), changes[-1][0]), "up"))
        windows = await maintenance.maintenance_intervals(session, source_type="heartbeat", source_id=hb_id,
                                                          tags=list(hb.tags or []), start=start, end=end)
        figures = uptime.compute(changes, windows, periods, max(start, min(end, now)))
        for f, (p_start, p_end) in zip(figures, periods, strict=True):
            f["late"] = any(state == "late" and at < p_end and (nxt > p_start)
                            for (at, state), nxt in zip(changes, [c[0] for c in changes[1:]] + [now], strict=True))
        out[hb_id] = figures
    return out


async def _response_times(session: AsyncSession, monitor_id: uuid.UUID, now: datetime,
                          tz: str) -> dict[str, Any] | None:
    """The last 24 hours (hourly) and the last 7 days of the page's zone (daily): p50/p95 of successful
    checks, from the same check results as /analytics/response-time. None: the store cannot answer."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    start = hour - timedelta(hours=HOURS - 1)
    days = uptime.local_days(now, tz, RESPONSE_DAYS)
    try:
        hourly = await analytics.response_time_report(session, monitor_id, start, hour + timedelta(hours=1), "1h",
                                                      3600)
        daily = await analytics.response_time_days(session, monitor_id, days[0][1], days[-1][2], tz)
    except (AppError, TimeSeriesError) as exc:
        log.warning("status page response times: the time-series store cannot answer (%s)", type(exc).__name__)
        return None
    by_hour = {b["bucket_start"]: b for b in hourly["buckets"]}
    hours = []
    for i in range(HOURS):
        at = to_rfc3339(start + timedelta(hours=i))
        b = by_hour.get(at)
        hours.append({"start": at, "p50_ms": _ms(b["p50_ms"]) if b else None, "p95_ms": _ms(b["p95_ms"]) if b else None,
                      "checks": b["count"] if b else 0})
    out_days = []
    for d, _s, _e in days:
        q = daily.get(d)
        out_days.append({"date": d.isoformat(), "p50_ms": _ms(q[0]) if q else None,
                         "p95_ms": _ms(q[1]) if q else None, "checks": q[2] if q else 0})
    return {"hourly": hours, "daily": out_days}


def _ms(value: float | None) -> float | None:
    return None if value is None or value != value else round(float(value), 1)  # NaN: no checks


async def compute_bars(db: Database, tenant_id: uuid.UUID, page_id: uuid.UUID, now: datetime) -> _Bars:
    """Per component key, DAYS days of the page's time zone ending today. Monitor components: the daily
    figures of /analytics/uptime over those days (analytics.service.uptime_report: time-weighted check
    results, maintenance counted as up). Heartbeat components: the same computation over the heartbeat's
    own state history (down counts as down; late colours the day degraded). Every component: the time the
    page's incidents put it in major outage counts as down, their worst impact colours the day. A day
    before the source (or a manual component) existed, or with no check result, is no data (null), never
    100 %. With `show_response_times`, monitor components also get their response times."""
    built_at = time.monotonic()
    out: dict[str, list[dict[str, Any]]] = {}
    response: dict[str, dict[str, Any]] = {}
    async with db.session(tenant_id=tenant_id) as session:
        page = await session.get(StatusPage, page_id)
        if page is None:
            return _Bars({}, built_at)
        days = day_periods(now, page.time_zone)
        periods = [(s, e) for _d, s, e in days]
        start, end = periods[0][0], periods[-1][1]
        comps, _ = await repository.components(session, page_id)
        states = await repository.source_states(session, comps)
        incidents = await repository.incidents_overlapping(session, page_id, start)
        heartbeats = await _heartbeat_uptime(session, comps, periods, now)
        monitor_pcts: dict[uuid.UUID, list[float | None]] = {}
        for c in comps:
            if c.source_type != "monitor" or c.source_id not in states or c.source_id is None:
                continue
            if c.source_id not in monitor_pcts:
                try:
                    report = await analytics.uptime_report(session, c.source_id, start, end, "day", periods=periods)
                    monitor_pcts[c.source_id] = [p["uptime_pct"] for p in report["periods"]]
                except (AppError, TimeSeriesError) as exc:  # the store cannot answer: unknown days, not up
                    log.warning("status page bars: no uptime from the time-series store (%s)", type(exc).__name__)
                    monitor_pcts[c.source_id] = [None] * len(periods)
            if page.show_response_times:
                rt = await _response_times(session, c.source_id, now, page.time_zone)
                if rt is not None:
                    response[c.key] = rt
    for c in comps:
        spans = [(max(i.started_at, start), min(i.resolved_at or now, now), a.get("impact", "major_outage"))
                 for i in incidents for a in i.affected or [] if str(a.get("component_id")) == str(c.id)]
        downs = [(s, e) for s, e, impact in spans if impact == "major_outage"]
        figures = heartbeats.get(c.source_id) if c.source_type == "heartbeat" and c.source_id else None
        rows = []
        for i, (day, p_start, p_end) in enumerate(days):
            impacts = [impact for s, e, impact in spans if s < p_end and e > p_start]
            if c.source_type == "monitor" and c.source_id in monitor_pcts:
                pct = monitor_pcts[c.source_id][i]
            elif figures is not None:
                pct = figures[i]["uptime_pct"]
                if figures[i]["late"]:
                    impacts.append("degraded")
            else:  # manual, or a source that was deleted: the page's own incidents
                pct = _incident_uptime(downs, c.created_at, p_start, p_end, now)
            rows.append({"date": day.isoformat(), "status": day_status(pct, worst(impacts)), "uptime_pct": pct})
        out[c.key] = rows
    return _Bars(out, built_at, response=response, shape=_shape(page, comps))


async def watch(db: Database, slug: str, stop: asyncio.Event | None = None,
                interval: float = CACHE_TTL_S) -> Any:
    """Yield (event, data) for each change of the page: component status, incidents, overall status."""
    previous = await get(db, slug)
    while previous is not None and not (stop and stop.is_set()):
        if stop is None:
            await asyncio.sleep(interval)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
        current = await get(db, slug)
        if current is None:
            return
        if current.etag != previous.etag:
            for event in diff(previous.data, current.data):
                yield event
        previous = current


def _components(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["key"]: c for g in data["groups"] for c in g["components"]}


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    before, after = _components(old), _components(new)
    for key, c in after.items():
        if key not in before or before[key]["status"] != c["status"]:
            events.append(("component.status_changed", {"key": key, "name": c["name"], "status": c["status"],
                                                        "previous": before.get(key, {}).get("status")}))
    old_inc = {i["key"]: i for i in old["incidents"]}
    new_inc = {i["key"]: i for i in new["incidents"]}
    for key, inc in new_inc.items():
        if key not in old_inc:
            events.append(("incident.created", inc))
        elif old_inc[key] != inc:
            events.append(("incident.updated", inc))
    past = {i["key"]: i for i in new.get("past_incidents", [])}
    for key, inc in old_inc.items():
        if key not in new_inc:
            events.append(("incident.resolved", past.get(key, {**inc, "status": "resolved"})))
    if old["status"] != new["status"]:
        events.append(("status.changed", new["status"]))
    return events
