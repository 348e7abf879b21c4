"""`ctower demo`: the database, demo data and the Streamlit app, all in one.

Starts the embedded PostgreSQL (or uses DATABASE_URL), migrates, loads generated demo
events into an empty store (the last 30 days, so the pages have something recent), then
serves the app until Ctrl-C, when it stops the app and the embedded server it started.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import sqlalchemy as sa

from app.db import embedded
from app.db.engine import get_engine
from app.db.migrate import migrate
from app.ingest.store import RunInfo, ingest_records
from app.settings import load_settings

ENTRY = Path(__file__).resolve().parents[1] / "streamlit_app.py"


def load_demo_events(engine: sa.Engine, count: int, now: datetime | None = None) -> int:
    """Ingest `count` generated events ending before `now` into an empty store; returns accepted."""
    from simulator.generate import generate_events

    with engine.connect() as conn:
        if conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM event_keys)")).scalar():
            return 0
    now = now or datetime.now(UTC)
    start = now - timedelta(days=35)
    events = generate_events(count, start=start.replace(microsecond=0), days=30)
    records = (
        (number, orjson.dumps(event))
        for number, event in enumerate(events, 1)
        if datetime.fromisoformat(event["time"]) <= now  # nothing from the future
    )
    counts = ingest_records(engine, records, RunInfo(origin="ctower demo", source_label="demo"))
    return counts.accepted


def run_demo(args: argparse.Namespace) -> int:
    settings = load_settings()
    external = bool(args.database_url or settings.database_url)
    engine = get_engine(args.database_url)
    migrate(engine)
    loaded = load_demo_events(engine, args.demo_events)
    print(f"demo data: {loaded} events loaded" if loaded else "demo data: the store already has events")
    if args.no_serve:
        return 0
    port = args.port or settings.port
    env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    command = [
        sys.executable, "-m", "streamlit", "run", str(ENTRY),
        "--server.headless=true", f"--server.port={port}", f"--server.address={args.address}",
        "--browser.gatherUsageStats=false",
    ]  # fmt: skip
    print(f"Control Tower is at http://{args.address}:{port}  (Ctrl-C stops it)", flush=True)
    app = subprocess.Popen(command, env=env)
    try:
        return app.wait()
    except KeyboardInterrupt:
        app.terminate()
        app.wait(timeout=10)
        return 0
    finally:
        if not external:
            embedded.stop(settings.data_dir)
            print("stopped the embedded database")
