"""The SAML sign/verify self-test, run once per process at start-up.

python3-saml checks every IdP signature with python-xmlsec, a binding to libxmlsec1 that must agree
with lxml's libxml2. A mismatched or broken build fails in ways that range from an import error to
signatures that do not verify — or, worst, that verify when they should not. So before SSO is offered
we sign a tiny SAML assertion with a throwaway key and check, through the very function the ACS
uses, that the signature verifies and that a tampered copy does not. If any step fails, the SSO
endpoints answer 503 SERVICE_UNAVAILABLE and the log says why; everything else runs.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request

from xinex.kit.errors import AppError

log = logging.getLogger("xinex.sso.selftest")

_ASSERTION = (
    '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_xinex_selftest" Version="2.0" '
    'IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>{issuer}</saml:Issuer></saml:Assertion>'
)
_SIGNATURE_XPATH = "/saml:Assertion/ds:Signature"


@dataclass(frozen=True)
class SamlSelfTest:
    ok: bool
    reason: str = ""


def _throwaway_key_and_cert() -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xinex saml self-test")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def run_self_test() -> SamlSelfTest:
    """Sign, verify, and refuse a tampered copy — with the libraries SSO really uses."""
    try:
        # Imported here: a broken python-xmlsec often fails right at import.
        from onelogin.saml2.utils import OneLogin_Saml2_Utils

        key_pem, cert_pem = _throwaway_key_and_cert()
        signed = OneLogin_Saml2_Utils.add_sign(_ASSERTION.format(issuer="xinex"), key_pem, cert_pem)
        signed = signed.decode() if isinstance(signed, bytes) else signed
        if not OneLogin_Saml2_Utils.validate_sign(signed, cert_pem, xpath=_SIGNATURE_XPATH, raise_exceptions=True):
            return SamlSelfTest(False, "a freshly signed assertion did not verify")
        tampered = signed.replace("<saml:Issuer>xinex</saml:Issuer>", "<saml:Issuer>xinez</saml:Issuer>")
        if tampered == signed:
            return SamlSelfTest(False, "could not build the tampered copy")
        if OneLogin_Saml2_Utils.validate_sign(tampered, cert_pem, xpath=_SIGNATURE_XPATH):
            return SamlSelfTest(False, "a tampered assertion verified: signature checks cannot be trusted")
    except Exception as exc:  # any failure means SSO cannot be trusted; say which
        return SamlSelfTest(False, f"{type(exc).__name__}: {str(exc)[:300]}")
    return SamlSelfTest(True)


@functools.cache
def saml_self_test() -> SamlSelfTest:
    """Once per process (the key generation takes a moment); logged so operators see why SSO is off."""
    result = run_self_test()
    if result.ok:
        log.info("SAML sign/verify self-test passed; single sign-on is available")
    else:
        log.error("single sign-on is DISABLED: the SAML sign/verify self-test failed (%s). Check that "
                  "python-xmlsec, libxmlsec1 and lxml are built against the same libxml2, then restart. "
                  "Everything else runs.", result.reason)
    return result


def require_saml(request: Request) -> None:
    """Dependency of the SSO endpoints that need XML signatures (sign-in, metadata, configuring)."""
    result = getattr(request.app.state, "saml_self_test", None) or saml_self_test()
    if not result.ok:
        raise AppError("SERVICE_UNAVAILABLE", "Single sign-on is unavailable on this server: its SAML signature "
                       "self-test failed at start-up. The operator must fix the XML security library (see the "
                       "server log).", details={"component": "saml"})


def unavailable_router(error: Exception) -> APIRouter:
    """Mounted in place of the SSO router when it cannot even be imported (python-xmlsec failing at
    import): every /sso/* path answers 503, and the rest of the API is unaffected."""
    log.error("single sign-on is DISABLED: its modules failed to import (%s: %s)", type(error).__name__,
              str(error)[:300])
    router = APIRouter(prefix="/sso", tags=["sso"])

    @router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"], include_in_schema=False)
    async def sso_unavailable(rest: str) -> None:
        raise AppError("SERVICE_UNAVAILABLE", "Single sign-on is unavailable on this server: its SAML library "
                       "failed to load. The operator must fix it (see the server log).",
                       details={"component": "saml"})

    return router
