"""What each sender's payload means: pure functions from a decoded JSON body to inbound alerts.

Every parser returns `InboundAlert`s (trigger / acknowledge / resolve, the sender's own dedup
key, summary, severity, labels, details) or raises `PayloadError` listing every problem found,
each naming the field, so the sender's 400 says what is wrong. Nothing here touches the database.

- PagerDuty Events API v2 (`/v2/enqueue`): routing_key, event_action, dedup_key, payload.
- Prometheus Alertmanager webhook, payload version 4: one alert group, alerts keyed by fingerprint.
- Grafana unified alerting webhook: Alertmanager's shape plus Grafana's fields (orgId, state, …).
- Opsgenie Alert API: create (message, alias, priority, tags, details), acknowledge / close by alias.
- Generic JSON: JMESPath expressions the user writes (`mapping`), compiled and checked on save.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

SEVERITIES = ("info", "warning", "error", "critical")
# A sender's severity word (lower-cased) -> ours; an integration's severity_map is consulted first.
DEFAULT_SEVERITY_WORDS = {
    "critical": "critical", "crit": "critical", "page": "critical", "fatal": "critical", "emergency": "critical",
    "disaster": "critical", "p1": "critical", "high": "error", "error": "error", "err": "error", "major": "error",
    "p2": "error", "warning": "warning", "warn": "warning", "minor": "warning", "medium": "warning",
    "average": "warning", "p3": "warning", "info": "info", "informational": "info", "low": "info", "none": "info",
    "notice": "info", "debug": "info", "ok": "info", "p4": "info", "p5": "info",
}
MAX_KEY = 255  # PagerDuty's dedup_key limit; longer keys are refused there and here
MAX_SUMMARY = 1024
MAX_ALERTS = 1000  # per request (an Alertmanager group is bounded by max_alerts on its side too)
MAX_LABELS = 64
MAPPING_FIELDS = ("alerts", "title", "dedup_key", "severity", "resolve", "acknowledge", "source", "service",
                  "labels", "details", "links")
MAX_EXPRESSION = 1000


class PayloadError(Exception):
    """The body does not say an alert the way its sender's API requires; `errors` names each field."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors))


@dataclass
class InboundAlert:
    action: str  # trigger | acknowledge | resolve
    key: str  # the sender's dedup key (fingerprint, dedup_key, alias, mapped key)
    summary: str | None = None
    severity: str | None = None  # the sender's word, mapped later with the integration's severity_map
    source: str | None = None  # the host / source the alert is about
    labels: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)  # plain tags (Opsgenie's), besides the labels' "k=v"
    details: dict[str, Any] = field(default_factory=dict)
    links: list[dict[str, str]] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)
    sender_time: str | None = None  # the sender's own timestamp, kept as given

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "dedup_key": self.key, "summary": self.summary, "severity": self.severity,
                "source": self.source, "labels": self.labels, "tags": self.tags, "details": self.details, "links": self.links,
                "images": self.images, "timestamp": self.sender_time}


MAX_DEPTH = 64


def _storable_text(text: str) -> str:
    """Text every database stores: NUL removed (PostgreSQL refuses it), unpaired surrogates (a JSON
    escape can carry them; UTF-8 cannot) replaced by U+FFFD."""
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


def storable(value: Any, depth: int = 0) -> Any:
    """A decoded body made safe to keep: cleaned text everywhere, and no deeper than MAX_DEPTH."""
    if depth > MAX_DEPTH:
        raise PayloadError([f"the body nests deeper than {MAX_DEPTH} levels"])
    if isinstance(value, str):
        return _storable_text(value)
    if isinstance(value, list):
        return [storable(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {_storable_text(str(k)): storable(v, depth + 1) for k, v in value.items()}
    return value


def map_severity(word: object, severity_map: dict[str, str], default: str) -> str:
    """The sender's severity in our four levels: the integration's own map, then the common words."""
    if word is None:
        return default
    text = str(word).strip().lower()
    if text in severity_map:
        return severity_map[text]
    return DEFAULT_SEVERITY_WORDS.get(text, default)


def body_hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _str_map(value: Any, name: str, errors: list[str]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(f"'{name}' must be an object of strings")
        return {}
    return {str(k)[:200]: (v if isinstance(v, str) else json.dumps(v))[:1000] for k, v in list(value.items())[:MAX_LABELS]}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return (value if isinstance(value, str) else json.dumps(value))[:MAX_SUMMARY]


def _object(body: Any, errors: list[str], what: str = "The body") -> dict[str, Any]:
    if not isinstance(body, dict):
        errors.append(f"{what} must be a JSON object")
        return {}
    return body


# --- PagerDuty Events API v2 ------------------------------------------------------------------

PD_ACTIONS = ("trigger", "acknowledge", "resolve")
PD_SEVERITIES = ("critical", "warning", "error", "info")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _pd_links(value: Any, name: str, keys: tuple[str, ...], errors: list[str]) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        errors.append(f"'{name}' must be an array of objects")
        return []
    return [{k: str(item[k])[:2000] for k in keys if item.get(k) is not None} for item in value[:50]]


@dataclass
class ChangeEvent:
    """A PagerDuty change event (a deploy, a config change): context for responders, never an alert."""

    summary: str
    source: str | None
    at: datetime | None  # the sender's timestamp; None: when received
    details: dict[str, Any]
    links: list[dict[str, str]]


def pagerduty_change(body: Any) -> tuple[str, ChangeEvent]:
    """One Change Events API event (`/v2/change/enqueue`) -> (routing_key, change). PagerDuty's words."""
    errors: list[str] = []
    event = _object(body, errors, "Event object")
    if errors:
        raise PayloadError(errors)
    routing_key = event.get("routing_key")
    if _blank(routing_key) or not isinstance(routing_key, str):
        errors.append("'routing_key' is missing or blank")
        routing_key = ""
    elif len(routing_key) != 32:
        errors.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    raw_payload = event.get("payload")
    payload: dict[str, Any] = raw_payload if isinstance(raw_payload, dict) else {}
    if not isinstance(raw_payload, dict):
        errors.append("'payload' is missing or blank" if raw_payload is None else "'payload' must be an object")
    elif _blank(payload.get("summary")) or not isinstance(payload.get("summary"), str):
        errors.append("'payload.summary' is missing or blank")
    elif len(payload["summary"]) > MAX_SUMMARY:
        errors.append(f"'payload.summary' is too long (must be at most {MAX_SUMMARY} characters)")
    at = None
    if not _blank(payload.get("timestamp")):
        try:
            # RFC 3339 allows a lower-case t and z; fromisoformat wants them upper-case.
            at = datetime.fromisoformat(str(payload["timestamp"]).strip().upper().replace("Z", "+00:00"))
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
        except ValueError:
            errors.append("'payload.timestamp' is not an ISO 8601 date-time")
    custom = payload.get("custom_details")
    links = _pd_links(event.get("links"), "links", ("href", "text"), errors)
    if errors:
        raise PayloadError(errors)
    return routing_key, ChangeEvent(summary=str(payload["summary"]), source=_text(payload.get("source")), at=at,
                                    details=custom if isinstance(custom, dict) else
                                    ({} if custom is None else {"details": custom}), links=links)


def pagerduty_event(body: Any) -> tuple[str, InboundAlert]:
    """One Events API v2 event -> (routing_key, alert). Errors in PagerDuty's words (`errors` list)."""
    errors: list[str] = []
    event = _object(body, errors, "Event object")
    if errors:
        raise PayloadError(errors)
    routing_key = event.get("routing_key")
    if _blank(routing_key) or not isinstance(routing_key, str):
        errors.append("'routing_key' is missing or blank")
        routing_key = ""
    elif len(routing_key) != 32:
        errors.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    action = event.get("event_action")
    if _blank(action):
        errors.append("'event_action' is missing or blank")
    elif action not in PD_ACTIONS:
        errors.append("'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')")
    dedup_key = event.get("dedup_key")
    if dedup_key is not None and not isinstance(dedup_key, str):
        errors.append("'dedup_key' must be a string")
        dedup_key = None
    elif isinstance(dedup_key, str) and len(dedup_key) > MAX_KEY:
        errors.append(f"'dedup_key' is too long (must be at most {MAX_KEY} characters)")
    if action in ("acknowledge", "resolve") and _blank(dedup_key):
        errors.append("'dedup_key' is missing or blank")
    alert = InboundAlert(action=str(action), key=dedup_key or uuid.uuid4().hex)
    if action == "trigger":
        raw_payload = event.get("payload")
        missing = not isinstance(raw_payload, dict)
        if missing:
            errors.append("'payload' is missing or blank" if raw_payload is None else "'payload' must be an object")
        payload: dict[str, Any] = raw_payload if isinstance(raw_payload, dict) else {}
        for name in ("summary", "source", "severity"):
            if _blank(payload.get(name)) and not missing:
                errors.append(f"'payload.{name}' is missing or blank")
        severity = payload.get("severity")
        if not _blank(severity) and severity not in PD_SEVERITIES:
            errors.append("'payload.severity' is invalid (must be one of the following: 'critical', 'warning', "
                          "'error' or 'info')")
        if isinstance(payload.get("summary"), str) and len(payload["summary"]) > MAX_SUMMARY:
            errors.append(f"'payload.summary' is too long (must be at most {MAX_SUMMARY} characters)")
        custom = payload.get("custom_details")
        alert.summary = _text(payload.get("summary"))
        alert.severity = str(severity) if severity else None
        alert.source = _text(payload.get("source"))
        alert.sender_time = _text(payload.get("timestamp"))
        alert.labels = {k: str(payload[k])[:200] for k in ("component", "group", "class") if payload.get(k)}
        alert.details = custom if isinstance(custom, dict) else ({} if custom is None else {"details": custom})
        alert.links = _pd_links(event.get("links"), "links", ("href", "text"), errors)
        alert.images = _pd_links(event.get("images"), "images", ("src", "href", "alt"), errors)
        for name in ("client", "client_url"):
            if event.get(name):
                alert.details.setdefault(f"_{name}", str(event[name])[:2000])
    if errors:
        raise PayloadError(errors)
    return routing_key, alert


# --- Prometheus Alertmanager (webhook payload version 4) and Grafana -----------------------------

def _am_alert(item: Any, index: int, errors: list[str], group: dict[str, Any]) -> InboundAlert | None:
    where = f"alerts[{index}]"
    if not isinstance(item, dict):
        errors.append(f"'{where}' must be an object")
        return None
    status = item.get("status") or group.get("status")
    if status not in ("firing", "resolved"):
        errors.append(f"'{where}.status' must be 'firing' or 'resolved'")
    labels = _str_map(item.get("labels"), f"{where}.labels", errors)
    annotations = _str_map(item.get("annotations"), f"{where}.annotations", errors)
    fingerprint = item.get("fingerprint")
    if fingerprint is not None and not isinstance(fingerprint, str):
        errors.append(f"'{where}.fingerprint' must be a string")
        fingerprint = None
    if not fingerprint and not labels:
        errors.append(f"'{where}' has neither a fingerprint nor labels to tell it apart")
    key = fingerprint or body_hash(sorted(labels.items()))
    summary = (annotations.get("summary") or annotations.get("description") or annotations.get("message")
               or labels.get("alertname") or group.get("title"))
    links = [{"href": str(item[k]), "text": k} for k in ("generatorURL", "dashboardURL", "panelURL", "silenceURL")
             if isinstance(item.get(k), str) and item[k]]
    details: dict[str, Any] = {"annotations": annotations}
    for extra in ("valueString", "values", "startsAt", "endsAt"):
        if item.get(extra) not in (None, "", {}):
            details[extra] = item[extra]
    return InboundAlert(action="trigger" if status == "firing" else "resolve", key=key[:MAX_KEY],
                        summary=_text(summary), severity=labels.get("severity") or labels.get("priority"),
                        source=labels.get("host") or labels.get("instance"), labels=labels, details=details,
                        links=links, sender_time=_text(item.get("startsAt" if status == "firing" else "endsAt")))


def alertmanager_group(body: Any, *, grafana: bool = False) -> list[InboundAlert]:
    """An alert group -> one alert per member (firing triggers, resolved resolves)."""
    errors: list[str] = []
    group = _object(body, errors)
    if errors:
        raise PayloadError(errors)
    if not grafana:
        version = group.get("version")
        if version is not None and str(version) != "4":
            errors.append(f"'version' is {version!r}: this receiver reads Alertmanager's webhook payload version 4")
    items = group.get("alerts")
    if not isinstance(items, list):
        raise PayloadError([*errors, "'alerts' is missing or not an array"])
    if len(items) > MAX_ALERTS:
        errors.append(f"'alerts' has {len(items)} alerts: at most {MAX_ALERTS} per request")
    alerts = [a for i, item in enumerate(items[:MAX_ALERTS]) if (a := _am_alert(item, i, errors, group)) is not None]
    if errors:
        raise PayloadError(errors)
    common = {"groupKey": group.get("groupKey"), "receiver": group.get("receiver"),
              "externalURL": group.get("externalURL")}
    if grafana:
        common.update({"orgId": group.get("orgId"), "title": group.get("title")})
    common = {k: v for k, v in common.items() if v not in (None, "")}
    for alert in alerts:
        alert.details.update(common)
    return alerts


# --- Opsgenie Alert API -------------------------------------------------------------------------

OPSGENIE_PRIORITIES = ("P1", "P2", "P3", "P4", "P5")


def opsgenie_create(body: Any) -> InboundAlert:
    """POST /v2/alerts. Errors name the field the way Opsgenie's 422 does."""
    errors: list[str] = []
    data = _object(body, errors, "Request body")
    if errors:
        raise PayloadError(errors)
    message = data.get("message")
    if _blank(message) or not isinstance(message, str):
        errors.append("Message can not be empty.")
        message = ""
    elif len(message) > 130:
        errors.append("Message can not be longer than 130 characters.")
    alias = data.get("alias")
    if alias is not None and (not isinstance(alias, str) or len(alias) > 512):
        errors.append("Alias must be a string of at most 512 characters.")
    priority = data.get("priority")
    if priority is not None and priority not in OPSGENIE_PRIORITIES:
        errors.append("Priority should be one of [P1, P2, P3, P4, P5].")
    tags = data.get("tags")
    if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)):
        errors.append("Tags must be an array of strings.")
        tags = None
    details = data.get("details")
    if details is not None and not isinstance(details, dict):
        errors.append("Details must be an object.")
        details = None
    if errors:
        raise PayloadError(errors)
    extra: dict[str, Any] = {"details": {str(k): v for k, v in (details or {}).items()}}
    for name in ("description", "entity", "note", "user", "source"):
        if data.get(name):
            extra[name] = _text(data[name])
    return InboundAlert(action="trigger", key=str(alias or uuid.uuid4()), summary=message,
                        severity=str(priority) if priority else None, source=_text(data.get("entity")),
                        tags=[t[:200] for t in (tags or [])[:MAX_LABELS]], details=extra)


def opsgenie_action(identifier: str, action: str, body: Any) -> InboundAlert:
    """POST /v2/alerts/{alias}/acknowledge | /close (identifierType=alias)."""
    errors: list[str] = []
    if body is not None and not isinstance(body, dict):
        errors.append("Request body must be a JSON object.")
    if not identifier or len(identifier) > 512:
        errors.append("Alias must be a string of at most 512 characters.")
    if errors:
        raise PayloadError(errors)
    data = body or {}
    details = {k: _text(data[k]) for k in ("user", "source", "note") if data.get(k)}
    return InboundAlert(action=action, key=identifier, details=details)


# --- Generic JSON with a JMESPath mapping ----------------------------------------------------------

def check_mapping(mapping: dict[str, Any]) -> dict[str, str]:
    """Compile every expression; returns {field: problem} (empty when the mapping is usable)."""
    problems: dict[str, str] = {}
    for name, expression in mapping.items():
        if name not in MAPPING_FIELDS:
            problems[name] = f"unknown mapping field (known: {', '.join(MAPPING_FIELDS)})"
            continue
        if not isinstance(expression, str) or not expression.strip():
            problems[name] = "must be a non-empty JMESPath expression"
            continue
        if len(expression) > MAX_EXPRESSION:
            problems[name] = f"at most {MAX_EXPRESSION} characters"
            continue
        try:
            jmespath.compile(expression)
        except JMESPathError as exc:
            problems[name] = f"not a valid JMESPath expression: {str(exc).splitlines()[0]}"
    if "title" not in mapping and "title" not in problems:
        problems["title"] = "required: the expression that gives the alert's title"
    return problems


def _search(expression: str | None, data: Any, name: str, errors: list[str]) -> Any:
    if not expression:
        return None
    try:
        return jmespath.search(expression, data)
    except JMESPathError as exc:  # e.g. a function applied to the wrong type at run time
        errors.append(f"mapping.{name}: {str(exc).splitlines()[0]}")
        return None


def webhook_alerts(body: Any, mapping: dict[str, str]) -> list[InboundAlert]:
    """Apply the user's mapping. `alerts` (optional) splits the body into items; every other
    expression is evaluated on each item. A title that comes out empty is an error naming it."""
    errors: list[str] = []
    if mapping.get("alerts"):
        items = _search(mapping["alerts"], body, "alerts", errors)
        if not isinstance(items, list):
            raise PayloadError([*errors, "mapping.alerts did not give an array for this payload"])
        if len(items) > MAX_ALERTS:
            raise PayloadError([f"mapping.alerts gave {len(items)} items: at most {MAX_ALERTS} per request"])
    else:
        items = [body]
    out: list[InboundAlert] = []
    for index, item in enumerate(items):
        where = f" (item {index})" if mapping.get("alerts") else ""
        before = len(errors)
        title = _search(mapping.get("title"), item, "title", errors)
        if _blank(title):
            if len(errors) == before:  # (an expression that failed on this payload said so already)
                errors.append(f"mapping.title gave nothing for this payload{where}")
            continue
        key = _search(mapping.get("dedup_key"), item, "dedup_key", errors)
        if key is not None and not isinstance(key, (str, int, float)):
            errors.append(f"mapping.dedup_key must give a string or a number{where}")
            continue
        key_text = str(key) if not _blank(key) else body_hash(item)
        if len(key_text) > MAX_KEY:
            errors.append(f"mapping.dedup_key gave {len(key_text)} characters: at most {MAX_KEY}{where}")
            continue
        resolve = _search(mapping.get("resolve"), item, "resolve", errors)
        acknowledge = _search(mapping.get("acknowledge"), item, "acknowledge", errors)
        labels_raw = _search(mapping.get("labels"), item, "labels", errors)
        labels = _str_map(labels_raw, "mapping.labels", errors) if labels_raw is not None else {}
        details = _search(mapping.get("details"), item, "details", errors) if mapping.get("details") else item
        links_raw = _search(mapping.get("links"), item, "links", errors)
        links = [{"href": str(u)} for u in links_raw if isinstance(u, str)] if isinstance(links_raw, list) else []
        severity = _search(mapping.get("severity"), item, "severity", errors)
        source = _search(mapping.get("source"), item, "source", errors)
        service = _search(mapping.get("service"), item, "service", errors)
        if not _blank(service):
            labels.setdefault("service", str(service)[:200])
        out.append(InboundAlert(
            action="resolve" if resolve else "acknowledge" if acknowledge else "trigger", key=key_text,
            summary=_text(title), severity=None if severity is None else str(severity),
            source=None if _blank(source) else _text(source), labels=labels,
            details=details if isinstance(details, dict) else {"value": details}, links=links))
    if errors:
        raise PayloadError(errors)
    return out
