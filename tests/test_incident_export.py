"""Incident exports and the `ctower incidents` command, on the hand-built case of
tests/test_incident_impact.py (figures worked out there)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from app.auth.roles import Actor
from app.incidents import records
from app.incidents.records import Entity
from app.incidents.report import html_report, markdown
from app.incidents.review import load
from tests.test_incident_impact import AS_OF, ENTITIES, EVENTS, FROM, INTERFACE, TO, at, payload, seed

MARIA = Actor("maria", "manager")


@pytest.fixture
def incident(engine: Engine, ingest: Any) -> int:
    """The case stored, and an incident about its six entities with two notes."""
    assert ingest(payload()).accepted == len(EVENTS)
    with engine.begin() as conn:
        seed(conn)
        incident_id = records.open_incident(
            conn,
            MARIA,
            title="Pick interface down",
            range_from=FROM,
            range_to=TO,
            entities=[Entity(k, key) for k, key in ENTITIES],
            summary="WMS pick API failing",
        )
        records.add_note(conn, MARIA, incident_id, "WMS pick API returns 503 | retries pile up", at=at(12))
        records.add_note(conn, Actor("omar", "admin"), incident_id, "failover to DC-WEST done", at=at(13))
    return incident_id


def test_the_markdown_export_carries_the_figures_notes_and_entities(engine: Engine, incident: int) -> None:
    with engine.connect() as conn:
        text = markdown(load(conn, incident, as_of=AS_OF))
    assert text.startswith(f"# Incident {incident}: Pick interface down\n")
    for line in (
        "- **Range:** 2026-11-20 10:00:00 UTC to 2026-11-20 14:00:00 UTC",
        "- **Figures as of:** 2026-11-21 12:00:00 UTC",
        "| Orders affected | 3 |",
        "| Orders breached | 2 |",
        "| Units ordered | 8 |",
        "| Order value | 85.50 |",
        "| Position value at cost | 405.00 |",
        "| Value affected (orders + positions) | 490.50 |",
        "| Interfaces / sources down | 3 |",
        "| Failure windows | 6 |",
        "| Time down | 6 h 30 min |",
        "| Exceptions | 4 |",
        "| Actions taken | 2 |",
        "| delivery | oms.wms.create_pick\\|O-3 |",  # a | in a cell is escaped
        "| delivery | oms.wms.create_pick\\|O-3 | 2026-11-20 11:10:00 UTC |  | 2 h 50 min | 2 |",
        "| 2026-11-20 12:00:00 UTC | maria | WMS pick API returns 503 \\| retries pile up |",
        "| 2026-11-20 13:00:00 UTC | omar | failover to DC-WEST done |",
    ):
        assert line in text, line
    # the actions: who did what
    assert re.search(r"\| 2026-11-20 12:10:00 UTC \| maria \| manager \| exception.acknowledge \|", text)
    assert re.search(r"\| 2026-11-20 12:40:00 UTC \| omar \| admin \| source.resume \|", text)


def test_the_html_report_is_self_contained_and_holds_the_figures_as_tables(
    engine: Engine, incident: int
) -> None:
    with engine.connect() as conn:
        page = html_report(load(conn, incident, as_of=AS_OF))
    assert page.startswith("<!DOCTYPE html>")
    for cell in (
        "<td>Orders breached</td><td>2</td>",
        "<td>Value affected (orders + positions)</td><td>490.50</td>",
        "<td>Time down</td><td>6 h 30 min</td>",
        "<td>WMS pick API returns 503 | retries pile up</td>",
        f"<td>interface</td><td>{INTERFACE}</td>"
        "<td>2026-11-20 11:00:00 UTC</td><td>2026-11-20 12:30:00 UTC</td>",
    ):
        assert cell in page, cell
    # nothing fetched from anywhere: no scripts, no links, no external stylesheets or images
    assert not re.search(r"<script|<link|src=|href=|@import|url\(", page)


def test_the_combined_timeline_lists_each_call_once_in_the_range(engine: Engine, incident: int) -> None:
    with engine.connect() as conn:
        review = load(conn, incident, as_of=AS_OF)
    calls = review.timeline.filter(review.timeline["what"] == "integration.call")
    # 10:20, 11:00, 11:10, 11:40, 12:30, 13:30: the 09:50 and 14:30 calls are outside the range
    assert calls["time"].to_list() == [at(10, 20), at(11), at(11, 10), at(11, 40), at(12, 30), at(13, 30)]
    assert set(review.timeline["lane"].to_list()) >= {"middleware", "oms", "actions"}


def test_the_cli_opens_an_incident_from_an_exception_and_exports_it(
    engine: Engine, incident: int, ctower: Any, tmp_path: Path
) -> None:
    opened = ctower(
        "incidents", "open", "--from-exception", "sla_breach:O-1", "--margin-minutes", "30", "--json"
    )
    assert opened.returncode == 0, opened.stderr
    new = json.loads(opened.stdout)
    assert (new["entities"], new["range_from"], new["range_to"]) == (
        ["order:O-1"],
        "2026-11-20T08:30:00Z",  # O-1's life (created 09:00) less the margin; seen from 12:05
        "2026-11-20T13:30:00Z",
    )
    listed = ctower("incidents", "list", "--json")
    assert [(r["incident_id"], r["status"]) for r in json.loads(listed.stdout)] == [
        (new["incident_id"], "open"),
        (incident, "open"),
    ]
    shown = ctower("incidents", "show", str(incident), "--as-of", "2026-11-21T12:00:00Z", "--json")
    figures = json.loads(shown.stdout)["impact"]
    assert (figures["orders"], figures["breached"], figures["value"], figures["down_seconds"]) == (
        3,
        2,
        85.5,
        23400,
    )
    out = tmp_path / "report.html"
    exported = ctower(
        "incidents",
        "export",
        str(incident),
        "--format",
        "html",
        "-o",
        str(out),
        "--as-of",
        "2026-11-21T12:00:00Z",
    )
    assert exported.returncode == 0, exported.stderr
    assert "<td>Orders breached</td><td>2</td>" in out.read_text()


def test_the_cli_refuses_bad_input_in_one_line(incident: int, ctower: Any) -> None:
    unknown = ctower("incidents", "show", "999")
    assert (unknown.returncode, unknown.stderr) == (2, "ctower: error: no incident 999\n")
    no_exception = ctower("incidents", "open", "--from-exception", "sla_breach:NOPE")
    assert (no_exception.returncode, no_exception.stderr) == (
        2,
        "ctower: error: no exception 'sla_breach:NOPE'\n",
    )
    bad_format = ctower("incidents", "export", str(incident), "--format", "pdf", "-o", "x.pdf")
    assert bad_format.returncode == 2 and len(bad_format.stderr.splitlines()) == 1
    nowhere = ctower("incidents", "export", str(incident), "-o", "/nonexistent/dir/x.md")
    assert nowhere.returncode == 4 and nowhere.stderr.startswith(
        "ctower: error: cannot write /nonexistent/dir/x.md"
    )
