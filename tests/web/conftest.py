"""One real `xinex run` (the web app it serves built by `make install`) and a real SMTP sink for every browser
test of the session; the sink's messages are readable over HTTP by the Node.js tests (MAILBOX_URL)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.billing.fake_stripe import FakeStripe
from tests.conftest import free_port
from tests.embedded import EmbeddedServer, embedded_server, xinex_command
from tests.web.node import CHROMIUM, FRONTEND

STRIPE_SECRET_KEY = "sk_test_51XinexWebAppBilling"
STRIPE_WEBHOOK_SECRET = "whsec_xinex_web_app_billing_0123456789"


@dataclass
class WebApp:
    server: EmbeddedServer
    mailbox_url: str
    otlp_url: str  # the server's OTLP/HTTP receiver, for journeys that send traces and logs


def _mailbox_http(box) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's hook
            url = urlsplit(self.path)
            to = parse_qs(url.query).get("to", [""])[0]
            found = [{"to": m["To"], "subject": m["Subject"], "text": m.get_body(("plain",)).get_content()}
                     for m in list(box.messages) if not to or m["To"] == to]
            body = json.dumps(found).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@contextlib.contextmanager
def _serve_webapp(smtp_server, workdir: Path, **env: str) -> Iterator[WebApp]:
    """`xinex run` serving the built app, with the SMTP sink readable over HTTP and its OTLP/HTTP port known."""
    assert (FRONTEND / "dist" / "index.html").is_file(), "the web app is not built: run `make install`"
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: `make install` installs Debian's chromium"
    http = _mailbox_http(smtp_server)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        # Every journey signs up and in from 127.0.0.1: the per-address sign-in limits would be what they test.
        otlp_port = free_port()
        with embedded_server(workdir, XINEX_SMTP_URL=os.environ["XINEX_SMTP_URL"],
                             XINEX_WEB_DIST=str(FRONTEND / "dist"), XINEX_RATE_LIMIT_LOGIN_IP="1000/minute",
                             XINEX_RATE_LIMIT_RESET="100/minute", XINEX_OTLP_HTTP_PORT=str(otlp_port), **env) as server:
            yield WebApp(server=server, mailbox_url=f"http://127.0.0.1:{http.server_address[1]}",
                         otlp_url=f"http://127.0.0.1:{otlp_port}")
    finally:
        http.shutdown()
        http.server_close()


@pytest.fixture(scope="session")
def webapp(smtp_server, tmp_path_factory) -> Iterator[WebApp]:
    with _serve_webapp(smtp_server, tmp_path_factory.mktemp("webapp")) as app:
        yield app


@dataclass
class BillingWebApp:
    app: WebApp
    stripe: FakeStripe
    control_url: str  # POST {control_url}/checkout/{session_id}/complete: the customer pays at "Stripe"


def _stripe_control(fake: FakeStripe, base: str) -> ThreadingHTTPServer:
    """What a customer does on Stripe's own pages, for the browser test: pay a Checkout session. The fake then
    sends Stripe's signed webhooks to the server, as Stripe would."""
    def pay(session_id: str) -> None:
        fake.complete_checkout(session_id)

        async def deliver() -> None:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                for answer in await fake.deliver(client, fake.take_events(), STRIPE_WEBHOOK_SECRET):
                    assert answer.status_code == 200, answer.text

        asyncio.run(deliver())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's hook
            parts = urlsplit(self.path).path.strip("/").split("/")
            try:
                assert len(parts) == 3 and parts[0] == "checkout" and parts[2] == "complete", self.path
                pay(parts[1])
                self.send_response(204)
            except (AssertionError, KeyError) as exc:
                body = str(exc).encode()
                self.send_response(400)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture(scope="session")
def billing_webapp(smtp_server, tmp_path_factory) -> Iterator[BillingWebApp]:
    """A second `xinex run` with Stripe billing on, against the Stripe-compatible fake (tests/billing/fake_stripe.py),
    its plans' prices created by `xinex billing sync-prices` as an operator would."""
    fake = FakeStripe().start()
    stripe_env = {"XINEX_STRIPE_SECRET_KEY": STRIPE_SECRET_KEY, "XINEX_STRIPE_API_BASE": fake.url,
                  "XINEX_STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET}
    workdir = tmp_path_factory.mktemp("webapp-billing")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("XINEX_")}, **stripe_env,
           "XINEX_DATA_DIR": str(workdir / "var")}
    sync = subprocess.run([*xinex_command(), "billing", "sync-prices"], env=env, cwd=workdir, capture_output=True,
                          text=True, timeout=120)
    assert sync.returncode == 0, sync.stdout + sync.stderr
    try:
        with _serve_webapp(smtp_server, workdir, **stripe_env) as app:
            control = _stripe_control(fake, app.server.base)
            threading.Thread(target=control.serve_forever, daemon=True).start()
            try:
                yield BillingWebApp(app=app, stripe=fake, control_url=f"http://127.0.0.1:{control.server_address[1]}")
            finally:
                control.shutdown()
                control.server_close()
    finally:
        fake.stop()
