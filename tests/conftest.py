"""Shared fixtures: real PostgreSQL (non-superuser role, so RLS applies), a real SMTP server,
the app over ASGI, and helpers that sign up tenants.

scripts/test.sh provisions PostgreSQL and Redis and exports XINEX_TEST_*; running pytest directly
provisions them the same way through tests/_services.py.
"""

from __future__ import annotations

import os
import re
import socket
import time
import uuid
from dataclasses import dataclass, field

import pytest

if not os.environ.get("XINEX_TEST_DATABASE_URL") or not os.environ.get("XINEX_TEST_REDIS_URL"):
    # pytest run directly (not through scripts/test.sh): provision the same way, tear down at exit.
    import atexit
    import contextlib

    from tests import _services

    _stack = contextlib.ExitStack()
    atexit.register(_stack.close)
    if not os.environ.get("XINEX_TEST_DATABASE_URL"):
        _pg = _stack.enter_context(_services.postgres())
        os.environ["XINEX_TEST_DATABASE_URL"] = _pg.app_url
        os.environ["XINEX_TEST_ADMIN_DATABASE_URL"] = _pg.admin_url
    if not os.environ.get("XINEX_TEST_REDIS_URL"):
        os.environ["XINEX_TEST_REDIS_URL"] = _stack.enter_context(_services.redis_server())

os.environ.update({
    "XINEX_ENV": "test",
    "XINEX_DATABASE_URL": os.environ["XINEX_TEST_DATABASE_URL"],
    "XINEX_REDIS_URL": "",
    "XINEX_CLICKHOUSE_URL": "",  # embedded chdb; the HTTP-interface fixture covers the server engine
    "XINEX_COOKIE_SECURE": "false",
    "XINEX_ARGON2_TIME_COST": "1",
    "XINEX_ARGON2_MEMORY_COST_KIB": "1024",
    "XINEX_RATE_LIMIT_DEFAULT": "100000/minute",
    "XINEX_RATE_LIMIT_LOGIN_IP": "100000/minute",
    "XINEX_RATE_LIMIT_LOGIN_ACCOUNT": "100000/minute",
    "XINEX_RATE_LIMIT_RESET": "100000/minute",
    "XINEX_OUTBOUND_ALLOW_PRIVATE": "true",
    # The suite exercises the free plan's limits; tests/tenants covers the operator default itself.
    "XINEX_DEFAULT_TIER": "free",
    "XINEX_DATA_DIR": os.environ.get("XINEX_TEST_DATA_DIR", f"/tmp/xinex-test-{os.getpid()}"),
})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.content, policy=policy.default)
        message.raw_bytes = envelope.content  # the bytes as received, to check headers are not encoded
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture(scope="session")
def smtp_server():
    from aiosmtpd.controller import Controller

    box = _Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    os.environ["XINEX_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    from xinex.settings import get_settings

    get_settings.cache_clear()
    yield box
    controller.stop()


@pytest.fixture(scope="session")
def settings(smtp_server):
    from xinex.settings import get_settings

    get_settings.cache_clear()
    return get_settings()


@pytest.fixture(scope="session")
async def db(settings):
    from xinex.kit.db import Database
    from xinex.migrate import upgrade

    upgrade(settings.database_url)
    database = Database(settings.database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def sqlite_db(tmp_path):
    """A migrated SQLite database of the embedded default, for code paths that differ on it."""
    import asyncio

    from xinex.kit.db import Database
    from xinex.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'embedded.db'}"
    await asyncio.to_thread(upgrade, url)
    database = Database(url)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
async def app(settings, db):
    from xinex.app import create_app

    application = create_app(settings, db=db)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app):
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@dataclass
class Account:
    """A signed-up user with their own tenant, plus an API token for it."""

    email: str
    password: str
    user_id: str
    tenant_id: str
    csrf: str
    cookies: dict
    token: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def bearer(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def session_headers(self) -> dict:
        return {"X-CSRF-Token": self.csrf}


MAILED_TOKEN = re.compile(r"use this token: (\S+)")


async def mailed_token(mailbox, address: str, subject_word: str, *, skip: set[str] | frozenset = frozenset()) -> str:
    """The token of the newest mail to `address` whose subject has `subject_word` (waits for the
    app's mail job to deliver it to the test SMTP server); tokens in `skip` are older ones."""
    import asyncio

    deadline = time.monotonic() + 30
    while True:
        for message in reversed(mailbox.to(address)):
            if subject_word in message["Subject"]:
                match = MAILED_TOKEN.search(message.get_content())
                if match and match.group(1) not in skip:
                    return match.group(1)
        assert time.monotonic() < deadline, f"no {subject_word!r} mail for {address}"
        await asyncio.sleep(0.01)


async def register(client, mailbox, email: str, password: str, **body):
    """Sign up the way a person does: the form (202, same answer for any address), then the link of
    the e-mail (201, signed in). Returns the confirmation response; `client` keeps the cookies."""
    r = await client.post("/api/v1/auth/register", json={"email": email, "password": password, **body})
    assert r.status_code == 202, r.text
    token = await mailed_token(mailbox, email.strip().lower(), "Finish creating")  # mailed to the normalized address
    r = await client.post("/api/v1/auth/register/confirm", json={"token": token})
    assert r.status_code == 201, r.text
    return r


@pytest.fixture
def signup(app, smtp_server):
    """await signup() -> Account with a fresh tenant (each call is a new, unrelated tenant)."""
    import httpx

    async def _signup(scopes: list[str] | None = None, **body) -> Account:
        email = body.pop("email", f"user-{uuid.uuid4().hex[:10]}@example.com")
        password = body.pop("password", "correct horse battery staple")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
            r = await register(c, smtp_server, email, password, name="Test", **body)
            data = r.json()
            cookies = dict(c.cookies)
            # Default: everything, including the sign-in management that `*` does not grant.
            r2 = await c.post("/api/v1/api-tokens", json={"name": "test", "scopes": scopes or ["*:write", "account:write"]},
                              headers={"X-CSRF-Token": data["csrf_token"]})
            assert r2.status_code == 201, r2.text
        return Account(email=email, password=password, user_id=data["user"]["id"], tenant_id=data["tenant_id"],
                       csrf=data["csrf_token"], cookies=cookies, token=r2.json()["token"])

    return _signup


@pytest.fixture
async def alice(signup) -> Account:
    return await signup()


@pytest.fixture
async def outsider(signup) -> Account:
    """Another tenant: must see 404 for everything of alice's."""
    return await signup()


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["details"], dict)
    return body
