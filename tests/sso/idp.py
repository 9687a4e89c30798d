"""A test identity provider: an RSA key + self-signed certificate made at test time, and real SAML
Responses whose Assertion carries an enveloped XML signature (exclusive c14n, RSA-SHA256)."""

from __future__ import annotations

import base64
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
NS = {"samlp": SAMLP, "saml": SAML, "ds": "http://www.w3.org/2000/09/xmldsig#"}


def _t(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_key_and_cert(common_name: str = "Test IdP") -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def request_id_from_redirect(location: str) -> str:
    """The ID of the AuthnRequest the SP sent in an HTTP-Redirect binding URL."""
    raw = parse_qs(urlsplit(location).query)["SAMLRequest"][0]
    xml = zlib.decompress(base64.b64decode(raw), -15)
    return etree.fromstring(xml).get("ID")


def sub(parent, tag: str, text: str | None = None, **attrs) -> etree._Element:
    prefix, _, local = tag.partition(":")
    el = etree.SubElement(parent, f"{{{NS[prefix]}}}{local}", attrs)
    if text is not None:
        el.text = text
    return el


class TestIdp:
    __test__ = False  # not a pytest class

    def __init__(self, entity_id: str | None = None) -> None:
        self.entity_id = entity_id or f"https://idp-{uuid.uuid4().hex[:8]}.example.test/saml"
        self.key_pem, self.cert_pem = make_key_and_cert()

    def response_xml(self, *, name_id: str, acs_url: str, audience: str, in_response_to: str | None,
                     destination: str | None = None, recipient: str | None = None,
                     assertion_id: str | None = None, lifetime: timedelta = timedelta(minutes=5),
                     now: datetime | None = None) -> etree._Element:
        now = now or datetime.now(UTC)
        until = now + lifetime
        attrs = {"ID": f"_r{uuid.uuid4().hex}", "Version": "2.0", "IssueInstant": _t(now),
                 "Destination": destination or acs_url}
        if in_response_to:
            attrs["InResponseTo"] = in_response_to
        resp = etree.Element(f"{{{SAMLP}}}Response", attrs, nsmap={"samlp": SAMLP, "saml": SAML})
        sub(resp, "saml:Issuer", self.entity_id)
        status = sub(resp, "samlp:Status")
        sub(status, "samlp:StatusCode", Value="urn:oasis:names:tc:SAML:2.0:status:Success")
        assertion = sub(resp, "saml:Assertion", ID=assertion_id or f"_a{uuid.uuid4().hex}", Version="2.0",
                        IssueInstant=_t(now))
        sub(assertion, "saml:Issuer", self.entity_id)
        subject = sub(assertion, "saml:Subject")
        sub(subject, "saml:NameID", name_id, Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
        confirmation = sub(subject, "saml:SubjectConfirmation", Method="urn:oasis:names:tc:SAML:2.0:cm:bearer")
        scd = {"NotOnOrAfter": _t(until), "Recipient": recipient or acs_url}
        if in_response_to:
            scd["InResponseTo"] = in_response_to
        sub(confirmation, "saml:SubjectConfirmationData", **scd)
        conditions = sub(assertion, "saml:Conditions", NotBefore=_t(now - timedelta(seconds=30)),
                         NotOnOrAfter=_t(until))
        restriction = sub(conditions, "saml:AudienceRestriction")
        sub(restriction, "saml:Audience", audience)
        authn = sub(assertion, "saml:AuthnStatement", AuthnInstant=_t(now), SessionIndex=f"_s{uuid.uuid4().hex}")
        context = sub(authn, "saml:AuthnContext")
        sub(context, "saml:AuthnContextClassRef", "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
        return resp

    def sign_assertion(self, resp: etree._Element, *, key_pem: str | None = None,
                       embedded_cert_pem: str | None = None) -> etree._Element:
        """Enveloped signature on the Assertion, placed right after its Issuer (schema order)."""
        assertion = resp.find("saml:Assertion", NS)
        sig = xmlsec.template.create(assertion, xmlsec.constants.TransformExclC14N,
                                     xmlsec.constants.TransformRsaSha256, ns="ds")
        assertion.find("saml:Issuer", NS).addnext(sig)
        ref = xmlsec.template.add_reference(sig, xmlsec.constants.TransformSha256, uri="#" + assertion.get("ID"))
        xmlsec.template.add_transform(ref, xmlsec.constants.TransformEnveloped)
        xmlsec.template.add_transform(ref, xmlsec.constants.TransformExclC14N)
        xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(sig))
        key = xmlsec.Key.from_memory(key_pem or self.key_pem, xmlsec.constants.KeyDataFormatPem)
        key.load_cert_from_memory(embedded_cert_pem or self.cert_pem, xmlsec.constants.KeyDataFormatPem)
        ctx = xmlsec.SignatureContext()
        ctx.register_id(assertion, "ID")
        ctx.key = key
        ctx.sign(sig)
        return resp

    def signed_response(self, **kwargs) -> str:
        return encode(self.sign_assertion(self.response_xml(**kwargs)))


def encode(resp: etree._Element | bytes) -> str:
    raw = resp if isinstance(resp, bytes) else etree.tostring(resp)
    return base64.b64encode(raw).decode()


def set_name_id(resp: etree._Element, value: str) -> etree._Element:
    resp.find("saml:Assertion/saml:Subject/saml:NameID", NS).text = value
    return resp
