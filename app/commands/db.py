"""`ctower db url|start|stop|migrate|status`."""

from __future__ import annotations

import argparse

import sqlalchemy as sa

from app.db import embedded
from app.db.engine import get_engine, safe_url
from app.db.migrate import migrate, pending
from app.settings import load_settings


def run_db(args: argparse.Namespace) -> int:
    settings = load_settings()
    external = bool(args.database_url or settings.database_url)
    if args.db_command == "stop":
        if external:
            print("DATABASE_URL points at an external server; it is not ours to stop")
            return 0
        stopped = embedded.stop(settings.data_dir)
        print("stopped the embedded server" if stopped else "the embedded server was not running")
        return 0

    engine = get_engine(args.database_url)
    if args.db_command == "url":
        print(engine.url.render_as_string(hide_password=False))
    elif args.db_command in ("start", "migrate"):
        applied = migrate(engine)
        where = safe_url(engine.url.render_as_string(hide_password=False))
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in applied) or "none pending"
        print(f"database ready at {where}; migrations applied: {names}")
    elif args.db_command == "status":
        waiting = pending(engine)
        print(f"database: {safe_url(engine.url.render_as_string(hide_password=False))}")
        print(f"pending migrations: {len(waiting)}")
        if not waiting:
            with engine.connect() as conn:
                row = conn.execute(
                    sa.text(
                        "SELECT (SELECT count(*) FROM event_keys) AS events, "
                        "(SELECT count(*) FROM quarantine) AS quarantined, "
                        "(SELECT count(*) FROM ingest_batches) AS batches"
                    )
                ).one()
            print(f"events: {row.events}, quarantined: {row.quarantined}, ingest batches: {row.batches}")
    return 0
