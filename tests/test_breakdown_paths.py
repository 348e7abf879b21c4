"""The pages' one-query breakdowns give the same rows as the events do.

The Inventory page reads its summary and its three breakdowns from one query
(metrics.inventory.figures: the projections at the latest picture, or the projected rows
still true at an earlier as_of plus the others replayed from their events); the Fulfilment
page reads both reroute breakdowns from one query over order_facts and reroute_facts
(metrics.reroutes.breakdowns), and all its SLA and reroute figures from one pass
(metrics.fulfilment.figures). On the random estates, windows and scopes of
tests/test_scope_paths.py (ties, window edges, arrival order, batch sizes), each must equal
the figures read from the events only (`use_projections=False`).
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl
from hypothesis import given

from metrics import fulfilment, inventory, reroutes, sla
from metrics.params import Policies, Window
from tests.test_metrics_reference import SETTINGS, batch_sizes, same, store, windows
from tests.test_scope_paths import estates, scopes

DIMENSIONS = ("location", "system", "category")


def same_rows(got: pl.DataFrame, want: pl.DataFrame) -> bool:
    """The same columns and rows in the same order; floats equal to 1e-9."""
    if got.columns != want.columns or got.height != want.height:
        return False
    for mine, theirs in zip(got.iter_rows(), want.iter_rows(), strict=True):
        for a, b in zip(mine, theirs, strict=True):
            if isinstance(a, float) or isinstance(b, float):
                if a is None or b is None or not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9):
                    return False
            elif a != b:
                return False
    return True


@SETTINGS
@given(batch_size=batch_sizes, estate=estates(), window=windows(), scope=scopes)
def test_the_inventory_page_s_one_query_gives_the_summary_and_breakdowns_of_the_events(
    engine, ingest, batch_size, estate, window: Window, scope
):
    events, lags = estate
    store(engine, ingest, events, lags, batch_size)
    with engine.connect() as conn, conn.begin():
        found: dict[str, Any] = inventory.figures(conn, window, Policies(), scope=scope)
        summary = inventory.summary(conn, window, Policies(), use_projections=False, scope=scope)
        by = {
            d: inventory.breakdown(conn, window, Policies(), d, scope=scope, use_projections=False)  # type: ignore[arg-type]
            for d in DIMENSIONS
        }
    assert same(found["summary"], summary), f"\n{scope}\none query: {found['summary']}\nevents:    {summary}"
    for dimension in DIMENSIONS:
        assert same_rows(found[dimension], by[dimension]), (
            f"\n{dimension} {scope}\none query: {found[dimension]}\nevents:    {by[dimension]}"
        )


@SETTINGS
@given(batch_size=batch_sizes, estate=estates(), window=windows(), scope=scopes)
def test_both_reroute_breakdowns_from_reroute_facts_are_those_of_the_events(
    engine, ingest, batch_size, estate, window: Window, scope
):
    events, lags = estate
    store(engine, ingest, events, lags, batch_size)
    with engine.connect() as conn, conn.begin():
        found = reroutes.breakdowns(conn, window, Policies(), scope=scope)
        by_reason = reroutes.by_reason(conn, window, Policies(), scope=scope, use_projections=False)
        by_from = reroutes.by_from_node(conn, window, Policies(), scope=scope, use_projections=False)
    assert found["reason"].rows() == by_reason.rows(), f"\n{scope}\n{found['reason']}\n{by_reason}"
    assert found["from_node"].rows() == by_from.rows(), f"\n{scope}\n{found['from_node']}\n{by_from}"
    assert found["reason"].columns == ["reason", "reroutes", "rerouted_orders"]
    assert found["from_node"].columns == ["from_node", "reroutes", "rerouted_orders"]


@SETTINGS
@given(batch_size=batch_sizes, estate=estates(), window=windows(), scope=scopes)
def test_the_fulfilment_page_s_one_pass_gives_the_sla_and_reroute_figures_of_the_events(
    engine, ingest, batch_size, estate, window: Window, scope
):
    events, lags = estate
    store(engine, ingest, events, lags, batch_size)
    policies = Policies()
    with engine.connect() as conn, conn.begin():
        found = fulfilment.figures(conn, window, policies, scope=scope)
        want = {
            "sla": sla.summary(conn, window, policies, scope=scope, use_projections=False),
            "by_channel": sla.by_channel(conn, window, policies, scope=scope, use_projections=False),
            "by_node": sla.by_node(conn, window, policies, scope=scope, use_projections=False),
            "reroutes": reroutes.summary(conn, window, policies, scope=scope, use_projections=False),
            "by_reason": reroutes.by_reason(conn, window, policies, scope=scope, use_projections=False),
            "by_from_node": reroutes.by_from_node(conn, window, policies, scope=scope, use_projections=False),
        }
    for key in ("sla", "reroutes"):
        assert same(found[key], want[key]), f"\n{key} {scope}\none pass: {found[key]}\nevents: {want[key]}"
    for key in ("by_channel", "by_node", "by_reason", "by_from_node"):
        assert same_rows(found[key], want[key]), f"\n{key} {scope}\n{found[key]}\n{want[key]}"
