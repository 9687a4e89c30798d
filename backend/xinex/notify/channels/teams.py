"""Microsoft Teams incoming webhook: a MessageCard (classic connectors) or an Adaptive Card
(Workflows webhooks), chosen by `format`."""

from __future__ import annotations

from xinex.notify.channels.common import invalid, webhook_url_kind
from xinex.notify.message import NotificationMessage, color_for, facts, headline, link_text

_validate, mask, merge = webhook_url_kind({"format"})
TRANSPORT = "http"


def validate(config: dict) -> dict:
    out = _validate(config)
    fmt = out.setdefault("format", "messagecard")
    if fmt not in ("messagecard", "adaptive"):
        raise invalid("format", "must be messagecard or adaptive")
    return out


def render(config: dict, message: NotificationMessage) -> tuple[str, dict, dict]:
    if config.get("format") == "adaptive":
        return config["webhook_url"], _adaptive(message), {}
    card: dict = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": headline(message)[:200],
        "themeColor": f"{color_for(message):06X}",
        "title": headline(message),
        "text": message.body,
        "sections": [{"facts": [{"name": name, "value": value} for name, value in facts(message)]}],
    }
    if message.url:
        card["potentialAction"] = [{"@type": "OpenUri", "name": link_text(message),
                                    "targets": [{"os": "default", "uri": message.url}]}]
    return config["webhook_url"], card, {}


def _adaptive(message: NotificationMessage) -> dict:
    content: dict = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "text": headline(message), "wrap": True},
            {"type": "TextBlock", "text": message.body, "wrap": True},
            {"type": "FactSet", "facts": [{"title": name, "value": value} for name, value in facts(message)]},
        ],
    }
    if message.url:
        content["actions"] = [{"type": "Action.OpenUrl", "title": link_text(message), "url": message.url}]
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "content": content}]}
