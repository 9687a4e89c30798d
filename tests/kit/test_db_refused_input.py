"""Input the database cannot hold answers 422 VALIDATION_FAILED, never a 500.

Schemas bound their fields (NulFreeStr, UTCInstant); this is the back-stop for a field that
forgot to: a NUL in a string (PostgreSQL text and JSONB refuse it), a number outside the column's
range, a time whose UTC equivalent leaves the calendar. A database failure that is not about the
caller's data still answers the catalog's 500.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from sqlalchemy import select, text
from xinex.kit.db import SessionDep
from xinex.kit.types import UTCInstant
from xinex.models.tenant import Tenant

from tests.conftest import assert_error
from tests.kit.conftest import client_for


def _app_with_probe_routes(build_app):
    application = build_app()

    @application.get("/api/v1/_probe/tenant-by-slug")
    async def by_slug(slug: str, session: SessionDep):  # deliberately a bare str: no NoNul
        row = (await session.execute(select(Tenant).where(Tenant.slug == slug))).scalar_one_or_none()
        return {"found": row is not None}

    @application.get("/api/v1/_probe/int")
    async def as_int(value: int, session: SessionDep):  # deliberately unbounded
        return {"value": (await session.execute(text("SELECT CAST(:v AS integer)"), {"v": value})).scalar_one()}

    @application.get("/api/v1/_probe/json")
    async def as_jsonb(value: str, session: SessionDep):
        row = await session.execute(text("SELECT CAST(:v AS jsonb)"), {"v": '{"a": "' + value + '"}'})
        return {"value": row.scalar_one()}

    @application.get("/api/v1/_probe/broken")
    async def broken(session: SessionDep):
        await session.execute(text("SELECT * FROM no_such_table_here"))

    @application.get("/api/v1/_probe/instant")
    async def instant(at: Annotated[UTCInstant, Query()]):
        return {"at": at.isoformat()}

    return application


async def test_nul_in_a_string_is_422_not_500(build_app):
    async with client_for(_app_with_probe_routes(build_app), raise_app_exceptions=False) as c:
        ok = await c.get("/api/v1/_probe/tenant-by-slug", params={"slug": "no-such-slug"})
        assert ok.status_code == 200 and ok.json() == {"found": False}
        r = await c.get("/api/v1/_probe/tenant-by-slug", params={"slug": "a\x00b"})
        body = assert_error(r, 422, "VALIDATION_FAILED")
        assert "NUL" in body["details"]["fields"]["request"]
        # JSONB refuses the \u0000 escape with another SQLSTATE (22P05): same answer.
        r = await c.get("/api/v1/_probe/json", params={"value": "\\u0000"})
        assert_error(r, 422, "VALIDATION_FAILED")


async def test_number_out_of_the_columns_range_is_422(build_app):
    async with client_for(_app_with_probe_routes(build_app), raise_app_exceptions=False) as c:
        assert (await c.get("/api/v1/_probe/int", params={"value": "7"})).json() == {"value": 7}
        # Refused by PostgreSQL (integer out of range) and, past 64 bits, by the driver itself.
        assert_error(await c.get("/api/v1/_probe/int", params={"value": str(2**40)}), 422, "VALIDATION_FAILED")
        assert_error(await c.get("/api/v1/_probe/int", params={"value": str(2**70)}), 422, "VALIDATION_FAILED")


async def test_other_database_failures_stay_a_catalog_500(build_app, caplog):
    async with client_for(_app_with_probe_routes(build_app), raise_app_exceptions=False) as c:
        r = await c.get("/api/v1/_probe/broken")
    assert_error(r, 500, "INTERNAL_ERROR")
    assert "no_such_table_here" not in r.text


async def test_time_without_a_utc_equivalent_is_422(build_app):
    async with client_for(_app_with_probe_routes(build_app), raise_app_exceptions=False) as c:
        ok = await c.get("/api/v1/_probe/instant", params={"at": "9999-12-31T09:00:00-14:00"})
        assert ok.status_code == 200 and ok.json() == {"at": "9999-12-31T23:00:00+00:00"}
        for value in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"):
            r = await c.get("/api/v1/_probe/instant", params={"at": value})
            body = assert_error(r, 422, "VALIDATION_FAILED")
            assert set(body["details"]["fields"]) == {"at"}
