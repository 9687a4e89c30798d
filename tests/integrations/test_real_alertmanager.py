"""End to end with the real Prometheus Alertmanager (Debian's prometheus-alertmanager, started here):
alerts fired through its API reach Xinex through each of its three ways to page — webhook_configs
(kind alertmanager), pagerduty_configs (kind pagerduty, /v2/enqueue) and opsgenie_configs (kind
opsgenie, /v2/alerts) — open incidents, route by label to a channel whose webhook receiver on 127.0.0.1
is paged, and their resolution resolves the incidents."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import urllib.request
from datetime import timedelta

import pytest
from xinex.kit.types import to_rfc3339, utcnow

from tests.conftest import free_port
from tests.incidents.helpers import Receiver, make_rule
from tests.integrations.helpers import incidents_of, make_integration, serve, settle_integration
from tests.tenancy.helpers import deliver

CONFIG = """
route:
  receiver: webhook
  group_by: [alertname, via]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['via="pagerduty"']
      receiver: pagerduty
    - matchers: ['via="opsgenie"']
      receiver: opsgenie
receivers:
  - name: webhook
    webhook_configs:
      - url: {base}/hooks/{am_key}
        send_resolved: true
  - name: pagerduty
    pagerduty_configs:
      - routing_key: {pd_key}
        url: {base}/v2/enqueue
        send_resolved: true
  - name: opsgenie
    opsgenie_configs:
      - api_key: {og_key}
        api_url: {base}/
        send_resolved: true
"""


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _post_json(url: str, body) -> int:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status


async def _eventually(check, timeout: float = 60.0):
    """Poll `check()` (an async function returning a truthy value when done)."""
    end = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert asyncio.get_running_loop().time() < end, "Alertmanager's notification did not arrive in time"
        await asyncio.sleep(0.2)


async def test_real_alertmanager_pages_and_resolves_through_xinex(app, db, client, alice, tmp_path, receiver):
    binary = shutil.which("prometheus-alertmanager")
    assert binary, "prometheus-alertmanager is installed by scripts/install-system-deps.sh (make install)"
    r = await client.post("/api/v1/notification-channels", headers=alice.bearer,
                          json={"name": "payments", "kind": "webhook", "config": {"url": receiver.url}})
    assert r.status_code == 201, r.text
    await make_rule(client, alice, tags=["team=payments"], channel_ids=[r.json()["id"]], position=1)
    am = await make_integration(client, alice, "alertmanager")
    pd = await make_integration(client, alice, "pagerduty")
    og = await make_integration(client, alice, "opsgenie")

    async with serve(app) as base:
        (tmp_path / "alertmanager.yml").write_text(
            CONFIG.format(base=base, am_key=am["key"], pd_key=pd["key"], og_key=og["key"]))
        port = free_port()
        api = f"http://127.0.0.1:{port}/api/v2/alerts"
        process = subprocess.Popen(
            [binary, f"--config.file={tmp_path / 'alertmanager.yml'}", f"--storage.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "alertmanager.log", "wb"))
        try:
            async def ready():
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1) as response:
                        return response.status == 200
                except OSError:
                    return False

            await _eventually(ready, 30)
            start = to_rfc3339(utcnow() - timedelta(minutes=1))
            alerts = [
                {"labels": {"alertname": "HighErrorRate", "team": "payments", "severity": "critical",
                            "instance": "checkout-1:8080", "via": "webhook"},
                 "annotations": {"summary": "5xx above 5% on checkout-1"}, "startsAt": start,
                 "generatorURL": "http://prometheus:9090/graph"},
                {"labels": {"alertname": "QueueBacklog", "team": "orders", "severity": "warning", "via": "pagerduty"},
                 "annotations": {"summary": "order queue backlog"}, "startsAt": start},
                {"labels": {"alertname": "CertExpiring", "team": "edge", "severity": "warning", "via": "opsgenie"},
                 "annotations": {"summary": "certificate expires in 6 days"}, "startsAt": start},
            ]
            assert await asyncio.to_thread(_post_json, api, alerts) == 200

            async def opened():
                found = {}
                for integration in (am, pd, og):
                    await settle_integration(db, alice, integration)
                    found[integration["kind"]] = [i for i in await incidents_of(db, alice, integration)
                                                  if i.status == "triggered"]
                return found if all(found.values()) else None

            found = await _eventually(opened)
            [from_webhook], [from_pd], [from_og] = found["alertmanager"], found["pagerduty"], found["opsgenie"]
            assert from_webhook.title == "5xx above 5% on checkout-1" and from_webhook.severity == "critical"
            assert "team=payments" in from_webhook.tags and from_webhook.routing_rule_id is not None
            assert from_webhook.host == "checkout-1:8080"
            assert "QueueBacklog" in from_pd.title and "CertExpiring" in from_og.title

            # The label routed the webhook's alert to the payments channel: the receiver is paged.
            await deliver(app)

            async def paged():
                return [b for b in receiver.bodies
                        if b.get("event") == "incident.triggered" and b["incident_id"] == str(from_webhook.id)]

            await _eventually(paged, 30)

            # Resolving in Alertmanager (endsAt now) resolves all three incidents.
            now = to_rfc3339(utcnow())
            assert await asyncio.to_thread(_post_json, api, [{**a, "endsAt": now} for a in alerts]) == 200

            async def resolved():
                states = []
                for integration in (am, pd, og):
                    await settle_integration(db, alice, integration)
                    states += [i.status for i in await incidents_of(db, alice, integration)]
                return states if set(states) == {"resolved"} else None

            assert len(await _eventually(resolved)) == 3
        finally:
            process.terminate()
            process.wait(10)
