"""The exports of an incident review: Markdown, and one self-contained HTML page to print.

Both carry the same sections: the record, the impact figures, the orders, positions,
failure windows, exceptions and actions behind them, the notes, and the combined timeline
(as a table: a printed report has no hover). The HTML page needs nothing from the network
(inline CSS, no scripts), so "Print → Save as PDF" in a browser gives the report.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import polars as pl

from app.incidents.review import Review

TIMELINE_ROWS = 500  # a printed report lists at most this many timeline rows

FIGURES: tuple[tuple[str, str], ...] = (
    ("orders", "Orders affected"),
    ("breached", "Orders breached"),
    ("units", "Units ordered"),
    ("value", "Order value"),
    ("breached_value", "Value of breached orders"),
    ("unpriced_lines", "Order lines without price"),
    ("positions", "Positions"),
    ("position_units", "Position units (reference system)"),
    ("position_value", "Position value at cost"),
    ("value_affected", "Value affected (orders + positions)"),
    ("interfaces_down", "Interfaces / sources down"),
    ("failure_windows", "Failure windows"),
    ("down_seconds", "Time down"),
    ("exceptions", "Exceptions"),
    ("actions", "Actions taken"),
)
MONEY = {"value", "breached_value", "position_value", "value_affected"}


def when(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value.utcoffset() is not None else value.isoformat()
    return str(value)


def duration(seconds: float) -> str:
    """'2 h 05 min', '45 min', '45 min 10 s', '12 s'."""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s" if secs else f"{minutes} min"
    return f"{secs} s"


def figure_text(name: str, value: Any) -> str:
    if name == "down_seconds":
        return duration(float(value))
    if name in MONEY:
        return f"{float(value):,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, float):
        return f"{value:,.2f}"
    if value is None:
        return ""
    return str(value)


def sections(review: Review) -> list[tuple[str, list[str], list[list[str]]]]:
    """The report's tables: (title, header, rows), texts ready to print."""
    impact = review.impact
    out: list[tuple[str, list[str], list[list[str]]]] = [
        ("Impact", ["Figure", "Value"], [[label, figure_text(k, impact.figures[k])] for k, label in FIGURES]),
        ("Entities", ["Kind", "Key"], [[e.kind, e.key] for e in review.incident.entities]),
    ]

    def table(title: str, frame: pl.DataFrame, columns: Sequence[str]) -> None:
        present = [c for c in columns if c in frame.columns]
        rows = [[_cell(r[c]) for c in present] for r in frame.iter_rows(named=True)]
        out.append((title, list(present), rows))

    table(
        "Orders",
        impact.orders,
        (
            "order_id",
            "via",
            "channel",
            "created_at",
            "promised_by",
            "delivered_at",
            "cancelled",
            "breached",
            "units",
            "value",
        ),
    )
    table(
        "Positions",
        impact.positions,
        ("position", "reference_quantity", "units", "unit_cost", "value", "quantities"),
    )
    windows = (
        impact.windows.with_columns(
            pl.col("seconds").map_elements(duration, return_dtype=pl.String).alias("down for")
        )
        if impact.windows.height
        else impact.windows.with_columns(pl.lit("").alias("down for"))
    )
    table(
        "Failure windows",
        windows,
        ("entity_kind", "entity_key", "started_at", "recovered_at", "down for", "failed_calls"),
    )
    table(
        "Exceptions",
        impact.exceptions,
        ("key", "severity", "status", "first_seen", "last_seen", "resolved_by"),
    )
    table(
        "Actions taken",
        impact.actions,
        ("at", "actor", "role", "action", "entity_kind", "entity_key", "reason"),
    )
    out.append(
        (
            "Notes",
            ["At", "Author", "Note"],
            [[when(n["at"]), n["author"], n["text"]] for n in review.incident.notes],
        )
    )
    table("Timeline", review.timeline.head(TIMELINE_ROWS), ("time", "lane", "entity", "what", "detail"))
    table("Incident log", review.log, ("at", "actor", "action", "reason"))
    return out


def _header(review: Review) -> list[tuple[str, str]]:
    i = review.incident
    closed = f"{when(i.closed_at)} by {i.closed_by}" if i.closed else ""
    return [
        ("Status", i.status),
        ("Opened", f"{when(i.opened_at)} by {i.opened_by}"),
        *([("Closed", closed)] if closed else []),
        ("Range", f"{when(i.range_from)} to {when(i.range_to)}"),
        ("Opened from exception", i.exception_key or ""),
        ("Figures as of", when(review.impact.as_of)),
    ]


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(review: Review) -> str:
    """The review as Markdown (GitHub tables)."""
    i = review.incident
    lines = [f"# Incident {i.incident_id}: {i.title}", ""]
    lines += [f"- **{k}:** {v}" for k, v in _header(review) if v]
    if i.summary:
        lines += ["", "## Summary", "", i.summary]
    for title, header, rows in sections(review):
        lines += ["", f"## {title}", ""]
        if not rows:
            lines.append("None.")
            continue
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em; color: #1d1d1f; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; font-size: .85em; margin-top: .5em; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } dl { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }
dt { font-weight: 600; } .none { color: #777; } .summary { white-space: pre-wrap; }
@media print { body { margin: 0; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
"""


def html_report(review: Review) -> str:
    """The review as one self-contained HTML page (inline CSS, no scripts), to print to PDF."""
    e = html.escape
    i = review.incident
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Incident {i.incident_id}: {e(i.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Incident {i.incident_id}: {e(i.title)}</h1>",
        "<dl>" + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in _header(review) if v) + "</dl>",
    ]
    if i.summary:
        parts.append(f'<h2>Summary</h2><p class="summary">{e(i.summary)}</p>')
    for title, header, rows in sections(review):
        parts.append(f"<h2>{e(title)}</h2>")
        if not rows:
            parts.append('<p class="none">None.</p>')
            continue
        head = "".join(f"<th>{e(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
