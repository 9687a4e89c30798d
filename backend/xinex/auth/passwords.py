"""argon2id hashing, run off the event loop; rehash on login when parameters rise."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from xinex.settings import get_settings

MIN_PASSWORD_LENGTH = 10


@lru_cache
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def hasher() -> PasswordHasher:
    s = get_settings()
    return _hasher(s.argon2_time_cost, s.argon2_memory_cost_kib, s.argon2_parallelism)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hasher().hash, password)


# A real hash to verify against when the account does not exist, so timing does not reveal it.
_DUMMY: dict[str, str] = {}


async def verify_password(stored_hash: str | None, password: str) -> tuple[bool, str | None]:
    """Returns (ok, new_hash_if_parameters_changed)."""
    h = hasher()
    if stored_hash is None:
        key = repr(h)
        if key not in _DUMMY:
            _DUMMY[key] = await asyncio.to_thread(h.hash, "not-a-real-password")
        stored_hash = _DUMMY[key]
        await asyncio.to_thread(_safe_verify, h, stored_hash, password)
        return False, None
    ok = await asyncio.to_thread(_safe_verify, h, stored_hash, password)
    if ok and h.check_needs_rehash(stored_hash):
        return True, await asyncio.to_thread(h.hash, password)
    return ok, None


def _safe_verify(h: PasswordHasher, stored_hash: str, password: str) -> bool:
    try:
        return h.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
