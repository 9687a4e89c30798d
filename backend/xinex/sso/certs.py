"""Parsing the IdP signing certificate an admin pastes: one X.509 certificate in PEM, public only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")


@dataclass(frozen=True)
class ParsedCert:
    pem: str
    fingerprint_sha256: str
    not_after: datetime
    subject: str


def parse_certificate(text: str) -> ParsedCert:
    """Raises ValueError with a user-facing reason; never echoes the input."""
    labels = PEM_BLOCK.findall(text or "")
    if any("PRIVATE KEY" in label for label in labels):
        raise ValueError("contains a private key: paste only the IdP's public signing certificate")
    if labels.count("CERTIFICATE") != 1 or len(labels) != 1:
        raise ValueError("must be exactly one PEM certificate (-----BEGIN CERTIFICATE-----)")
    try:
        cert = x509.load_pem_x509_certificate(text.strip().encode())
    except ValueError as exc:
        raise ValueError("is not a parseable X.509 PEM certificate") from exc
    return ParsedCert(
        pem=cert.public_bytes(Encoding.PEM).decode(),
        fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex(),
        not_after=cert.not_valid_after_utc,
        subject=cert.subject.rfc4514_string()[:300],
    )
