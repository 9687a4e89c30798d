"""Idempotency-Key on POST/PUT/PATCH with Stripe semantics.

Scoped per credential (hash), kept 24 h. Same key + same body → the stored response is replayed;
same key + different body → 422 IDEMPOTENCY_KEY_REUSED; while the first is still running → 409.
Responses that say the request never ran (validation, auth, rate limit, 5xx) are not stored, so
the client may fix and retry with the same key.

Stored bodies are encrypted with a key derived from the raw credential and the Idempotency-Key,
neither of which is stored: a replayed "create API token" response holds a secret, and the
database must not become a second place to read it from.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import datetime, timedelta

from sqlalchemy import UniqueConstraint, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinex.kit.http.headers import credential_of
from xinex.kit.types import Entity, JSONType, utc_field, utcnow


# The middleware's own table lives with it, so kit imports no model; xinex.models.idempotency
# re-exports it so that importing xinex.models still registers every table.
class IdempotencyRecord(Entity, table=True):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    # sha256 of the credential (which carries the tenant): never the credential itself.
    scope: str = Field(max_length=64)
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    state: str = Field(default="in_flight", max_length=16)  # in_flight | done
    status_code: int | None = None
    response_headers: list = Field(default_factory=list, sa_type=JSONType)
    response_body: str | None = None
    locked_until: datetime = utc_field()
    expires_at: datetime = utc_field(index=True)


def _body_key(credential: str, key: str) -> bytes:
    return hashlib.sha256(b"xinex-idempotency-body\0" + credential.encode() + b"\0" + key.encode()).digest()


def seal_body(credential: str, key: str, body: bytes) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(_body_key(credential, key)).encrypt(nonce, body, None)).decode()


def open_body(credential: str, key: str, sealed: str) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.b64decode(sealed)
    return AESGCM(_body_key(credential, key)).decrypt(raw[:12], raw[12:], None)


TTL = timedelta(hours=24)
LEASE = timedelta(seconds=60)  # an in-flight record older than this was abandoned by a dead worker
NOT_STORED = {400, 401, 403, 422, 429}
REPLAYED_HEADERS = {b"content-type", b"location", b"etag"}


def _json_error(status: int, code: str, message: str) -> tuple[int, bytes]:
    return status, json.dumps({"error": message, "code": code, "details": {}}).encode()


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, get_db):
        self.app = app
        self.get_db = get_db

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        key = None
        for name, value in scope["headers"]:
            if name == b"idempotency-key":
                key = value.decode("latin-1").strip()
        if not key:
            await self.app(scope, receive, send)
            return
        if len(key) > 255:
            await self._reply(send, *_json_error(400, "BAD_REQUEST", "Idempotency-Key is longer than 255 characters"))
            return

        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        credential = credential_of(scope) or "anonymous"
        scope_hash = hashlib.sha256(credential.encode()).hexdigest()
        request_hash = hashlib.sha256(scope["method"].encode() + b" " + scope["path"].encode() + b"\n" + body).hexdigest()

        db = self.get_db()
        outcome = await self._claim(db, scope_hash, key, request_hash, credential)
        if outcome is not None:
            status, headers, payload = outcome
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            return

        sent_body = False

        async def replay_receive() -> Message:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        captured: dict = {"chunks": []}

        async def capture_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                captured["chunks"].append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture_send)
        except BaseException:
            await self._forget(db, scope_hash, key)
            raise
        status = captured.get("status", 500)
        if status in NOT_STORED or status >= 500:
            await self._forget(db, scope_hash, key)
            return
        headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in captured.get("headers", []) if k.lower() in REPLAYED_HEADERS]
        async with db.session(system="idempotency") as session:
            await session.execute(
                update(IdempotencyRecord)
                .where(IdempotencyRecord.scope == scope_hash, IdempotencyRecord.key == key)
                .values(state="done", status_code=status, response_headers=headers,
                        response_body=seal_body(credential, key, b"".join(captured["chunks"])))
            )

    async def _claim(self, db, scope_hash: str, key: str, request_hash: str, credential: str):
        now = utcnow()
        async with db.session(system="idempotency") as session:
            await session.execute(delete(IdempotencyRecord).where(
                IdempotencyRecord.scope == scope_hash, IdempotencyRecord.key == key, IdempotencyRecord.expires_at < now))
        try:
            async with db.session(system="idempotency") as session:
                session.add(IdempotencyRecord(scope=scope_hash, key=key, request_hash=request_hash,
                                              locked_until=now + LEASE, expires_at=now + TTL))
            return None
        except IntegrityError:
            pass
        async with db.session(system="idempotency") as session:
            record = (await session.execute(select(IdempotencyRecord).where(
                IdempotencyRecord.scope == scope_hash, IdempotencyRecord.key == key))).scalar_one_or_none()
            if record is None:  # expired and removed between our two statements; treat as new
                session.add(IdempotencyRecord(scope=scope_hash, key=key, request_hash=request_hash,
                                              locked_until=now + LEASE, expires_at=now + TTL))
                return None
            if record.request_hash != request_hash:
                status, payload = _json_error(422, "IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with a different request")
                return status, [(b"content-type", b"application/json")], payload
            if record.state != "done":
                if record.locked_until > now:
                    status, payload = _json_error(409, "IDEMPOTENCY_KEY_IN_USE", "A request with this Idempotency-Key is still being processed")
                    return status, [(b"content-type", b"application/json"), (b"retry-after", b"1")], payload
                # Abandoned by a crashed worker: take it over with compare-and-set.
                taken = await session.execute(update(IdempotencyRecord).where(
                    IdempotencyRecord.id == record.id, IdempotencyRecord.state == "in_flight",
                    IdempotencyRecord.locked_until == record.locked_until).values(locked_until=now + LEASE))
                if taken.rowcount == 1:
                    return None
                status, payload = _json_error(409, "IDEMPOTENCY_KEY_IN_USE", "A request with this Idempotency-Key is still being processed")
                return status, [(b"content-type", b"application/json")], payload
            headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in record.response_headers]
            headers.append((b"idempotent-replayed", b"true"))
            body = open_body(credential, key, record.response_body) if record.response_body else b""
            return record.status_code, headers, body

    async def _forget(self, db, scope_hash: str, key: str) -> None:
        async with db.session(system="idempotency") as session:
            await session.execute(delete(IdempotencyRecord).where(
                IdempotencyRecord.scope == scope_hash, IdempotencyRecord.key == key))

    async def _reply(self, send: Send, status: int, payload: bytes) -> None:
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": payload})
