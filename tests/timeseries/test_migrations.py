"""DDL files: naming, ordering, statement splitting."""

from __future__ import annotations

from xinex.timeseries.migrations import load_migrations, split_statements


def test_versions_are_ordered_and_contiguous():
    versions = [m.version for m in load_migrations()]
    assert versions == list(range(1, len(versions) + 1))
    assert {m.name for m in load_migrations()} >= {"check_results", "heartbeat_pings", "telemetry"}


def test_every_statement_is_idempotent():
    # Replicas may start at once and a run may stop between statements: each must be safe to repeat.
    for mig in load_migrations():
        for statement in mig.statements:
            upper = statement.upper()
            assert "IF NOT EXISTS" in upper or (upper.startswith("ALTER TABLE ") and " MODIFY SETTING " in upper), (
                mig.name, statement[:60])


def test_split_ignores_comments_and_trailing_semicolons():
    sql = "-- a comment; with a semicolon\nCREATE TABLE a (x UInt8);\n\nCREATE TABLE b (y UInt8) ;  \n-- end;\n"
    assert split_statements(sql) == ["CREATE TABLE a (x UInt8)", "CREATE TABLE b (y UInt8)"]


def test_telemetry_file_has_three_tables():
    telemetry = next(m for m in load_migrations() if m.name == "telemetry")
    assert len(telemetry.statements) == 3
