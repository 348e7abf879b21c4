"""`ctower demo`: the whole product on one machine, in one command.

1. the database: the embedded PostgreSQL (or DATABASE_URL), migrated, with one demo account
   a role (viewer, manager, manager2, admin) whose fresh passwords are printed;
2. the simulated estate (`ctower simulate`): backfills the last `--backfill-days` days as
   fast as it can, then runs live with the wall clock, serving its systems on 127.0.0.1;
3. the demo sources registered (OMS, WMS, middleware over HTTP; ERP tables over SQL; store
   POS and marketplace file drops), and the scheduler (`ctower scheduler`) collecting them;
4. the Streamlit app.

Each runs in a process of its own (collectors never run inside a page, and two cores are
used). Ctrl-C or SIGTERM, or any of them ending, stops all of them and the embedded server.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from app.commands import UsageError
from app.db import embedded
from app.db.engine import get_engine
from app.db.migrate import migrate
from app.settings import load_settings

ENTRY = Path(__file__).resolve().parents[1] / "streamlit_app.py"
STOP_GRACE_SECONDS = 20.0
SIM_START_SECONDS = 120.0


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    demo = subparsers.add_parser(
        "demo",
        parents=[common],
        help="database, simulated estate, collectors and the app, all in one",
    )
    demo.add_argument("--port", type=int, help="port of the app (default: $CTOWER_PORT, 8501)")
    demo.add_argument("--address", default="127.0.0.1", help="address to serve on (0.0.0.0: every interface)")
    demo.add_argument(
        "--backfill-days",
        type=float,
        default=14.0,
        metavar="N",
        help="days of history the simulator makes first (14)",
    )
    demo.add_argument("--stores", type=int, default=300, metavar="N", help="stores in the estate (300)")
    demo.add_argument("--skus", type=int, default=2000, metavar="N", help="SKUs in the estate (2000)")
    demo.add_argument("--seed", type=int, default=7, help="the estate's seed (7)")
    demo.add_argument(
        "--sim-port", type=int, default=0, metavar="N", help="the simulator's port (default: a free one)"
    )
    demo.add_argument(
        "--no-serve", action="store_true", help="everything but the app (the simulator and collectors)"
    )


def _free_port(address: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def _check(args: argparse.Namespace, port: int) -> None:
    if args.backfill_days < 0:
        raise UsageError(f"--backfill-days must be 0 or more, got {args.backfill_days:g}")
    if args.stores < 1 or args.skus < 1:
        raise UsageError("--stores and --skus must be at least 1")
    if not args.no_serve and not _is_free(args.address, port):
        raise UsageError(f"port {port} on {args.address} is in use; choose another with --port N")
    if args.sim_port and not _is_free("127.0.0.1", args.sim_port):
        raise UsageError(f"port {args.sim_port} is in use; choose another with --sim-port N")


def _is_free(address: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], seconds: float) -> bool:
    """Poll `url` until it answers 200 (True), the process ends or time runs out (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def _stop(processes: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    """Ask each child to stop (newest first), then wait; kill what does not stop in time."""
    for _name, process in reversed(processes):
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for name, process in reversed(processes):
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop within {STOP_GRACE_SECONDS:g} s; killed it", flush=True)
            process.kill()
            process.wait()


def _default_sigint() -> None:
    """In a child before it runs: SIGINT at its default, so the child can be asked to stop."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (a service manager, `kill`) stops the demo as Ctrl-C does


def _print_accounts(accounts: dict[str, str]) -> None:
    """The demo accounts and their passwords, shown once (they change at every start)."""
    roles = {"viewer": "viewer", "manager": "manager", "manager2": "manager (approves)", "admin": "admin"}
    print("Sign in with one of these demo accounts (new passwords at every start):", flush=True)
    for name, password in accounts.items():
        print(f"  {name:<9} {password}   {roles.get(name, '')}", flush=True)


def run_demo(args: argparse.Namespace) -> int:
    from app.auth.accounts import ensure_demo_users
    from collectors.config import register as register_sources
    from simulator.sources import demo_sources

    settings = load_settings()
    port = args.port or settings.port
    _check(args, port)
    signal.signal(signal.SIGTERM, _interrupt)
    # Ctrl-C even when started with SIGINT ignored (as a shell does for a background job)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    external = bool(args.database_url or settings.database_url)
    engine = get_engine(args.database_url)
    migrate(engine)
    url = engine.url.render_as_string(hide_password=False)
    sim_port = args.sim_port or _free_port()
    drop_dir = (Path(settings.data_dir) / "sim-drop").resolve()
    register_sources(engine, demo_sources(f"http://127.0.0.1:{sim_port}", drop_dir))
    accounts = ensure_demo_users(engine)  # one a role, fresh passwords each start
    engine.dispose()

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PYTHONUNBUFFERED": "1",
        "CTOWER_COMMANDS_URL": f"http://127.0.0.1:{sim_port}",  # the outbox sends to the simulator
    }
    ctower = [sys.executable, "-m", "app.cli"]
    simulate = [
        *ctower, "simulate", "--port", str(sim_port), "--drop-dir", str(drop_dir),
        "--backfill-days", f"{args.backfill_days:g}", "--stores", str(args.stores),
        "--skus", str(args.skus), "--seed", str(args.seed),
    ]  # fmt: skip
    streamlit = [
        sys.executable, "-m", "streamlit", "run", str(ENTRY),
        "--server.headless=true", f"--server.port={port}", f"--server.address={args.address}",
        "--browser.gatherUsageStats=false",
    ]  # fmt: skip
    processes: list[tuple[str, subprocess.Popen[bytes]]] = []
    try:
        # own sessions: a terminal's Ctrl-C reaches this process only, which stops each child once
        def start(name: str, command: list[str]) -> None:
            processes.append(
                (name, subprocess.Popen(command, env=env, start_new_session=True, preexec_fn=_default_sigint))
            )

        start("simulator", simulate)
        # the scheduler starts once the simulator serves (its schemas and folders exist then)
        if not _wait_until_serving(f"http://127.0.0.1:{sim_port}/health", processes[0][1], SIM_START_SECONDS):
            print("the simulator did not start; stopping the demo", flush=True)
            return 1
        start("scheduler", [*ctower, "scheduler"])
        if not args.no_serve:
            start("app", streamlit)
            print(f"Control Tower is at http://{args.address}:{port}  (Ctrl-C stops everything)", flush=True)
            _print_accounts(accounts)
        else:
            print("simulator and collectors running (Ctrl-C stops them)", flush=True)
        while True:
            for name, process in processes:
                if process.poll() is not None:
                    print(f"{name} ended (exit {process.returncode}); stopping the demo", flush=True)
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(processes)
        if not external:
            embedded.stop(settings.data_dir)
            print("stopped the embedded database", flush=True)
