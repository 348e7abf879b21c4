"""`ctower metrics [--since T] [--until T] [--as-of T] [--json]` (contracts/METRICS.md)."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from app.commands import UsageError
from app.db.engine import get_engine
from app.db.migrate import migrate


def parse_instant(text: str) -> datetime:
    """An RFC 3339 instant with an offset, for argparse (`Z` accepted)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a timestamp: {text!r} (e.g. 2026-11-20T00:00:00Z)") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs an offset, e.g. {text}Z or {text}+01:00")
    return value


def _format(key: str, value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1%}" if key.endswith("rate") else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render_table(figures: dict[str, Any]) -> str:
    lines = [f"as of {figures['as_of']}, window [{figures['since']}, {figures['until']})", ""]
    for family, values in figures.items():
        if not isinstance(values, dict) or family == "policies":
            continue
        cells = "  ".join(f"{key} {_format(key, value)}" for key, value in values.items())
        lines.append(f"{family:<13} {cells}")
    return "\n".join(lines)


def run_metrics(args: argparse.Namespace) -> int:
    from app.cli import print_json
    from metrics.params import Scope, Window
    from metrics.policies import PolicyError
    from metrics.policies import load as load_policies
    from metrics.summary import compute

    try:
        window = Window.of(as_of=args.as_of, since=args.since, until=args.until)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    engine = get_engine(args.database_url)
    migrate(engine)
    try:
        with engine.connect() as conn:
            policies = load_policies(conn)  # the stored overrides over the defaults
    except PolicyError as exc:
        raise UsageError(str(exc)) from None
    scope = Scope(region=args.region, channel=args.channel, node=args.node, source=args.source)
    figures = compute(engine, window, policies, scope=scope)
    # the values that produced these figures; "scoped": the overrides per channel, node kind
    # or interface, {policy: {scope value: value}} ({} for a policy without any)
    figures["policies"] = {**policies.params(), "scoped": policies.scoped_json()}
    if args.json:
        print_json(figures)
    else:
        print(render_table(figures))
    return 0
