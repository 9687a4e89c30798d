"""Outgoing e-mail over SMTP (XINEX_SMTP_URL: smtp://user:pass@host:port, smtps://…, ?starttls=1)."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email import policy
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlparse

from xinex.kit.jobs import job
from xinex.settings import get_settings

log = logging.getLogger("xinex.mail")

# RFC 5322 allows 998 characters a line. With the default 78, the email package folds a long header that has
# no space (List-Unsubscribe's `<https://…?token=…>`) into RFC 2047 encoded-words, which mail clients do not
# decode in List-Unsubscribe (RFC 2369 wants the bare `<URL>`), so the one-click link would break.
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)


def _send_blocking(smtp_url: str, sender: str, to: str, subject: str, text: str,
                   headers: dict[str, str] | None = None) -> None:
    url = urlparse(smtp_url)
    query = parse_qs(url.query)
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    for name, value in (headers or {}).items():  # e.g. List-Unsubscribe (RFC 2369, RFC 8058)
        msg[name] = value
    msg.set_content(text)
    port = url.port or (465 if url.scheme == "smtps" else 25)
    if url.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(url.hostname, port, timeout=15, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(url.hostname, port, timeout=15)
    with client:
        if query.get("starttls", ["0"])[0] in ("1", "true"):
            client.starttls(context=ssl.create_default_context())
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(msg)


@job
async def send_email(ctx, to: str, subject: str, text: str, headers: dict[str, str] | None = None) -> None:
    await deliver(to, subject, text, headers)


async def deliver(to: str, subject: str, text: str, headers: dict[str, str] | None = None) -> bool:
    """Send one message now (from a job); False when no relay is configured."""
    settings = get_settings()
    if not settings.smtp_url:
        # No relay configured (embedded dev): say so without printing the message (it may hold a token).
        log.warning("XINEX_SMTP_URL is not set; e-mail to %s not sent", to)
        return False
    await asyncio.to_thread(_send_blocking, settings.smtp_url, settings.mail_from, to, subject, text, headers)
    return True
