"""The incident engine: outbox state change → alert → dedup → incident → route → page.

PagerDuty Events semantics: a trigger with an open incident for its dedup key appends to it
(never re-pages; an acknowledged incident stays quiet), a recovery resolves it when the route
allows, an acknowledgement (`*.acknowledged`: PagerDuty- and Opsgenie-compatible senders)
acknowledges it and stops its escalation, and a trigger after resolve opens a new incident. Each event is handled in one
tenant-bound transaction that also marks it processed — a tenant's claimed events share one
(`handle` applies them in order, appending a run of triggers to an open incident at once); the
unique `alerts.outbox_event_id` and `incidents.open_key` make a replayed or racing event a no-op
instead of a duplicate. `handle` is the outbox's subscriber (incidents/mount.py declares it); the
outbox consumer loop runs it, one copy in `xinex run` and one in each `xinex worker`, and the
outbox claim hands them the events of one dedup key in order, never split between two consumers
at once (events/outbox.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.events.outbox import apply_one, apply_pending
from xinex.incidents import correlation, timeline
from xinex.incidents.correlation import SEVERITY_RANK
from xinex.incidents.service import acknowledge, resolve
from xinex.incidents.silences import is_suppressed
from xinex.kit.db import Database
from xinex.kit.types import to_rfc3339, utcnow
from xinex.models.incidents import Alert, Incident, IncidentLog, IncidentStatus
from xinex.models.outbox import OutboxEvent
from xinex.oncall import escalation
from xinex.oncall.paging import create_page
from xinex.oncall.routing import AlertFacts, plan

TRIGGER_SUFFIXES = ("down", "late", "degraded", "ran_too_long", "failed", "missed", "breached", "expiring",
                    "offline", "error", "triggered")
RESOLVE_SUFFIXES = ("up", "recovered", "resolved", "online", "ok", "renewed")
# A sender that knows someone is on it (PagerDuty's event_action "acknowledge", Opsgenie's acknowledge).
ACKNOWLEDGE_SUFFIXES = ("acknowledged",)


def action_for(event_type: str) -> str | None:
    suffix = event_type.rsplit(".", 1)[-1]
    if suffix in TRIGGER_SUFFIXES:
        return "trigger"
    if suffix in RESOLVE_SUFFIXES:
        return "resolve"
    if suffix in ACKNOWLEDGE_SUFFIXES:
        return "acknowledge"
    return None


def _attr(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name) or (payload.get("attribution") or {}).get(name)
    return str(value)[:255] if value else None


def facts_of(event: OutboxEvent) -> AlertFacts:
    payload = event.payload or {}
    tags = payload.get("tags") or []
    return AlertFacts(source_type=event.source_type, source_id=event.source_id, severity=event.severity,
                      tags=[str(t) for t in tags] if isinstance(tags, list) else [],
                      host=_attr(payload, "host"), service=_attr(payload, "service"),
                      project=_attr(payload, "project"))


def summary_of(event: OutboxEvent) -> str:
    payload = event.payload or {}
    name = payload.get("name") or payload.get("url") or f"{event.source_type} {event.source_id}"
    what = event.event_type.split(".", 1)[-1].replace("_", " ")
    return f"{name} is {what}"[:500] if payload.get("summary") is None else str(payload["summary"])[:500]


def _alert(event: OutboxEvent, facts: AlertFacts, action: str, incident: Incident | None, outcome: str) -> Alert:
    return Alert(tenant_id=event.tenant_id, outbox_event_id=event.id, incident_id=incident.id if incident else None,
                 action=action, event_type=event.event_type, dedup_key=event.dedup_key,
                 source_type=event.source_type, source_id=event.source_id, severity=event.severity,
                 summary=summary_of(event), payload=event.payload or {}, host=facts.host, service=facts.service,
                 project=facts.project, occurred_at=event.occurred_at, outcome=outcome)


async def _start_paging(session: AsyncSession, incident: Incident, now: datetime) -> None:
    for channel in incident.route_channel_ids or []:
        await create_page(session, incident, event="incident.triggered", target_type="channel",
                          target_id=uuid.UUID(str(channel)), step_index=-1, cycle=0, now=now)
    escalation.start(incident)
    await session.flush()
    await escalation.advance(session, incident, now)


async def _open(session: AsyncSession, event: OutboxEvent, facts: AlertFacts, now: datetime) -> Incident:
    at = event.occurred_at
    incident = Incident(tenant_id=event.tenant_id, dedup_key=event.dedup_key, open_key=event.dedup_key,
                        title=summary_of(event), severity=event.severity, source_type=event.source_type,
                        source_id=event.source_id, host=facts.host, service=facts.service, project=facts.project,
                        tags=facts.tags, opened_at=at, last_alert_at=at, alert_count=1)
    routed = await plan(session, facts, event.tenant_id)
    rule = routed.rule
    incident.routing_rule_id = rule.id if rule else None
    incident.auto_resolve = routed.auto_resolve
    incident.route_channel_ids = routed.channel_ids
    incident.policy_snapshot, incident.rr_offset = routed.policy_snapshot, routed.rr_offset
    session.add(incident)
    await session.flush()  # no ORM relationships: the incident row must exist before its children
    session.add(_alert(event, facts, "trigger", incident, "opened"))
    timeline.add(session, incident, "alert", f"Triggered: {incident.title}", at,
                 data={"event_type": event.event_type, "severity": event.severity})
    timeline.add(session, incident, "routed",
                 f"Routed by rule {rule.name}" if rule and not rule.is_default
                 else "No routing rule matched: default route" if rule
                 else "No routing rule matched and the default route is disabled: owners and admins", at,
                 data={"rule_id": str(rule.id) if rule else None,
                       "policy": (incident.policy_snapshot or {}).get("name"),
                       "channels": incident.route_channel_ids})
    suppression = await is_suppressed(session, facts.source_type, facts.source_id, facts.tags, at,
                                      severity=facts.severity, host=facts.host, service=facts.service,
                                      project=facts.project)
    if suppression is not None:
        incident.suppressed, incident.suppression = True, suppression.as_dict()
        timeline.add(session, incident, "suppressed", f"Paging suppressed by {suppression.kind} {suppression.name}",
                     at, data=suppression.as_dict())
    else:
        group, pages = await correlation.attach(session, incident, at)
        if group is not None and group.primary_incident_id != incident.id:
            timeline.add(session, incident, "correlated",
                         f"Grouped with incident {group.primary_incident_id} ({group.key}): not paged separately",
                         at, data={"group_id": str(group.id), "primary_incident_id": str(group.primary_incident_id)})
        elif group is not None and group.incident_count > 1:
            timeline.add(session, incident, "correlated",
                         f"Grouped ({group.key}) but more severe than the group's incidents so far: paged",
                         at, data={"group_id": str(group.id), "primary_incident_id": str(incident.id)})
        if pages:
            await session.flush()
            await _start_paging(session, incident, now)
    await timeline.announce(session, incident, "incident.triggered")
    return incident


@dataclass
class _Pass:
    """What `handle` writes once for all its events: appended alerts and their timeline entries as
    plain rows (an ORM object each cost more than the rest of the append), and the correlation groups
    appended alerts keep live (a query per incident would also flush per incident)."""

    alerts: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[uuid.UUID, datetime] = field(default_factory=dict)

    async def write(self, session: AsyncSession) -> None:
        await correlation.touch_many(session, self.groups)
        if self.alerts:
            await session.execute(insert(Alert), self.alerts)
        if self.entries:
            await session.execute(insert(IncidentLog), self.entries)


def _alert_row(event: OutboxEvent, incident: Incident, written: datetime) -> dict[str, Any]:
    facts = facts_of(event)
    return {"id": uuid.uuid4(), "created_at": written, "updated_at": written, "tenant_id": event.tenant_id,
            "outbox_event_id": event.id, "incident_id": incident.id, "action": "trigger",
            "event_type": event.event_type, "dedup_key": event.dedup_key, "source_type": event.source_type,
            "source_id": event.source_id, "severity": event.severity, "summary": summary_of(event),
            "payload": event.payload or {}, "host": facts.host, "service": facts.service, "project": facts.project,
            "occurred_at": event.occurred_at, "outcome": "appended"}


async def _append(session: AsyncSession, incident: Incident, events: Sequence[OutboxEvent], now: datetime,
                  written: _Pass) -> None:
    """Append trigger events (in order) to the open incident: one alert and one timeline entry each
    (rows in `written`), the incident's counters once, one live event for the lot."""
    entries = []
    note = " (acknowledged: not paging)" if incident.status == IncidentStatus.acknowledged.value else ""
    for event in events:
        written.alerts.append(_alert_row(event, incident, utcnow()))
        if SEVERITY_RANK.get(event.severity, 0) > SEVERITY_RANK.get(incident.severity, 0):
            # The source got worse (a late heartbeat went down): the incident is titled for what it is now.
            incident.severity, incident.title = event.severity, summary_of(event)
        entries.append((f"Alert appended: {summary_of(event)}{note}", event.occurred_at,
                        {"event_type": event.event_type, "severity": event.severity}))
    at = max(event.occurred_at for event in events)
    incident.alert_count += len(events)
    incident.last_alert_at = max(incident.last_alert_at, at)
    written.entries.extend(timeline.alert_rows(session, incident, entries))
    if incident.group_id is not None:
        written.groups[incident.group_id] = max(at, written.groups.get(incident.group_id, at))
    if incident.suppressed and incident.status == IncidentStatus.triggered.value:
        # Only ever one event here: the engine appends to a suppressed incident event by event.
        facts = facts_of(events[-1])
        still = await is_suppressed(session, facts.source_type, facts.source_id, facts.tags, at,
                                    severity=facts.severity, host=facts.host, service=facts.service,
                                    project=facts.project)
        if still is None:
            # The window ended while the source is still failing: page now.
            incident.suppressed, incident.suppression = False, None
            timeline.add(session, incident, "unsuppressed", "Suppression ended while still failing: paging", at)
            await session.flush()
            await _start_paging(session, incident, now)
    timeline.publish(session, incident.tenant_id, timeline.incident_event("incident.alert", incident))


# Source state changes that subscribers of outgoing webhooks hear about directly (API reference names).
SOURCE_WEBHOOK_EVENTS = {
    "monitor.down": "monitor.down",
    "monitor.up": "monitor.up",
    "heartbeat.down": "heartbeat.missed",
}


async def _source_webhook(session: AsyncSession, event: OutboxEvent) -> None:
    name = SOURCE_WEBHOOK_EVENTS.get(event.event_type)
    if name is None:
        return
    from xinex.webhooks.dispatcher import emit_webhook_event

    await emit_webhook_event(session, event.tenant_id, name, {
        "source_type": event.source_type, "source_id": str(event.source_id), "severity": event.severity,
        "occurred_at": to_rfc3339(event.occurred_at), **{k: v for k, v in event.payload.items() if k != "body"}})


async def handle(session: AsyncSession, events: Sequence[OutboxEvent], now: datetime | None = None) -> None:
    """Apply a tenant's claimed events, oldest first, inside the caller's transaction (tenant-bound
    session). The open incidents of their keys are read (and locked) once; a run of triggers of a
    key with an open incident is appended at once (`_append`); every other event — open,
    acknowledge, resolve, a trigger on a suppressed incident — is applied alone, in its place."""
    now = now or utcnow()
    done = set((await session.execute(select(col(Alert.outbox_event_id))
                                      .where(col(Alert.outbox_event_id).in_([e.id for e in events])))).scalars())
    by_key: dict[str, list[OutboxEvent]] = {}
    for event in events:
        if event.id not in done:  # a replayed event (a lease ran out after its commit) is a no-op
            by_key.setdefault(event.dedup_key, []).append(event)
    if not by_key:
        return
    stmt = select(Incident).where(col(Incident.open_key).in_(sorted(by_key))).order_by(col(Incident.open_key))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    open_now = {i.open_key: i for i in (await session.execute(stmt)).scalars()}
    written = _Pass()
    for key, key_events in by_key.items():
        incident = open_now.get(key)
        run: list[OutboxEvent] = []
        for event in key_events:
            await _source_webhook(session, event)
            action = action_for(event.event_type)
            if action is None:
                continue
            if (action == "trigger" and incident is not None
                    and not (incident.suppressed and incident.status == IncidentStatus.triggered.value)):
                run.append(event)
                continue
            if run:
                await _append(session, incident, run, now, written)  # type: ignore[arg-type]
                run = []
            incident = await _apply_alone(session, event, action, incident, now, written)
        if run:
            await _append(session, incident, run, now, written)  # type: ignore[arg-type]
    await written.write(session)
    await session.flush()


async def _apply_alone(session: AsyncSession, event: OutboxEvent, action: str, incident: Incident | None,
                       now: datetime, written: _Pass) -> Incident | None:
    """One event; returns its key's open incident afterwards (None once resolved)."""
    facts = facts_of(event)
    if action == "trigger":
        if incident is None:
            return await _open(session, event, facts, now)
        await _append(session, incident, [event], now, written)
        return incident
    if incident is None:
        session.add(_alert(event, facts, action, None, "no_open_incident"))
        return None
    if action == "acknowledge":
        session.add(_alert(event, facts, "acknowledge", incident, "acknowledged"))
        await session.flush()
        await acknowledge(session, incident, user_id=None, at=event.occurred_at)
        return incident
    session.add(_alert(event, facts, "resolve", incident, "recovered"))
    timeline.add(session, incident, "alert", f"Recovered: {summary_of(event)}", event.occurred_at,
                 data={"event_type": event.event_type})
    if incident.auto_resolve:
        await session.flush()
        await resolve(session, incident, user_id=None, at=event.occurred_at, reason="recovery")
    return incident if incident.open_key is not None else None


async def process_one(db: Database, event: OutboxEvent, now: datetime | None = None, tries: int = 5) -> None:
    """Apply one claimed event (the outbox consumer does this for every subscriber; tests call it)."""
    await apply_one(db, event, [handle], now, tries)


async def process_pending(db: Database, now: datetime | None = None, limit: int = 100) -> int:
    """Claim a batch of outbox events and apply each; returns how many were claimed."""
    return await apply_pending(db, [handle], now, limit)
