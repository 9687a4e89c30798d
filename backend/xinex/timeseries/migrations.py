"""Versioned ClickHouse DDL shipped in ./ddl, applied in order and recorded in schema_migrations.

Files are named NNNN_description.sql. Every statement must be idempotent (IF NOT EXISTS ...):
several replicas may start at once and the record is written after the statements run.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DDL_DIR = Path(__file__).parent / "ddl"
_FILE_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

# ReplacingMergeTree: two replicas recording the same version collapse to one row.
SCHEMA_MIGRATIONS_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations
(
    version    UInt32,
    name       String,
    checksum   String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version
"""


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    checksum: str
    statements: tuple[str, ...]


def split_statements(sql: str) -> list[str]:
    """Split a DDL file on ';' at line ends. DDL files keep string literals free of ';\\n',
    and '--' comments are dropped first so a ';' inside a comment does not split."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    parts = re.split(r";[ \t]*(?:\n|$)", "\n".join(lines))
    return [p.strip() for p in parts if p.strip()]


@lru_cache
def load_migrations(directory: Path = DDL_DIR) -> tuple[Migration, ...]:
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        m = _FILE_RE.match(path.name)
        if not m:
            raise MigrationError(f"badly named DDL file {path.name} (want NNNN_name.sql)")
        text = path.read_text(encoding="utf-8")
        found.append(
            Migration(
                version=int(m.group(1)),
                name=m.group(2),
                checksum=hashlib.sha256(text.encode()).hexdigest(),
                statements=tuple(split_statements(text)),
            )
        )
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate DDL versions in {directory}")
    return tuple(found)
