"""Microsoft Teams incoming webhook: a MessageCard (classic connectors) or an Adaptive Card
(Workflows webhooks), chosen by `format`."""

from __future__ import annotations

from xinex.notify.channels.common import invalid, webhook_url_kind
from xinex.notify.message import EVENT_LABELS, NotificationMessage, color_for, headline

_validate, mask, merge = webhook_url_kind({"format"})
TRANSPORT = "http"


def validate(config: dict) -> dict:
    out = _validate(config)
    fmt = out.setdefault("format", "messagecard")
    if fmt not in ("messagecard", "adaptive"):
        raise invalid("format", "must be messagecard or adaptive")
    return out


def render(config: dict, message: NotificationMessage) -> tuple[str, dict, dict]:
    label = EVENT_LABELS.get(message.event, message.event)
    if config.get("format") == "adaptive":
        return config["webhook_url"], _adaptive(message, label), {}
    card: dict = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": headline(message)[:200],
        "themeColor": f"{color_for(message):06X}",
        "title": headline(message),
        "text": message.body,
        "sections": [{"facts": [{"name": "Status", "value": label}, {"name": "Severity", "value": message.severity}]}],
    }
    if message.url:
        card["potentialAction"] = [{"@type": "OpenUri", "name": "View incident",
                                    "targets": [{"os": "default", "uri": message.url}]}]
    return config["webhook_url"], card, {}


def _adaptive(message: NotificationMessage, label: str) -> dict:
    content: dict = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "text": headline(message), "wrap": True},
            {"type": "TextBlock", "text": message.body, "wrap": True},
            {"type": "FactSet", "facts": [{"title": "Status", "value": label},
                                          {"title": "Severity", "value": message.severity}]},
        ],
    }
    if message.url:
        content["actions"] = [{"type": "Action.OpenUrl", "title": "View incident", "url": message.url}]
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "content": content}]}
