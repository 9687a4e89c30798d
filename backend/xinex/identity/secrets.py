"""Token material: generated with `secrets`, stored only as SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

API_TOKEN_PREFIX = "xinex_"
_API_TOKEN = re.compile(re.escape(API_TOKEN_PREFIX) + "[0-9a-f]{64}")
# A remote probe agent's token (monitors' probe registration issues it).
PROBER_TOKEN_PREFIX = "xinex_probe_"
_PROBER_TOKEN = re.compile(re.escape(PROBER_TOKEN_PREFIX) + "[0-9a-f]{64}")


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_bytes(32).hex()


def looks_like_api_token(value: str) -> bool:
    return _API_TOKEN.fullmatch(value) is not None


def looks_like_prober_token(value: str) -> bool:
    return _PROBER_TOKEN.fullmatch(value) is not None


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
