"""Inventory variance (contracts/METRICS.md, "Inventory variance"), worked out by hand.

Every test builds a few events around AS_OF, noon UTC on 20 November 2026, and states the
arithmetic of the expected figures in comments. Defaults: reference erp, tolerance
max(2 units, 5% of |reference|), stale after 6 hours.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from metrics import inventory
from metrics.params import Policies, Window
from tests import builders
from tests.builders import DC, SKU, STORE

AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SKU2 = "SKU-00099"
_ids = itertools.count(1)


def _at(hours_before: float) -> str:
    return (AS_OF - timedelta(hours=hours_before)).isoformat().replace("+00:00", "Z")


def snapshot(
    system: str, on_hand: int, *, location: str = DC, sku: str = SKU, hours_before: float = 1, **extra: Any
) -> dict[str, Any]:
    data = {"system": system, "location_id": location, "sku": sku, "on_hand": on_hand, **extra}
    return builders.event(
        "retail.inventory.snapshot",
        data,
        id=f"snap-{next(_ids)}",
        source=system,
        time=_at(hours_before),
        subject=sku,
    )


def adjusted(
    system: str, delta: int, *, location: str = DC, sku: str = SKU, hours_before: float
) -> dict[str, Any]:
    data = {"system": system, "location_id": location, "sku": sku, "delta": delta, "reason": "manual"}
    return builders.event(
        "retail.inventory.adjusted",
        data,
        id=f"adj-{next(_ids)}",
        source=system,
        time=_at(hours_before),
        subject=sku,
    )


def product(
    unit_cost: float, *, sku: str = SKU, hours_before: float = 48, category: str | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {"sku": sku, "unit_cost": unit_cost}
    if category is not None:
        data["category"] = category
    return builders.event(
        "retail.product.upserted",
        data,
        id=f"prod-{next(_ids)}",
        source="erp",
        time=_at(hours_before),
        subject=sku,
    )


@pytest.fixture
def load(ingest):  # type: ignore[no-untyped-def]
    """Ingest events, checking every one was accepted."""

    def run(*events: dict[str, Any]) -> None:
        counts = ingest(builders.jsonl(*events))
        assert counts.accepted == len(events), counts

    return run


@pytest.fixture
def figures(engine):  # type: ignore[no-untyped-def]
    """The summary figures for a window, under the default policies unless told."""

    def run(window: Window, policies: Policies | None = None) -> dict[str, Any]:
        with engine.connect() as conn:
            return inventory.summary(conn, window, policies or Policies())

    return run


def test_an_empty_store_has_all_figures_zero_with_their_types(figures) -> None:
    result = figures(Window.of(as_of=AS_OF))
    assert result == {
        "pairs_compared": 0,
        "out_of_tolerance": 0,
        "variance_units": 0,
        "variance_value": 0.0,
        "negative_positions": 0,
        "stale_positions": 0,
    }
    assert list(result) == list(inventory.SUMMARY_KEYS)
    assert isinstance(result["variance_value"], float)
    assert all(type(v) is int for k, v in result.items() if k != "variance_value")


def test_a_position_is_its_latest_snapshot_plus_the_adjustments_after_it_up_to_as_of(load, figures) -> None:
    load(
        snapshot("erp", 100, hours_before=5, reserved=40),  # reserved does not enter
        adjusted("erp", +10, hours_before=6),  # before the snapshot: ignored
        adjusted("erp", +7, hours_before=5),  # at the snapshot's own time: ignored (strictly after)
        adjusted("erp", -3, hours_before=4),
        adjusted("erp", +2, hours_before=1),
        adjusted("erp", +50, hours_before=-1),  # after as_of: ignored
        adjusted("wms", -30, hours_before=1),  # another system's adjustment: not erp's
        snapshot("wms", 90, hours_before=2),
    )
    # erp = 100 - 3 + 2 = 99 (with +10 it would be 109, with +7 106, with +50 149)
    # wms = 90 - 30 (its own adjustment after its snapshot) = 60
    # diff = 60 - 99 = -39; |-39| > max(2, 0.05 * 99 = 4.95): out of tolerance
    assert figures(Window.of(as_of=AS_OF)) == {
        "pairs_compared": 1,
        "out_of_tolerance": 1,
        "variance_units": 39,
        "variance_value": 0.0,
        "negative_positions": 0,
        "stale_positions": 0,
    }


def test_a_later_snapshot_replaces_an_earlier_one_and_the_adjustments_before_it(load, figures) -> None:
    load(
        snapshot("erp", 100, hours_before=10),
        adjusted("erp", -20, hours_before=8),  # before the later snapshot: superseded
        snapshot("erp", 50, hours_before=2),
        snapshot("wms", 40, hours_before=1),
    )
    # erp = 50 (the later count); diff = 40 - 50 = -10 > max(2, 2.5): out
    # the erp position's latest snapshot is 2 hours old: not stale
    result = figures(Window.of(as_of=AS_OF))
    assert (result["pairs_compared"], result["out_of_tolerance"], result["variance_units"]) == (1, 1, 10)
    assert result["stale_positions"] == 0


def test_a_past_as_of_counts_the_positions_as_they_were_then(engine, load, figures) -> None:
    load(
        snapshot("erp", 100, hours_before=10),
        adjusted("erp", -5, hours_before=3),
        snapshot("erp", 60, hours_before=-2),  # a recount after as_of
        snapshot("wms", 90, hours_before=4),
        adjusted("wms", +1, hours_before=-1),  # an adjustment after as_of
        snapshot("oms", 95, hours_before=-3),  # oms first counted after as_of
    )
    # at as_of: erp 100 - 5 = 95 (not the later 60), wms 90 (not 91), oms none (no pair):
    # wms diff 90 - 95 = -5 > max(2, 4.75): out, 5 units; erp's count is 10 hours old: stale
    then = {
        "pairs_compared": 1,
        "out_of_tolerance": 1,
        "variance_units": 5,
        "variance_value": 0.0,
        "negative_positions": 0,
        "stale_positions": 1,
    }
    # four hours later: erp 60 (the -5 was before its count), wms 91, oms 95: diffs 31 and 35,
    # both out, 66 units; only wms's count (8 hours old) is stale
    later = {**then, "pairs_compared": 2, "out_of_tolerance": 2, "variance_units": 66}
    for as_of, expected in ((AS_OF, then), (AS_OF + timedelta(hours=4), later)):
        assert figures(Window.of(as_of=as_of)) == expected
        with engine.connect() as conn:  # the Inventory page's one query says the same
            assert inventory.figures(conn, Window.of(as_of=as_of), Policies())["summary"] == expected


def test_two_snapshots_at_the_same_time_the_later_arrival_counts(load, figures) -> None:
    load(snapshot("erp", 100, hours_before=2), snapshot("wms", 70, hours_before=2))
    load(snapshot("erp", 80, hours_before=2))  # same instant, arrived later (higher seq)
    # erp = 80; diff = 70 - 80 = -10 > max(2, 4): out, 10 units (with erp 100 it would be 30)
    result = figures(Window.of(as_of=AS_OF))
    assert (result["pairs_compared"], result["out_of_tolerance"], result["variance_units"]) == (1, 1, 10)


def test_a_system_without_a_snapshot_at_or_before_as_of_holds_no_position(load, figures) -> None:
    load(
        snapshot("erp", 100, hours_before=1),
        snapshot("wms", 50, hours_before=-1),  # counted an hour after as_of
        adjusted("wms", -60, hours_before=1),  # an adjustment alone makes no position
    )
    # at AS_OF only erp holds a position: no pair, and wms's -60 is no negative position
    assert figures(Window.of(as_of=AS_OF)) == {
        "pairs_compared": 0,
        "out_of_tolerance": 0,
        "variance_units": 0,
        "variance_value": 0.0,
        "negative_positions": 0,
        "stale_positions": 0,
    }
    # replayed two hours later, wms holds 50 (the adjustment is before its snapshot):
    # diff = 50 - 100 = -50 > max(2, 5): one pair, out by 50
    later = figures(Window.of(as_of=AS_OF + timedelta(hours=2)))
    assert (later["pairs_compared"], later["out_of_tolerance"], later["variance_units"]) == (1, 1, 50)


def test_without_a_reference_position_nothing_is_compared(load, figures) -> None:
    load(snapshot("wms", 100), snapshot("oms", 10))
    # wms and oms disagree by 90, but neither is the reference (erp)
    result = figures(Window.of(as_of=AS_OF))
    assert (result["pairs_compared"], result["out_of_tolerance"], result["variance_units"]) == (0, 0, 0)


def test_a_dc_held_by_erp_wms_and_oms_makes_two_pairs(load, figures) -> None:
    load(
        snapshot("erp", 100),
        snapshot("wms", 100),
        snapshot("oms", 90),
        snapshot("pos", 7, location=STORE),  # a store only pos holds: no pair
        snapshot("erp", 7, location=DC, sku=SKU2),  # another sku only erp holds: no pair
    )
    # pairs (DC, SKU, wms): diff 0, in; (DC, SKU, oms): diff -10 > max(2, 5), out
    result = figures(Window.of(as_of=AS_OF))
    assert (result["pairs_compared"], result["out_of_tolerance"], result["variance_units"]) == (2, 1, 10)


def test_a_diff_of_exactly_2_units_is_within_tolerance_and_3_is_not(load, figures) -> None:
    load(snapshot("erp", 10), snapshot("wms", 12), snapshot("oms", 7))
    # bound = max(2, 0.05 * 10 = 0.5) = 2
    # wms: diff 12 - 10 = 2, |2| > 2 is false: in tolerance
    # oms: diff 7 - 10 = -3, |-3| > 2: out, 3 units
    result = figures(Window.of(as_of=AS_OF))
    assert (result["pairs_compared"], result["out_of_tolerance"], result["variance_units"]) == (2, 1, 3)


def test_a_diff_of_exactly_5_percent_of_a_reference_of_100_is_within_tolerance_and_6_is_not(
    load, figures
) -> None:
    load(snapshot("erp", 100), snapshot("wms", 105), snapshot("oms", 94))
    # bound = max(2, 0.05 * 100 = 5) = 5 (exact decimal arithmetic, not 5.000000000000001)
    # wms: diff 5, |5| > 5 is false: in tolerance
    # oms: diff -6, |-6| > 5: out, 6 units
    result = figures(Window.of(as_of=AS_OF))
    assert (result["pairs_compared"], result["out_of_tolerance"], result["variance_units"]) == (2, 1, 6)


def test_negative_and_zero_quantities_are_still_compared(load, figures) -> None:
    load(
        snapshot("erp", -4, location=DC),
        snapshot("wms", 0, location=DC),
        snapshot("erp", 0, location=STORE),
        snapshot("pos", 0, location=STORE),
        snapshot("erp", -100, location="DC-WEST"),
        snapshot("wms", -95, location="DC-WEST"),
    )
    # DC:      diff 0 - (-4) = 4 > max(2, 0.05 * |-4| = 0.2) = 2: out, 4 units
    # STORE:   diff 0 - 0 = 0: in
    # DC-WEST: diff -95 - (-100) = 5, bound max(2, 0.05 * |-100| = 5) = 5: in (at the bound)
    # negative positions: erp DC (-4), erp DC-WEST (-100), wms DC-WEST (-95) = 3
    result = figures(Window.of(as_of=AS_OF))
    assert result == {
        "pairs_compared": 3,
        "out_of_tolerance": 1,
        "variance_units": 4,
        "variance_value": 0.0,
        "negative_positions": 3,
        "stale_positions": 0,
    }


def test_variance_value_weights_units_by_the_latest_unit_cost_at_or_before_as_of(load, figures) -> None:
    load(
        product(3.0, sku=SKU, hours_before=48),
        product(4.5, sku=SKU, hours_before=24),  # the latest at or before as_of
        product(99.0, sku=SKU, hours_before=-1),  # after as_of: ignored
        snapshot("erp", 100, sku=SKU),
        snapshot("wms", 90, sku=SKU),
        snapshot("erp", 20, sku=SKU2),  # SKU2 has no product.upserted: unit_cost 0
        snapshot("wms", 30, sku=SKU2),
    )
    # SKU:  |90 - 100| = 10 > max(2, 5): out, value 10 * 4.5 = 45.0
    # SKU2: |30 - 20| = 10 > max(2, 1): out, value 10 * 0 = 0
    # units 10 + 10 = 20, value 45.0 + 0 = 45.0
    result = figures(Window.of(as_of=AS_OF))
    assert (result["out_of_tolerance"], result["variance_units"]) == (2, 20)
    assert result["variance_value"] == pytest.approx(45.0)


def test_variance_value_counts_only_pairs_out_of_tolerance(load, figures) -> None:
    load(product(10.0), snapshot("erp", 100), snapshot("wms", 98))
    # |98 - 100| = 2 <= max(2, 5): in tolerance, so no units and no value
    result = figures(Window.of(as_of=AS_OF))
    assert (result["pairs_compared"], result["variance_units"], result["variance_value"]) == (1, 0, 0.0)


def test_negative_positions_count_positions_below_zero_after_adjustments(load, figures) -> None:
    load(
        snapshot("erp", 5, hours_before=3),
        adjusted("erp", -8, hours_before=2),  # 5 - 8 = -3: negative
        snapshot("wms", -1, hours_before=1),  # -1: negative
        snapshot("oms", 0, hours_before=1),  # 0: not negative
        snapshot("pos", 3, location=STORE, hours_before=3),
        adjusted("pos", -3, location=STORE, hours_before=2),  # 3 - 3 = 0: not negative
        snapshot("erp", 1, sku=SKU2, hours_before=1),
        adjusted("erp", -5, sku=SKU2, hours_before=-1),  # after as_of: stays 1
    )
    assert figures(Window.of(as_of=AS_OF))["negative_positions"] == 2


def test_a_snapshot_exactly_stale_hours_old_is_not_stale_and_one_second_older_is(load, figures) -> None:
    load(
        snapshot("erp", 10, hours_before=6),  # as_of - time = 6 h, not > 6 h: fresh
        snapshot("wms", 10, hours_before=6 + 1 / 3600),  # 6 h 1 s: stale
        snapshot("oms", 10, hours_before=7),  # 7 h: stale, however recent its adjustments
        adjusted("oms", +1, hours_before=1),
        snapshot("pos", 10, location=STORE, hours_before=30),  # stale
        snapshot("pos", 10, location=STORE, hours_before=5),  # ... replaced by a fresh count
    )
    assert figures(Window.of(as_of=AS_OF))["stale_positions"] == 2


def test_stale_hours_is_a_policy(load, figures) -> None:
    load(snapshot("erp", 10, hours_before=3), snapshot("wms", 10, hours_before=1))
    # 3 h old: fresh under 6 h, stale under 2 h; 1 h old is fresh under both
    assert figures(Window.of(as_of=AS_OF))["stale_positions"] == 0
    assert figures(Window.of(as_of=AS_OF), Policies(stale_hours=2))["stale_positions"] == 1


def test_the_window_does_not_apply_to_inventory(load, figures) -> None:
    load(snapshot("erp", 100, hours_before=72), snapshot("wms", 80, hours_before=72))
    # counted three days before as_of, far outside a one-hour window: still compared (and stale)
    window = Window.of(as_of=AS_OF, since=AS_OF - timedelta(hours=1), until=AS_OF)
    result = figures(window)
    assert (result["pairs_compared"], result["variance_units"], result["stale_positions"]) == (1, 20, 2)


def test_a_wms_reference_with_no_unit_tolerance_changes_the_numbers(load, figures) -> None:
    load(snapshot("erp", 10), snapshot("wms", 11), snapshot("pos", 12))
    # default, reference erp = 10, bound max(2, 0.5) = 2:
    #   wms diff 1: in; pos diff 2: in (at the bound)
    default = figures(Window.of(as_of=AS_OF))
    assert (default["pairs_compared"], default["out_of_tolerance"], default["variance_units"]) == (2, 0, 0)
    # reference wms = 11, bound max(0, 0.05 * 11 = 0.55) = 0.55:
    #   erp diff 10 - 11 = -1: out; pos diff 12 - 11 = 1: out; units 1 + 1 = 2
    custom = figures(Window.of(as_of=AS_OF), Policies(reference_system="wms", abs_tolerance_units=0))
    assert (custom["pairs_compared"], custom["out_of_tolerance"], custom["variance_units"]) == (2, 2, 2)


# --- breakdowns ---------------------------------------------------------------------------


@pytest.fixture
def two_sites(load) -> None:  # type: ignore[no-untyped-def]
    load(
        product(2.0, sku=SKU, category="tools"),
        # DC, SKU: wms -10 (out, 10 * 2.0 = 20.0); oms 0 (in)
        snapshot("erp", 100, location=DC, sku=SKU),
        snapshot("wms", 90, location=DC, sku=SKU),
        snapshot("oms", 100, location=DC, sku=SKU),
        # STORE, SKU: pos 0 (in)
        snapshot("erp", 10, location=STORE, sku=SKU),
        snapshot("pos", 10, location=STORE, sku=SKU),
        # STORE, SKU2 (no product: no category, cost 0): pos +4 > max(2, 0.5) (out, 4 * 0 = 0)
        snapshot("erp", 10, location=STORE, sku=SKU2),
        snapshot("pos", 14, location=STORE, sku=SKU2),
    )


def _rows(frame: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in frame.iter_rows()]


def test_the_breakdown_by_location_splits_the_pairs_by_their_location(engine, two_sites) -> None:
    with engine.connect() as conn:
        frame = inventory.by_location(conn, Window.of(as_of=AS_OF), Policies())
    assert frame.columns == [
        "location_id",
        "pairs_compared",
        "out_of_tolerance",
        "variance_units",
        "variance_value",
    ]
    # DC: 2 pairs, 1 out (wms, 10 units, 20.0); STORE: 2 pairs, 1 out (SKU2, 4 units, 0.0)
    assert _rows(frame) == [(DC, 2, 1, 10, 20.0), (STORE, 2, 1, 4, 0.0)]


def test_the_breakdown_by_system_splits_the_pairs_by_their_other_system(engine, two_sites) -> None:
    with engine.connect() as conn:
        frame = inventory.by_system(conn, Window.of(as_of=AS_OF), Policies())
    # oms: DC in; pos: STORE SKU in + STORE SKU2 out by 4; wms: DC out by 10 (20.0). No erp row.
    assert _rows(frame) == [("oms", 1, 0, 0, 0.0), ("pos", 2, 1, 4, 0.0), ("wms", 1, 1, 10, 20.0)]


def test_the_breakdown_by_category_puts_unknown_categories_last_as_null(engine, two_sites) -> None:
    with engine.connect() as conn:
        frame = inventory.by_category(conn, Window.of(as_of=AS_OF), Policies())
    # tools (SKU): DC wms out by 10, DC oms in, STORE pos in; null (SKU2): STORE pos out by 4
    assert _rows(frame) == [("tools", 3, 1, 10, 20.0), (None, 1, 1, 4, 0.0)]


def test_every_breakdown_adds_up_to_the_summary(engine, two_sites) -> None:
    window = Window.of(as_of=AS_OF)
    with engine.connect() as conn:
        total = inventory.summary(conn, window, Policies())
        frames = [
            f(conn, window, Policies())
            for f in (inventory.by_location, inventory.by_system, inventory.by_category)
        ]
    # 4 pairs, 2 out, 10 + 4 = 14 units, 20.0 + 0 = 20.0
    assert (total["pairs_compared"], total["out_of_tolerance"], total["variance_units"]) == (4, 2, 14)
    assert total["variance_value"] == pytest.approx(20.0)
    for frame in frames:
        sums = frame.select("pairs_compared", "out_of_tolerance", "variance_units", "variance_value").sum()
        assert sums.row(0) == (4, 2, 14, pytest.approx(20.0))


def test_breakdowns_of_an_empty_store_are_empty_frames_with_their_columns(engine) -> None:
    with engine.connect() as conn:
        frame = inventory.by_location(conn, Window.of(as_of=AS_OF), Policies())
    assert frame.is_empty()
    assert frame.columns == [
        "location_id",
        "pairs_compared",
        "out_of_tolerance",
        "variance_units",
        "variance_value",
    ]


def test_an_unknown_breakdown_dimension_is_refused(engine) -> None:
    with engine.connect() as conn, pytest.raises(ValueError, match="dimension"):
        inventory.breakdown(conn, Window.of(as_of=AS_OF), Policies(), "region")  # type: ignore[arg-type]
