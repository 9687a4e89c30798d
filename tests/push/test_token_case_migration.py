"""Migration 0095: APNs device tokens stored in lower case; the rows one phone got by sending its token in
two spellings become one (the most recently registered kept). On the embedded SQLite."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from xinex.migrate import alembic_config

from alembic import command


def test_apns_tokens_are_lower_cased_and_spellings_merged(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0090_push")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    tenant, user = uuid.uuid4().hex, uuid.uuid4().hex
    now = datetime(2026, 12, 1, tzinfo=UTC)
    token = "ab" * 32
    rows = [  # (id, token, platform, registered): the upper-case spelling is the newer one
        (uuid.uuid4().hex, token, "ios", now),
        (uuid.uuid4().hex, token.upper(), "ios", now + timedelta(hours=1)),
        (uuid.uuid4().hex, "CD" * 32, "ios", now),
        (uuid.uuid4().hex, "fAbc:APA91b" + "X" * 40, "android", now),
    ]
    with engine.begin() as c:  # foreign keys are off on this plain connection: no tenant or user rows needed
        for row_id, value, platform, registered in rows:
            c.execute(sa.text(
                "INSERT INTO push_tokens (id, created_at, updated_at, tenant_id, user_id, token, platform, "
                "apns_environment, critical_alerts, last_registered_at) VALUES (:id, :now, :now, :tenant, :user, "
                ":token, :platform, 'production', 0, :registered)"),
                {"id": row_id, "now": now, "tenant": tenant, "user": user, "token": value, "platform": platform,
                 "registered": registered})
    command.upgrade(config, "0095_push_token_case")
    with engine.begin() as c:
        left = {r.id: r.token for r in c.execute(sa.text("SELECT id, token FROM push_tokens"))}
    engine.dispose()
    assert left == {rows[1][0]: token, rows[2][0]: "cd" * 32, rows[3][0]: rows[3][1]}
