"""Slack incoming webhook: `text` (notification fallback) plus Block Kit `blocks`."""

from __future__ import annotations

from xinex.notify.channels.common import webhook_url_kind
from xinex.notify.message import EVENT_LABELS, NotificationMessage, headline

validate, mask, merge = webhook_url_kind({"username", "icon_emoji"})
TRANSPORT = "http"


def render(config: dict, message: NotificationMessage) -> tuple[str, dict, dict]:
    label = EVENT_LABELS.get(message.event, message.event)
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": headline(message)[:150], "emoji": True}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*Status:*\n{label}"},
            {"type": "mrkdwn", "text": f"*Severity:*\n{message.severity}"},
        ]},
    ]
    if message.body:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": message.body[:2900]}})
    if message.url:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "View incident"}, "url": message.url},
        ]})
    payload: dict = {"text": f"{headline(message)} ({message.severity})", "blocks": blocks}
    for key in ("username", "icon_emoji"):
        if config.get(key):
            payload[key] = config[key]
    return config["webhook_url"], payload, {}
