"""The error catalog: every failure leaves as {"error", "code", "details"}, never a stack trace."""

from __future__ import annotations

import json
import logging

import fastapi
from xinex.kit.errors import CATALOG, error_response

from tests.conftest import assert_error
from tests.kit.conftest import client_for


async def test_validation_lists_every_bad_field(client, alice):
    r = await client.post("/api/v1/api-tokens", json={"name": "", "scopes": ["nope:read"], "expires_at": "soon",
                                                      "surprise": 1}, headers=alice.bearer)
    body = assert_error(r, 422, "VALIDATION_FAILED")
    assert set(body["details"]["fields"]) == {"name", "scopes", "expires_at", "surprise"}
    assert all(isinstance(msg, str) and msg for msg in body["details"]["fields"].values())


async def test_validation_of_query_and_path_parameters(client, alice):
    r = await client.get("/api/v1/api-tokens?page=0&per_page=1000", headers=alice.bearer)
    body = assert_error(r, 422, "VALIDATION_FAILED")
    assert set(body["details"]["fields"]) == {"page", "per_page"}
    r = await client.get("/api/v1/api-tokens/not-a-uuid", headers=alice.bearer)
    body = assert_error(r, 422, "VALIDATION_FAILED")
    assert set(body["details"]["fields"]) == {"token_id"}


async def test_missing_body_is_a_validation_error(client, alice):
    r = await client.post("/api/v1/api-tokens", headers=alice.bearer)
    body = assert_error(r, 422, "VALIDATION_FAILED")
    assert body["details"]["fields"]


async def test_malformed_json_is_422_in_catalog_format(client, alice):
    r = await client.post("/api/v1/api-tokens", content=b'{"name": "x", ',
                          headers={**alice.bearer, "Content-Type": "application/json"})
    body = assert_error(r, 422, "VALIDATION_FAILED")
    assert body["details"]["fields"] == {"body": body["details"]["fields"]["body"]}
    # A JSON value of the wrong shape is also a validation error, not a 500.
    r = await client.post("/api/v1/api-tokens", json=["a", "list"], headers=alice.bearer)
    assert_error(r, 422, "VALIDATION_FAILED")


async def test_unknown_route_is_404_in_catalog_format(client, alice):
    # Outside the API too, on the server's own surfaces (other root paths are the web app's: its SPA fallback).
    for path in ("/api/v1/no-such-thing", "/oauth/nothing-here", "/api/v2/me"):
        r = await client.get(path, headers=alice.bearer)
        body = assert_error(r, 404, "NOT_FOUND")
        assert body["error"] == "No such route" and body["details"]["path"] == path
        assert r.headers["content-type"].startswith("application/json")


async def test_wrong_method_is_405_with_allow(client, alice):
    r = await client.delete("/api/v1/me", headers=alice.bearer)
    assert_error(r, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in r.headers["allow"]
    r = await client.patch("/health")
    assert_error(r, 405, "METHOD_NOT_ALLOWED")


async def test_not_found_object_uses_catalog(client, alice):
    r = await client.get("/api/v1/api-tokens/00000000-0000-0000-0000-000000000000", headers=alice.bearer)
    assert_error(r, 404, "NOT_FOUND")


async def test_unexpected_exception_is_500_without_stack_trace(build_app, caplog):
    throwaway = build_app()

    @throwaway.get("/api/__test__/boom")  # under /api: root paths are the web app's catch-all
    async def boom():
        raise RuntimeError("secret internals at /srv/xinex/db.py line 42")

    with caplog.at_level(logging.ERROR, logger="xinex"):
        async with client_for(throwaway, raise_app_exceptions=False) as c:
            r = await c.get("/api/__test__/boom", headers={"X-Request-Id": "trace-me-500"})
    body = assert_error(r, 500, "INTERNAL_ERROR")
    assert body["error"] == CATALOG["INTERNAL_ERROR"][1]
    assert "Traceback" not in r.text and "secret internals" not in r.text and "RuntimeError" not in r.text
    # The contract headers are there on a 500 too, so the request id can be quoted to support.
    assert r.headers["x-request-id"] == "trace-me-500"
    assert r.headers["x-ratelimit-limit"]
    # ...and the operator's log has the exception, keyed by that id.
    assert any(rec.exc_info and "secret internals" in str(rec.exc_info[1]) for rec in caplog.records)


async def test_unexpected_exception_in_post_is_500_and_not_stored_for_idempotency(build_app, alice):
    throwaway = build_app()
    calls = []

    @throwaway.post("/__test__/flaky")
    async def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("first call fails")
        return {"ok": True}

    async with client_for(throwaway, raise_app_exceptions=False) as c:
        h = {**alice.bearer, "Idempotency-Key": "flaky-1"}
        assert_error(await c.post("/__test__/flaky", json={}, headers=h), 500, "INTERNAL_ERROR")
        r = await c.post("/__test__/flaky", json={}, headers=h)
        assert r.status_code == 200 and r.json() == {"ok": True}
    assert len(calls) == 2


def test_docs_list_every_catalog_code():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "errors.md").read_text()
    for code, (status, _) in CATALOG.items():
        assert f"| `{code}` | {status} |" in doc, code


async def test_openapi_documents_error_responses(client):
    spec = (await client.get("/openapi.json")).json()
    create = spec["paths"]["/api/v1/api-tokens"]["post"]["responses"]
    assert {"401", "403", "422"} <= set(create)
    assert "ErrorBody" in str(create["401"])


async def test_client_disconnect_is_not_an_internal_error(build_app, caplog):
    """A client that hangs up mid-body gets no 500 and leaves no error trace in the log."""
    app = build_app()

    @app.post("/api/v1/_test/read-body")
    async def read_body(request: fastapi.Request):
        await request.body()
        return {"ok": True}

    messages = [{"type": "http.request", "body": b"{", "more_body": True}, {"type": "http.disconnect"}]
    sent: list[dict] = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/v1/_test/read-body", "raw_path": b"/api/v1/_test/read-body",
             "query_string": b"", "headers": [(b"content-type", b"application/json")], "client": ("127.0.0.1", 1),
             "server": ("testserver", 80), "scheme": "http", "http_version": "1.1", "root_path": ""}
    with caplog.at_level("ERROR"):
        await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 400, [m for m in sent if m["type"] == "http.response.body"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_an_error_echoing_an_unpaired_surrogate_is_still_sent():
    # The details may quote what the client sent; a lone surrogate cannot be UTF-8 encoded.
    response = error_response(422, "VALIDATION_FAILED", "The request did not validate",
                              {"fields": {"name": "bad value 'a\ud800'"}})
    body = json.loads(response.body)  # valid JSON, the value as the client wrote it
    assert body["details"]["fields"]["name"] == "bad value 'a\ud800'"
    assert body["code"] == "VALIDATION_FAILED"


def test_sqlite_database_is_locked_is_a_retryable_503_not_a_500(tmp_path):
    """Embedded SQLite under a write burst: a writer that cannot get the lock (a read snapshot taken before
    the write gate, found stale) nothing was written, and the client should retry — 503, not 500."""
    import sqlite3

    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError
    from xinex.kit.errors import unavailable_dependency

    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the database
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
    except OperationalError as exc:
        assert "database is locked" in str(exc)
        assert unavailable_dependency(exc) == "database"
    else:
        raise AssertionError("the insert should have met the lock")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        engine.dispose()
    # Any other operational error stays a 500 (a bug to fix, not a retry).
    other = OperationalError("SELECT nope", {}, sqlite3.OperationalError("no such table: nope"))
    assert unavailable_dependency(other) is None
