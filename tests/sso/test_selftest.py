"""The SAML sign/verify self-test at start-up: with a broken xmlsec, SSO answers 503 and says why in
the log, while the rest of the product runs. The breakage is simulated by replacing python-xmlsec's
signature context (the one fault injection in these tests: a broken native build cannot be made here)."""

from __future__ import annotations

import logging

import pytest
import xmlsec

from tests.conftest import assert_error
from tests.kit.conftest import client_for
from tests.sso.conftest import config_body


@pytest.fixture
def fresh_self_test():
    """The self-test result is cached per process: forget it before and after the test."""
    from xinex.sso.selftest import saml_self_test

    saml_self_test.cache_clear()
    yield
    saml_self_test.cache_clear()


class _FailingSignatureContext:
    def __init__(self, *args, **kwargs) -> None:
        pass

    def sign(self, node) -> None:
        raise xmlsec.Error(1, "xmlSecOpenSSLAppKeyLoadMemory failed (simulated broken build)")

    verify = sign


class _AcceptingSignatureContext(xmlsec.SignatureContext):
    """A build whose verification accepts anything: the worst kind of broken."""

    def verify(self, node) -> None:
        return None


def test_the_installed_xmlsec_passes():
    from xinex.sso.selftest import run_self_test

    assert run_self_test().ok


def test_an_xmlsec_that_verifies_anything_fails_the_self_test(monkeypatch):
    from xinex.sso.selftest import run_self_test

    monkeypatch.setattr(xmlsec, "SignatureContext", _AcceptingSignatureContext)
    result = run_self_test()
    assert not result.ok and "tampered" in result.reason


async def test_broken_xmlsec_turns_sso_off_and_leaves_the_rest_running(fresh_self_test, monkeypatch, caplog, settings,
                                                                      db, sso, outsider):
    from xinex.app import create_app

    async with sso.client() as browser:  # the tenant's SSO works on a healthy server
        assert (await browser.get("/api/v1/sso/login", params={"tenant": sso.slug})).status_code == 302

    monkeypatch.setattr(xmlsec, "SignatureContext", _FailingSignatureContext)
    with caplog.at_level(logging.ERROR, logger="xinex.sso.selftest"):
        broken = create_app(settings, db=db)
    assert "single sign-on is DISABLED" in caplog.text and "simulated broken build" in caplog.text

    async with client_for(broken) as c:
        for r in (await c.get("/api/v1/sso/login", params={"tenant": sso.slug}),
                  await c.get(f"/api/v1/sso/{sso.slug}/metadata"),
                  await c.post(f"/api/v1/sso/{sso.slug}/acs", data={"SAMLResponse": "PHg+"}),
                  await c.put("/api/v1/sso/config", json=config_body(sso.idp, enforce=True),
                              headers=sso.account.bearer)):
            body = assert_error(r, 503, "SERVICE_UNAVAILABLE")
            assert "self-test" in body["error"]
        # Reading and removing the configuration need no signatures; the outsider still sees nothing.
        assert (await c.get("/api/v1/sso/config", headers=sso.account.bearer)).status_code == 200
        assert (await c.get("/api/v1/sso/config", headers=outsider.bearer)).status_code in (403, 404)
        # Everything else runs.
        assert (await c.get("/health")).status_code == 200
        assert (await c.get("/api/v1/me", headers=sso.account.bearer)).status_code == 200
        r = await c.post("/api/v1/auth/login", json={"email": outsider.email, "password": outsider.password})
        assert r.status_code == 200, r.text


def test_an_sso_module_that_cannot_import_answers_503(settings):
    """python-xmlsec most often breaks at import; the router is then replaced, not the product stopped."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from xinex.kit.errors import install_error_handlers
    from xinex.sso.selftest import unavailable_router

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(unavailable_router(xmlsec.Error(100, "lxml & xmlsec libxml2 library version mismatch")),
                       prefix="/api/v1")
    with TestClient(app) as c:
        assert_error(c.get("/api/v1/sso/login?tenant=x"), 503, "SERVICE_UNAVAILABLE")
        assert_error(c.post("/api/v1/sso/acme/acs"), 503, "SERVICE_UNAVAILABLE")
