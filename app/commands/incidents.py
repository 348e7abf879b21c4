"""`ctower incidents list|show ID|open --from-exception KEY|export ID --format md|html -o FILE`.

`list` prints the incidents (open first, newest first); `show ID` one incident's review
(record, impact figures, failure windows, notes) as of --as-of (default now); `open` opens
one from an exception of the queue (its entity, its first..last seen widened by
--margin-minutes, default 60) or from entities (--entity KIND:KEY ..., with --from and --to),
as the operating-system user (audit role `cli`); `export` writes the review as Markdown or
as a self-contained HTML page to print. With --json, `list`, `show` and `open` print JSON.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from app.commands import UsageError
from app.commands.metrics import parse_instant

FORMATS = ("md", "html")


def register(subparsers: Any, common_parent: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the `incidents` command to `subparsers` (with --database-url from `common_parent`)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "incidents", help="incident reviews: list, show, open, export"
    )
    sub = parser.add_subparsers(dest="incidents_command", required=True, parser_class=type(parser))

    listing = sub.add_parser("list", parents=[common_parent], help="the incidents, open first")
    listing.add_argument("--status", choices=("open", "closed"), help="only open or closed ones")
    listing.add_argument("--json", action="store_true", help="print a JSON list")

    show = sub.add_parser("show", parents=[common_parent], help="one incident's review")
    show.add_argument("incident_id", type=_incident_id, metavar="ID")
    show.add_argument("--as-of", type=parse_instant, metavar="T", help="figures as of T (default: now)")
    show.add_argument("--json", action="store_true", help="print one JSON object")

    opening = sub.add_parser("open", parents=[common_parent], help="open an incident")
    opening.add_argument("--from-exception", metavar="KEY", help="the exception's key (type:entity)")
    opening.add_argument(
        "--entity", action="append", default=[], metavar="KIND:KEY", help="an entity (repeatable)"
    )
    opening.add_argument("--title", help="the title (default: from the exception)")
    opening.add_argument("--from", dest="range_from", type=parse_instant, metavar="T", help="range start")
    opening.add_argument(
        "--to", dest="range_to", type=parse_instant, metavar="T", help="range end (exclusive)"
    )
    opening.add_argument(
        "--margin-minutes",
        type=_minutes,
        default=60,
        metavar="N",
        help="widen the exception's span (default 60)",
    )
    opening.add_argument("--json", action="store_true", help="print the new incident as JSON")

    export = sub.add_parser("export", parents=[common_parent], help="write the review as Markdown or HTML")
    export.add_argument("incident_id", type=_incident_id, metavar="ID")
    export.add_argument("--format", choices=FORMATS, default="md", help="md (default) or html")
    export.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="the file to write ('-': stdout)"
    )
    export.add_argument("--as-of", type=parse_instant, metavar="T", help="figures as of T (default: now)")
    return parser


def _incident_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"an incident id is a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"an incident id is at least 1, got {value}")
    return value


def _minutes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of minutes: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"the margin cannot be negative, got {value}")
    return value


def _iso(value: Any) -> Any:
    return value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value


def run_incidents(args: argparse.Namespace) -> int:
    from app.db.engine import get_engine
    from app.db.migrate import migrate
    from app.incidents.records import IncidentError

    engine = get_engine(args.database_url)
    migrate(engine)
    try:
        return {"list": _list, "show": _show, "open": _open, "export": _export}[args.incidents_command](
            engine, args
        )
    except IncidentError as exc:
        raise UsageError(str(exc)) from None


def _list(engine: Any, args: argparse.Namespace) -> int:
    from app.cli import print_json
    from app.incidents import records

    with engine.connect() as conn:
        rows = records.list_incidents(conn, args.status)
    if args.json:
        print_json([{k: _iso(v) for k, v in r.items()} for r in rows])
        return 0
    if not rows:
        print("no incidents")
    for r in rows:
        print(
            f"{r['incident_id']:>5}  {r['status']:<6}  {r['title']}  "
            f"({_iso(r['range_from'])} to {_iso(r['range_to'])}; "
            f"{r['entities']} entities, {r['notes']} notes; "
            f"opened by {r['opened_by']} {_iso(r['opened_at'])})"
        )
    return 0


def _review(engine: Any, incident_id: int, as_of: datetime | None) -> Any:
    from app.incidents.review import load
    from metrics import policies as stored

    with engine.connect() as conn:
        return load(conn, incident_id, as_of=as_of, policies=stored.load(conn))


def _show(engine: Any, args: argparse.Namespace) -> int:
    from app.cli import print_json
    from app.incidents.report import FIGURES, duration, figure_text

    review = _review(engine, args.incident_id, args.as_of)
    i = review.incident
    if args.json:
        print_json(
            {
                **{k: _iso(v) for k, v in i.as_dict().items()},
                "opened_by": i.opened_by,
                "opened_at": _iso(i.opened_at),
                "closed_at": _iso(i.closed_at),
                "as_of": _iso(review.impact.as_of),
                "impact": review.impact.figures,
                "windows": [{k: _iso(v) for k, v in w.items()} for w in review.impact.windows.to_dicts()],
                "notes": [{k: _iso(v) for k, v in n.items()} for n in i.notes],
            }
        )
        return 0
    print(f"Incident {i.incident_id}: {i.title} [{i.status}]")
    print(f"range {_iso(i.range_from)} to {_iso(i.range_to)}; figures as of {_iso(review.impact.as_of)}")
    print("entities: " + (", ".join(str(e) for e in i.entities) or "none"))
    for key, label in FIGURES:
        print(f"  {label:<38} {figure_text(key, review.impact.figures[key])}")
    for w in review.impact.windows.iter_rows(named=True):
        end = _iso(w["recovered_at"]) if w["recovered_at"] else f"{_iso(w['ended_at'])} (not recovered)"
        print(
            f"  down {w['entity_kind']} {w['entity_key']}: {_iso(w['started_at'])} to {end}, "
            f"{duration(w['seconds'])}"
        )
    for n in i.notes:
        print(f"  note {_iso(n['at'])} {n['author']}: {n['text']}")
    return 0


def _open(engine: Any, args: argparse.Namespace) -> int:
    from app.auth.accounts import cli_actor
    from app.cli import print_json
    from app.incidents import records

    entities = [records.Entity.parse(text) for text in args.entity]
    with engine.begin() as conn:
        if args.from_exception:
            if args.range_from or args.range_to:
                raise UsageError("--from/--to do not go with --from-exception (use --margin-minutes)")
            incident_id = records.open_from_exception(
                conn,
                cli_actor(),
                args.from_exception,
                title=args.title,
                margin=timedelta(minutes=args.margin_minutes),
            )
            if entities:
                records.attach(conn, cli_actor(), incident_id, entities)
        else:
            if not entities or args.range_from is None or args.range_to is None or not args.title:
                raise UsageError(
                    "open needs --from-exception KEY, or --title, --entity KIND:KEY, --from and --to"
                )
            incident_id = records.open_incident(
                conn,
                cli_actor(),
                title=args.title,
                range_from=args.range_from,
                range_to=args.range_to,
                entities=entities,
            )
        incident = records.get(conn, incident_id)
    if args.json:
        print_json({k: _iso(v) for k, v in incident.as_dict().items()})
    else:
        print(
            f"opened incident {incident_id}: {incident.title} "
            f"({_iso(incident.range_from)} to {_iso(incident.range_to)}; "
            + ", ".join(str(e) for e in incident.entities)
            + ")"
        )
    return 0


def _export(engine: Any, args: argparse.Namespace) -> int:
    from app.incidents.report import html_report, markdown
    from app.ingest.reader import InputError

    review = _review(engine, args.incident_id, args.as_of)
    text = markdown(review) if args.format == "md" else html_report(review)
    if args.output == "-":
        print(text, end="")
        return 0
    path = Path(args.output)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    print(f"wrote incident {args.incident_id} as {args.format} to {path} ({len(text.encode()):,} bytes)")
    return 0
