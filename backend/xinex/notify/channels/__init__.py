"""Channel kinds: each module validates and masks its config and renders the message for its peer."""

from __future__ import annotations

from xinex.notify.channels import discord, email, push, slack, teams, webhook

KINDS = {
    "slack": slack,
    "discord": discord,
    "teams": teams,
    "webhook": webhook,
    "email": email,
    "push": push,
}
