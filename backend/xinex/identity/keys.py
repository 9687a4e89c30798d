"""The JWT signing key: generated once, stored in the database so every API replica signs and
verifies with the same key; the private half is encrypted with a key derived from secret_key.

Each process caches the loaded keys; an unknown `kid` triggers a (throttled) reload, so a key
created by another replica is picked up without a restart.
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from xinex.kit.db import Database
from xinex.models.oauth_server import OAuthSigningKey

ALG = "ES256"
CURVE = "P-256"
RELOAD_AFTER_S = 300.0
UNKNOWN_KID_RELOAD_FLOOR_S = 10.0


def _aead(secret_key: str) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"xinex/oauth-server",
                   info=b"signing-key-encryption/v1").derive(secret_key.encode())
    return AESGCM(derived)


def encrypt_private(secret_key: str, kid: str, private_jwk: dict[str, Any]) -> str:
    nonce = os.urandom(12)
    sealed = _aead(secret_key).encrypt(nonce, json.dumps(private_jwk).encode(), kid.encode())
    return base64.b64encode(nonce + sealed).decode()


def decrypt_private(secret_key: str, kid: str, blob: str) -> dict[str, Any]:
    raw = base64.b64decode(blob)
    jwk: dict[str, Any] = json.loads(_aead(secret_key).decrypt(raw[:12], raw[12:], kid.encode()))
    return jwk


@dataclass
class LoadedKeys:
    signing: ECKey | None  # private key used to sign new tokens
    public: KeySet  # every published (non-retired) key, for verification and the JWKS
    loaded_at: float


_cache: dict[str, LoadedKeys] = {}


def _cache_key(session_or_db: AsyncSession | Database) -> str:
    if isinstance(session_or_db, Database):
        return str(session_or_db.engine.url)
    bind = session_or_db.bind
    engine = bind.engine if isinstance(bind, AsyncConnection) else bind
    assert engine is not None  # sessions come from Database.sessionmaker, bound to its engine
    return str(engine.url)


async def _load(session: AsyncSession, secret_key: str) -> LoadedKeys:
    rows = (
        await session.execute(
            select(OAuthSigningKey).where(col(OAuthSigningKey.retired_at).is_(None))
            .order_by(col(OAuthSigningKey.created_at), col(OAuthSigningKey.id))
        )
    ).scalars().all()
    public = KeySet([ECKey.import_key(dict(r.public_jwk)) for r in rows])
    signing = None
    if rows:
        # The oldest active key signs: replicas that raced to create one converge on the same key.
        first = rows[0]
        signing = ECKey.import_key(decrypt_private(secret_key, first.kid, first.private_key_enc))
    return LoadedKeys(signing=signing, public=public, loaded_at=time.monotonic())


async def verification_keys(session: AsyncSession, secret_key: str, kid: str | None) -> KeySet:
    """Published keys; reloads when stale or when a token names a kid we have not seen."""
    key = _cache_key(session)
    loaded = _cache.get(key)
    if loaded is None:
        stale = True
    else:
        age = time.monotonic() - loaded.loaded_at
        known = any(k.kid == kid for k in loaded.public.keys)
        stale = age > RELOAD_AFTER_S or (not known and age > UNKNOWN_KID_RELOAD_FLOOR_S)
    if loaded is None or stale:
        loaded = await _load(session, secret_key)
        _cache[key] = loaded
    return loaded.public


async def signing_key(db: Database, secret_key: str) -> ECKey:
    """The key to sign with; created (in its own committed transaction) the first time it is needed."""
    key = _cache_key(db)
    loaded = _cache.get(key)
    if loaded is not None and loaded.signing is not None and time.monotonic() - loaded.loaded_at < RELOAD_AFTER_S:
        return loaded.signing
    async with db.session() as session:
        loaded = await _load(session, secret_key)
        if loaded.signing is None:
            new = ECKey.generate_key(CURVE, parameters={"alg": ALG, "use": "sig"})
            kid = new.thumbprint()
            public_jwk = new.as_dict(private=False, kid=kid)
            private_jwk = new.as_dict(private=True, kid=kid)
            session.add(OAuthSigningKey(kid=kid, alg=ALG, public_jwk=public_jwk,
                                        private_key_enc=encrypt_private(secret_key, kid, private_jwk)))
            await session.flush()
            loaded = await _load(session, secret_key)
    _cache[key] = loaded
    assert loaded.signing is not None
    return loaded.signing


async def published_jwks(db: Database, secret_key: str) -> dict[str, Any]:
    await signing_key(db, secret_key)  # a fresh install publishes its key before the first token
    loaded = _cache[_cache_key(db)]
    return {"keys": [k.as_dict(private=False) for k in loaded.public.keys]}


def clear_cache() -> None:
    _cache.clear()
