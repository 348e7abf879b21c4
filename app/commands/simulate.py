"""`ctower simulate`: run the demo estate's source systems; `ctower simulate fault ...`.

    ctower simulate [--port N] [--drop-dir DIR] [--backfill-days N] [--speed X] [--seed N]
                    [--stores N] [--skus N] [--dcs N] [--fault KIND:TARGET[:k=v,...]]...
                    [--sources-file PATH] [--database-url URL]
    ctower simulate fault set KIND TARGET [--for-seconds S | --until T] [--share X]
                    [--hours H] [--ms N] [--minutes M] [--url URL]
    ctower simulate fault clear [KIND [TARGET]] [--url URL]
    ctower simulate fault list [--url URL]

The simulator backfills the days asked as fast as it can, then follows the wall clock at
`--speed` (it never runs ahead of the wall clock unless --speed is above 1) until Ctrl-C.
"""

from __future__ import annotations

import argparse
import threading
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

from app.commands import UsageError

DEFAULT_PORT = 8765


def _at_least(low: float, kind: type = int) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


def register(subparsers: Any, common_parent: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the `simulate` command (and `simulate fault ...`) to `subparsers`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "simulate",
        parents=[common_parent],
        help="run the simulated retail estate's systems (OMS, WMS, ERP, POS, marketplace, middleware)",
    )
    parser.add_argument("--port", type=_at_least(0), default=DEFAULT_PORT, help=f"HTTP port ({DEFAULT_PORT})")
    parser.add_argument("--drop-dir", metavar="DIR", help="where POS and marketplace files are dropped")
    parser.add_argument(
        "--backfill-days", type=_at_least(0, float), default=0.0, metavar="N", help="days of history first"
    )
    parser.add_argument(
        "--speed",
        type=_at_least(0.001, float),
        default=1.0,
        metavar="X",
        help="simulated seconds per wall second when live (above 1 runs ahead of the wall clock)",
    )
    parser.add_argument("--seed", type=int, default=7, help="the estate's seed (7)")
    parser.add_argument("--stores", type=_at_least(1), default=300, metavar="N")
    parser.add_argument("--skus", type=_at_least(1), default=2000, metavar="N")
    parser.add_argument("--dcs", type=_at_least(1), default=2, metavar="N")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND:TARGET[:k=v,...]",
        help="a fault from the start, e.g. down:oms or late:wms:hours=3,share=0.2 (repeatable)",
    )
    parser.add_argument("--sources-file", metavar="PATH", help="also write the demo sources (TOML) here")
    commands = parser.add_subparsers(dest="sim_command", required=False)
    fault = commands.add_parser("fault", help="switch faults of a running simulator")
    actions = fault.add_subparsers(dest="fault_command", required=True)
    url_help = f"the simulator (default http://127.0.0.1:{DEFAULT_PORT})"
    set_ = actions.add_parser("set", help="switch a fault on")
    set_.add_argument(
        "kind", help="down, slow, error_burst, duplicate, late, malformed, clock_skew, partial_file"
    )
    set_.add_argument("target", help="a system (oms, wms, erp, pos, marketplace, middleware) or an interface")
    set_.add_argument("--for-seconds", type=float, metavar="S", help="simulated seconds it lasts")
    set_.add_argument("--until", metavar="T", help="simulated time it ends (RFC 3339)")
    for name in ("share", "hours", "ms", "minutes"):
        set_.add_argument(f"--{name}", type=float)
    clear = actions.add_parser("clear", help="switch faults off (all, of a kind, or of a kind and target)")
    clear.add_argument("kind", nargs="?")
    clear.add_argument("target", nargs="?")
    actions.add_parser("list", help="the faults in force")
    for sub in (set_, clear, actions.choices["list"]):
        sub.add_argument("--url", default=f"http://127.0.0.1:{DEFAULT_PORT}", help=url_help)
    return parser


def run_simulate(args: argparse.Namespace) -> int:
    if getattr(args, "sim_command", None) == "fault":
        return _run_fault(args)
    return _run_service(args)


# --- the service -----------------------------------------------------------------------


def _run_service(args: argparse.Namespace) -> int:
    from app.settings import load_settings
    from simulator.faults import parse_spec
    from simulator.service import SimConfig, Simulator, wall_clock
    from simulator.sources import write_sources_toml

    now = wall_clock()
    try:
        faults = tuple(parse_spec(spec, now) for spec in args.fault)
    except ValueError as exc:
        raise UsageError(f"--fault: {exc}") from None
    drop_dir = Path(args.drop_dir) if args.drop_dir else Path(load_settings().data_dir) / "sim-drop"
    config = SimConfig(
        stores=args.stores,
        dcs=args.dcs,
        skus=args.skus,
        seed=args.seed,
        backfill_days=args.backfill_days,
        speed=args.speed,
        faults=faults,
    )
    sim = Simulator(args.database_url, drop_dir, port=args.port, config=config)
    try:
        sim.start()
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{args.port} ({exc.strerror or exc})") from None
    try:
        print(f"simulator at {sim.base_url}; files dropped in {drop_dir.resolve()}", flush=True)
        if args.sources_file:
            path = write_sources_toml(args.sources_file, sim.base_url, drop_dir)
            print(f"sources written to {path}", flush=True)
        _backfill(sim)
        print(f"live from {sim.now.isoformat()} at speed {args.speed:g}; Ctrl-C to stop", flush=True)
        sim.run_live(threading.Event())
    except KeyboardInterrupt:
        print(f"stopped at simulated {sim.now.isoformat()}", flush=True)
    finally:
        sim.stop()
    return 0


def _backfill(sim: Any) -> None:
    target = sim.clock().replace(microsecond=0)  # the simulated clock counts whole seconds
    if sim.now >= target:
        return
    print(f"backfilling from {sim.now.isoformat()} to {target.isoformat()}", flush=True)
    total = 0
    while sim.now < target:
        total += sim.step(min(sim.now + timedelta(days=1), target))
        print(f"  {sim.now:%Y-%m-%d %H:%M}: {total:,} records published", flush=True)


# --- faults of a running simulator -----------------------------------------------------


def _call(method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    data = orjson.dumps(body) if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return orjson.loads(answer.read())
    except urllib.error.HTTPError as exc:
        try:
            reason = orjson.loads(exc.read()).get("error", exc.reason)
        except Exception:
            reason = exc.reason
        raise UsageError(f"the simulator refused: {reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UsageError(
            f"no simulator answers at {url} ({reason}); start one with `ctower simulate`"
        ) from None


def _describe(fault: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={fault[k]:g}" for k in ("share", "hours", "ms", "minutes") if fault.get(k))
    until = f" until {fault['until']}" if fault.get("until") else ""
    return f"{fault['kind']} on {fault['target']}" + (f" ({params})" if params else "") + until


def _run_fault(args: argparse.Namespace) -> int:
    url = args.url.rstrip("/") + "/control/faults"
    if args.fault_command == "set":
        body: dict[str, Any] = {"fault": args.kind, "target": args.target}
        for name in ("for_seconds", "until", "share", "hours", "ms", "minutes"):
            if getattr(args, name) is not None:
                body[name] = getattr(args, name)
        answer = _call("POST", url, body)
        print(f"set: {_describe(answer['fault'])}")
    elif args.fault_command == "clear":
        query = "&".join(f"{k}={v}" for k, v in (("fault", args.kind), ("target", args.target)) if v)
        answer = _call("DELETE", url + (f"?{query}" if query else ""))
        print(f"cleared {answer['cleared']} fault(s)")
    else:
        faults = _call("GET", url)["faults"]
        print("\n".join(_describe(f) for f in faults) if faults else "no faults")
    return 0
