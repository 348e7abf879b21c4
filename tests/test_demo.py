"""`ctower demo` runs the whole product: simulator, collectors and app, and stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell starts a background job


@pytest.mark.parametrize(
    ("stop", "started_ignoring_sigint"),
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["ctrl-c", "sigterm", "ctrl-c-in-a-background-job"],
)
def test_the_demo_collects_the_simulated_estate_serves_the_app_and_stops_on_a_signal(
    database_url: str, engine: sa.Engine, tmp_path: Path, stop: signal.Signals, started_ignoring_sigint: bool
) -> None:
    app_port, sim_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CTOWER_DATA_DIR": str(tmp_path / "data"),
        "CTOWER_SCHEDULER_SYNC_SECONDS": "2",
    }
    command = [
        sys.executable, "-m", "app.cli", "demo", "--backfill-days", "0.5", "--stores", "6",
        "--skus", "60", "--port", str(app_port), "--sim-port", str(sim_port),
    ]  # fmt: skip
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        demo = subprocess.Popen(
            command,
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_ignore_sigint if started_ignoring_sigint else None,
        )
        try:
            deadline = time.monotonic() + 150
            collected = 0
            while time.monotonic() < deadline and demo.poll() is None:
                with engine.connect() as conn:
                    collected = conn.execute(
                        sa.text("SELECT count(*) FROM events WHERE source <> 'ctower/collector'")
                    ).scalar_one()
                if collected and _answers(f"http://127.0.0.1:{app_port}/_stcore/health"):
                    break
                time.sleep(1)
            assert demo.poll() is None, log.read_text()[-3000:]
            assert collected > 0, "no simulated event was collected: " + log.read_text()[-3000:]
            assert _listening(sim_port)
            with engine.connect() as conn:
                sources = set(conn.execute(sa.text("SELECT name FROM sources")).scalars())
            assert {"oms", "wms", "middleware"} <= sources
        finally:
            demo.send_signal(stop)
            code = demo.wait(timeout=60)
    assert code == 0, log.read_text()[-3000:]
    assert not _listening(sim_port) and not _listening(app_port)


def test_the_demo_refuses_a_busy_port_with_one_line_before_starting_anything(
    database_url: str, tmp_path: Path
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "app.cli", "demo", "--port", str(port)],
            env={**os.environ, "DATABASE_URL": database_url, "CTOWER_DATA_DIR": str(tmp_path / "data")},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"ctower: error: port {port} on 127.0.0.1 is in use; choose another with --port N"
    )
