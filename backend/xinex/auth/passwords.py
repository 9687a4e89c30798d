"""argon2id hashing, run off the event loop; rehash on login when parameters rise."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import AfterValidator, Field

from xinex.settings import get_settings

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of leaked sets (zxcvbn's list, from Burnett's 10 million),
    shipped inside the pinned zxcvbn package: no network. Loaded once, on first use (~0.1 s)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p for p in FREQUENCY_LISTS["passwords"] if len(p) >= MIN_PASSWORD_LENGTH)


def is_common_password(password: str) -> bool:
    # The list is lower-case; "Password123" is as guessable as "password123".
    return password.strip().lower() in _common_passwords()


def _refuse_common(password: str) -> str:
    if is_common_password(password):
        raise ValueError("is one of the most common passwords, the first an attacker tries; choose another")
    return password


# A password being set (registration, reset, change): long enough and not on the common list.
NewPassword = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH),
                        AfterValidator(_refuse_common)]


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
