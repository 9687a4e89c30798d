"""Local APNs and FCM (tests/push/fakes.py) for the whole push test session, and a phone signing in the
way the mobile app does (PKCE, tests/auth/oauth_server/conftest.py)."""

from __future__ import annotations

import pytest

from tests.auth.oauth_server.conftest import mobile_fixture  # noqa: F401 - the `mobile` fixture
from tests.push.fakes import Providers, start_providers


@pytest.fixture(scope="session")
def providers(tmp_path_factory, settings) -> Providers:
    """Both fakes, with the session's settings object pointed at them (the app and get_settings() share it;
    other tests mutate that very object, so it is patched in place, not replaced)."""
    from xinex.settings import get_settings

    assert get_settings() is settings
    started = start_providers(tmp_path_factory.mktemp("push-ca"))
    fields = {key.removeprefix("XINEX_").lower(): value for key, value in started.env.items()}
    saved = {name: getattr(settings, name) for name in fields}
    for name, value in fields.items():
        setattr(settings, name, value)
    yield started
    for name, value in saved.items():
        setattr(settings, name, value)
    started.stop()


@pytest.fixture
def apns(providers):
    providers.apns.requests.clear()
    providers.apns.scripts.clear()
    providers.apns.rearm()
    return providers.apns


@pytest.fixture
def fcm(providers):
    providers.fcm.requests.clear()
    providers.fcm.scripts.clear()
    providers.fcm.rearm()
    return providers.fcm
