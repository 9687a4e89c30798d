"""Token material: generated with `secrets`, stored only as SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import secrets

API_TOKEN_PREFIX = "xinex_"


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_bytes(32).hex()


def looks_like_api_token(value: str) -> bool:
    body = value[len(API_TOKEN_PREFIX):]
    return value.startswith(API_TOKEN_PREFIX) and len(body) == 64 and all(c in "0123456789abcdef" for c in body)


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
