"""One numbered migration history: `sql/migrations/NNNN_name.sql`, each applied once.

Applied under a session advisory lock, so two processes migrating at once take turns and
the second finds nothing left to do. Each migration runs in its own transaction together
with its row in `schema_migrations`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.db.engine import SQL_DIR

MIGRATIONS_DIR = SQL_DIR / "migrations"
LOCK_KEY = 0x63746F776572  # "ctower"

_CREATE_TABLE = sa.text(
    """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
    )
    """
)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = re.fullmatch(r"(\d{4})_(\w+)\.sql", path.name)
        if not match:
            raise ValueError(f"migration file {path.name} is not named NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError("two migrations share a number")
    return found


def migrate(engine: Engine, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply the migrations not applied yet; returns those applied now."""
    applied_now: list[Migration] = []
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
        conn.commit()
        try:
            with conn.begin():
                conn.execute(_CREATE_TABLE)
            done = {
                row.version: row.checksum
                for row in conn.execute(sa.text("SELECT version, checksum FROM schema_migrations"))
            }
            conn.commit()
            for migration in available(directory):
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise RuntimeError(
                            f"migration {migration.path.name} changed after it was applied; "
                            "add a new migration instead of editing an applied one"
                        )
                    continue
                with conn.begin():
                    conn.connection.driver_connection.execute(migration.sql)  # type: ignore[union-attr]  # plain SQL, no parameters
                    conn.execute(
                        sa.text(
                            "INSERT INTO schema_migrations (version, name, checksum) "
                            "VALUES (:version, :name, :checksum)"
                        ),
                        {
                            "version": migration.version,
                            "name": migration.name,
                            "checksum": migration.checksum,
                        },
                    )
                applied_now.append(migration)
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            conn.commit()
    return applied_now


def pending(engine: Engine, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    with engine.connect() as conn:
        exists = conn.execute(sa.text("SELECT to_regclass('schema_migrations') IS NOT NULL")).scalar()
        done = set()
        if exists:
            done = {r[0] for r in conn.execute(sa.text("SELECT version FROM schema_migrations"))}
    return [m for m in available(directory) if m.version not in done]
