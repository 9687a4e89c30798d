"""Targets that no request could ever reach under the outbound policy are refused when they are
created — channels, webhooks, monitors — with a 422 that names the field and the setting; with the
setting on they are accepted. Refusals at delivery name the setting too. `xinex run` in
development allows private targets and says so."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from xinex.kit import outbound
from xinex.kit.outbound import ALLOW_HINT, OutboundBlocked
from xinex.settings import Settings, apply_embedded_defaults

from tests.conftest import assert_error, free_port

HINT = "set XINEX_OUTBOUND_ALLOW_PRIVATE=true to allow private/loopback targets"


@pytest.fixture
def guard_on(settings):
    """The operator has not allowed private targets (the test config allows them)."""
    before = settings.outbound_allow_private
    settings.outbound_allow_private = False
    yield
    settings.outbound_allow_private = before


@pytest.fixture
def fake_dns(monkeypatch):
    """Names resolve from this table (a name missing from it does not resolve)."""
    table = {"localhost": ["127.0.0.1", "::1"], "hooks.internal.example": ["10.0.0.5"], "mixed.example": ["93.184.216.34", "127.0.0.1"],
             "public.example": ["93.184.216.34"]}

    async def resolve(host: str, port: int) -> list[str]:
        if host == "slow.example":
            await asyncio.Event().wait()  # never answers
        if host not in table:
            raise outbound.OutboundFailed("dns_failure", f"cannot resolve {host}")
        return table[host]

    monkeypatch.setattr(outbound, "resolver", resolve)
    return table


def test_the_hint_names_the_setting():
    assert ALLOW_HINT == HINT


async def test_refusal_messages_name_the_address_and_the_setting(fake_dns):
    cases = {
        "http://127.0.0.1:8080/hook": f"loopback address 127.0.0.1 — {HINT}",
        "http://[::1]/hook": f"loopback address ::1 — {HINT}",
        "http://10.1.2.3/hook": f"private address 10.1.2.3 — {HINT}",
        "http://169.254.169.254/latest": f"link local address 169.254.169.254 — {HINT}",
        "https://hooks.internal.example/x": f"hooks.internal.example resolves to private address 10.0.0.5 — {HINT}",
        "https://mixed.example/x": f"mixed.example resolves to loopback address 127.0.0.1 — {HINT}",
    }
    for url, message in cases.items():
        with pytest.raises(OutboundBlocked) as err:
            await outbound.refuse_unreachable_url(url, allow_private=False)
        assert str(err.value) == message, url
        # Allowed by the operator: every one of them is fine.
        await outbound.refuse_unreachable_url(url, allow_private=True)
    # Never a destination, whatever the setting.
    for allowed in (False, True):
        with pytest.raises(OutboundBlocked) as err:
            await outbound.refuse_unreachable_url("http://0.0.0.0:8000/", allow_private=allowed)
        assert str(err.value) == "unspecified address 0.0.0.0 is never a destination"
    # Public, unresolvable right now, or DNS too slow: accepted (vetted again at every request).
    for url in ("https://public.example/x", "https://not-yet.example/x", "https://slow.example/x",
                "https://93.184.216.34/x"):
        await outbound.refuse_unreachable_url(url, allow_private=False, resolve_timeout=0.05)


async def test_delivery_refusal_names_the_setting(guard_on):
    from xinex.kit.transport import post_bytes

    result = await post_bytes("http://127.0.0.1:9/hook", b"{}", {})
    assert result.error == f"target refused: loopback address 127.0.0.1 — {HINT}" and result.retryable is False


async def test_channels_pointing_at_private_targets_are_422_unless_allowed(client, alice, outsider, guard_on,
                                                                           fake_dns):
    base = "/api/v1/notification-channels"
    for kind, key, url in (("webhook", "url", "http://127.0.0.1:9/hook"),
                           ("slack", "webhook_url", "https://hooks.internal.example/services/T/B/X"),
                           ("teams", "webhook_url", "http://[::1]:8443/x"),
                           ("discord", "webhook_url", "http://192.168.1.10/api/webhooks/1/x")):
        body = {"name": kind, "kind": kind, "config": {key: url}}
        err = assert_error(await client.post(base, json=body, headers=alice.bearer), 422, "VALIDATION_FAILED")
        message = err["details"]["fields"][f"config.{key}"]
        assert message.startswith("target refused: ") and message.endswith(HINT), message
    assert (await client.get(base, headers=alice.bearer)).json()["total"] == 0
    ok = await client.post(base, json={"name": "pub", "kind": "webhook", "config": {"url": "https://public.example/h"}},
                           headers=alice.bearer)
    assert ok.status_code == 201, ok.text
    # Changing the URL of an existing channel to a refused one is refused the same way.
    err = assert_error(await client.put(f"{base}/{ok.json()['id']}", json={"config": {"url": "http://10.9.9.9/h"}},
                                        headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert err["details"]["fields"]["config.url"] == f"target refused: private address 10.9.9.9 — {HINT}"
    assert_error(await client.put(f"{base}/{ok.json()['id']}", json={"config": {"url": "https://public.example/2"}},
                                  headers=outsider.bearer), 404, "NOT_FOUND")


async def test_channels_at_loopback_are_accepted_when_allowed(client, alice, settings):
    assert settings.outbound_allow_private is True
    r = await client.post("/api/v1/notification-channels", headers=alice.bearer,
                          json={"name": "local", "kind": "webhook", "config": {"url": "http://127.0.0.1:9/hook"}})
    assert r.status_code == 201, r.text


async def test_webhooks_pointing_at_private_targets_are_422_unless_allowed(client, alice, outsider, guard_on,
                                                                           fake_dns):
    body = {"url": "http://127.0.0.1:9/hook", "event_types": ["*"]}
    err = assert_error(await client.post("/api/v1/webhooks", json=body, headers=alice.bearer), 422,
                       "VALIDATION_FAILED")
    assert err["details"]["fields"]["url"] == f"target refused: loopback address 127.0.0.1 — {HINT}"
    assert (await client.get("/api/v1/webhooks", headers=alice.bearer)).json()["total"] == 0
    r = await client.post("/api/v1/webhooks", json={**body, "url": "https://public.example/h"}, headers=alice.bearer)
    assert r.status_code == 201, r.text
    path = f"/api/v1/webhooks/{r.json()['id']}"
    err = assert_error(await client.put(path, json={"url": "https://hooks.internal.example/h"}, headers=alice.bearer),
                       422, "VALIDATION_FAILED")
    assert "hooks.internal.example resolves to private address 10.0.0.5" in err["details"]["fields"]["url"]
    assert_error(await client.put(path, json={"url": "https://public.example/3"}, headers=outsider.bearer),
                 404, "NOT_FOUND")


async def test_monitors_pointing_at_private_targets_are_422_unless_allowed(client, alice, outsider, guard_on,
                                                                           fake_dns):
    for body, field in (({"type": "http", "url": "http://localhost:8080/health"}, "url"),
                        ({"type": "http", "url": "https://hooks.internal.example/health"}, "url"),
                        ({"type": "tcp", "host": "10.0.0.7", "port": 5432}, "host"),
                        ({"type": "tcp", "host": "hooks.internal.example", "port": 5432}, "host")):
        err = assert_error(await client.post("/api/v1/monitors", json={"name": "m", **body}, headers=alice.bearer),
                           422, "VALIDATION_FAILED")
        assert err["details"]["fields"][field].endswith(HINT), err
    r = await client.post("/api/v1/monitors", json={"name": "m", "type": "http", "url": "https://public.example/"},
                          headers=alice.bearer)
    assert r.status_code == 201, r.text
    assert_error(await client.get(f"/api/v1/monitors/{r.json()['id']}", headers=outsider.bearer), 404, "NOT_FOUND")


def test_embedded_development_default_allows_private_targets_and_says_so(monkeypatch):
    monkeypatch.delenv("XINEX_OUTBOUND_ALLOW_PRIVATE")  # the test config sets it
    dev = Settings(env="development")
    lines = apply_embedded_defaults(dev)
    assert dev.outbound_allow_private is True and "XINEX_OUTBOUND_ALLOW_PRIVATE=false" in lines[0]
    explicit = Settings(env="development", outbound_allow_private=False)
    assert apply_embedded_defaults(explicit) == [] and explicit.outbound_allow_private is False
    prod = Settings(env="production", secret_key="x" * 40, argon2_time_cost=3, argon2_memory_cost_kib=65536)
    assert apply_embedded_defaults(prod) == [] and prod.outbound_allow_private is False


def test_xinex_run_prints_the_loopback_line(tmp_path):
    """The real command: `xinex run` in development with nothing configured prints the line at start."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XINEX_")}
    env.update(XINEX_ENV="development", XINEX_DATA_DIR=str(tmp_path), XINEX_HTTP_PORT=str(free_port()),
               XINEX_OTLP_GRPC_PORT=str(free_port()), XINEX_OTLP_HTTP_PORT=str(free_port()))
    proc = subprocess.Popen([sys.executable, "-m", "xinex.cli", "run"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        first = proc.stdout.readline()
    finally:
        proc.kill()
        proc.wait()
    assert first.startswith("xinex: outbound requests may reach loopback/private addresses"), first
