"""Names are never blank, NUL-carrying or unpaired-surrogate text, whichever domain they name
(kit.fields.NonBlankStr): a name of spaces was accepted for rules, policies, schedules, silences,
channels, probes and monitors (fuzzer find)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError
from xinex.incidents.schemas import SilenceIn
from xinex.monitors.schemas import HttpMonitorIn, ProbeIn
from xinex.notify.schemas import ChannelCreate
from xinex.oncall.schemas import PolicyIn, RoutingRuleIn, ScheduleIn

from tests.conftest import assert_error

MODELS: list[type[BaseModel]] = [RoutingRuleIn, PolicyIn, ScheduleIn, SilenceIn, ChannelCreate, ProbeIn, HttpMonitorIn]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("name", ["   ", "\t\n", "a\u0000b", "x\ud800"])
def test_bad_names_are_refused_by_every_schema(model, name):
    with pytest.raises(ValidationError) as err:
        model.model_validate({"name": name})
    assert any(e["loc"][:1] == ("name",) for e in err.value.errors()), err.value.errors()


async def test_a_blank_monitor_name_is_a_validation_error_and_names_are_trimmed(client, alice, outsider):
    body = {"type": "http", "url": "https://example.com/", "interval": 300}
    r = await client.post("/api/v1/monitors", json={**body, "name": "   "}, headers=alice.bearer)
    assert "name" in assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]
    r = await client.post("/api/v1/monitors", json={**body, "name": "  shop  "}, headers=alice.bearer)
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "shop"
    assert_error(await client.get(f"/api/v1/monitors/{r.json()['id']}", headers=outsider.bearer), 404, "NOT_FOUND")
