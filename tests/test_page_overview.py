"""The Overview page (AppTest) and the shared filters kept in the URL (app/ui/filters.py).

Every seeded test pins the view with `?as_of=2026-11-21T12:00:00Z` and the default 7-day
window, so the window is [2026-11-14 12:00, 2026-11-21 12:00) UTC and the previous one,
seen from the same distance after its end, is [2026-11-07 12:00, 2026-11-14 12:00) as of
2026-11-14 12:00.
"""

from __future__ import annotations

import time as time_module
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app.ui import tv
from app.ui.filters import CUSTOM, Filters, from_query
from metrics.exception_queue import run_detectors
from metrics.params import Policies, Window
from metrics.past import floored, previous
from tests import builders

ENTRY = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")
UNREACHABLE_URL = "postgresql://nobody@127.0.0.1:1/none"
AS_OF = "2026-11-21T12:00:00Z"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def app_on(streamlit_script):
    """The app on a database URL, with the query string given (conftest.streamlit_script)."""
    return lambda url, **query: streamlit_script(ENTRY, url, **query)


def order(n: int, created: str, promised: str, *later: tuple[str, str]) -> list[dict[str, Any]]:
    """Order ORD-n created at `created` with its promise, then (type, time) events."""
    order_id = f"ORD-{n}"
    data = {**builders.REQUIRED_DATA["retail.order.created"], "order_id": order_id, "promised_by": promised}
    events = [builders.event("retail.order.created", data, id=f"o{n}-c", time=created, subject=order_id)]
    for i, (kind, when) in enumerate(later):
        type_ = f"retail.order.{kind}"
        body = {**builders.REQUIRED_DATA[type_], "order_id": order_id}
        events.append(builders.event(type_, body, id=f"o{n}-{i}", time=when, subject=order_id))
    return events


# Worked out by hand, as of 2026-11-21 12:00 UTC:
#   ORD-1 delivered 11-21 10:00, promised 11-22 18:00      on time
#   ORD-2 delivered 11-20 12:00, promised 11-20 08:00      breached (late)
#   ORD-3 not delivered, promised 11-21 06:00 < as_of      breached (overdue, 6 h)
#   ORD-4 not delivered, promised 11-21 20:00: 8 h left    at risk (< 24 h), not breached
#   ORD-5 cancelled                                        not counted
#   ORD-6 created 11-21 13:00, after the as_of             not counted
# orders 4, breached 2: on time 2 / 4 = 50.0 %.
# Previous window: ORD-0 created 11-10, delivered 11-11 before its 11-12 promise: 100.0 %,
# so the trend is 50.0 - 100.0 = -50.0 points.
ORDERS = [
    *order(0, "2026-11-10T08:00:00Z", "2026-11-12T08:00:00Z", ("delivered", "2026-11-11T08:00:00Z")),
    *order(1, "2026-11-20T09:00:00Z", "2026-11-22T18:00:00Z", ("delivered", "2026-11-21T10:00:00Z")),
    *order(2, "2026-11-19T08:00:00Z", "2026-11-20T08:00:00Z", ("delivered", "2026-11-20T12:00:00Z")),
    *order(3, "2026-11-18T08:00:00Z", "2026-11-21T06:00:00Z"),
    *order(4, "2026-11-20T10:00:00Z", "2026-11-21T20:00:00Z"),
    *order(5, "2026-11-20T11:00:00Z", "2026-11-23T11:00:00Z", ("cancelled", "2026-11-20T12:00:00Z")),
    *order(6, "2026-11-21T13:00:00Z", "2026-11-23T13:00:00Z"),
]


@pytest.fixture
def seeded(engine: Engine, ingest: Callable[..., Any]) -> Engine:
    counts = ingest(builders.jsonl(*ORDERS))
    assert (counts.accepted, counts.quarantined) == (len(ORDERS), 0)
    return engine


def metric(at: AppTest, label: str) -> Any:
    return next(m for m in at.metric if m.label == label)


def texts(elements: Any) -> list[str]:
    return [e.value for e in elements]


# --- the page ------------------------------------------------------------------------------


def test_the_overview_on_an_empty_store_says_there_is_no_data_yet(app_on, database_url):
    at = app_on(database_url, as_of=AS_OF).run()

    assert not at.exception
    assert not at.error
    assert texts(at.info) == ["No data yet for this window."]
    assert metric(at, "SLA on-time").value == "—"
    assert any("No data" in m for m in texts(at.markdown))
    assert any("No collector source configured yet." in c for c in texts(at.caption))


def test_the_sla_tile_shows_the_share_of_orders_on_time_and_its_trend(app_on, database_url, seeded):
    at = app_on(database_url, as_of=AS_OF).run()

    assert not at.exception
    assert not at.info
    sla = metric(at, "SLA on-time")
    assert (sla.value, sla.delta) == ("50.0%", "-50.0 pp")
    assert any("2 breached · 1 at risk · 4 orders" in m for m in texts(at.markdown))
    # the SLA status is red (breached orders), said in words and with a shape, not colour alone
    assert any("■ Red · act now" in m for m in texts(at.markdown))
    assert any("As of 2026-11-21 12:00:00" in c for c in texts(at.caption))
    assert not any("live" in c for c in texts(at.caption))  # a chosen as-of is not live


def test_open_exceptions_are_counted_by_severity(app_on, database_url, seeded):
    # ORD-3: 6 h overdue, not delivered: high; ORD-2 delivered late: medium; ORD-4 at risk
    # with 8 h left (4 h or more): medium.
    window = Window.of(datetime(2026, 11, 21, 12, tzinfo=UTC))
    run_detectors(seeded, window, Policies(), types=("sla_breach", "sla_at_risk"))

    at = app_on(database_url, as_of=AS_OF).run()

    assert not at.exception
    counts = {s: metric(at, s).value for s in ("Critical", "High", "Medium", "Low")}
    assert counts == {"Critical": "0", "High": "1", "Medium": "2", "Low": "0"}


def add_health(engine: Engine) -> None:
    """oms up (read 15 min before the as-of), wms down, erp up but silent for 2 h: stale."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                """
                INSERT INTO source_health (source, status, last_run_at, last_success_at,
                                           consecutive_failures, last_event_time)
                VALUES ('oms', 'up', '2026-11-21T11:50Z', '2026-11-21T11:50Z', 0, '2026-11-21T11:45Z'),
                       ('wms', 'down', '2026-11-21T11:55Z', '2026-11-21T08:00Z', 3, '2026-11-21T07:59Z'),
                       ('erp', 'up', '2026-11-21T10:00Z', '2026-11-21T10:00Z', 0, '2026-11-21T09:00Z')
                """
            )
        )


def test_a_source_down_or_stale_raises_a_banner_and_the_strip_shows_each_source(app_on, database_url, seeded):
    add_health(seeded)

    at = app_on(database_url, as_of=AS_OF).run()

    assert not at.exception
    [banner] = texts(at.warning)
    assert banner.startswith("**2 source(s) down or stale:** erp (stale), wms (down).")
    strip = " ".join(texts(at.markdown))
    assert "▲ Stale" in strip and "■ Down" in strip and "● Up" in strip
    assert "ok 11-21 11:50 · lag 15 min" in strip  # oms, read at 11:45
    assert "3 failed runs" in strip  # wms


def test_the_filters_narrow_each_tile_they_apply_to_and_say_so_next_to_the_others(
    app_on, database_url, seeded
):
    add_health(seeded)

    at = app_on(database_url, as_of=AS_OF, source="oms", channel="store").run()

    assert not at.exception
    # every seeded order is a web order: none is left in the store channel
    assert metric(at, "SLA on-time").value == "—"
    notes = [c for c in texts(at.caption) if c.startswith("Not narrowed by")]
    assert notes == [
        "Not narrowed by source: does not apply to this figure.",  # SLA
        "Not narrowed by source: does not apply to this figure.",  # reroutes
        "Not narrowed by channel or source: does not apply to this figure.",  # inventory
        "Not narrowed by channel: does not apply to this figure.",  # integrations
        "Not narrowed by channel or source: does not apply to this figure.",  # inbound
        "Not narrowed by channel or source: does not apply to this figure.",  # returns
    ]
    assert any("**Narrowed to** channel = store, source = oms" in c for c in texts(at.caption))
    # the strip shows the chosen source; the banner still warns of every troubled one
    assert "■ Down" not in " ".join(texts(at.markdown))
    [banner] = texts(at.warning)
    assert banner.startswith("**2 source(s) down or stale:** erp (stale), wms (down).")


def test_the_region_filter_counts_the_orders_whose_current_node_is_in_it(
    app_on, database_url, engine, ingest
):
    # STORE-0042 is in region east; ORD-2 (delivered late) and ORD-3 (overdue) are routed
    # there: both breached, so the east is 0.0 % on time with 2 orders; the west has none.
    store_in_east = builders.event(
        "retail.location.upserted", id="loc-1", time="2026-11-01T00:00:00Z", subject=None
    )
    routed = [
        builders.event(
            "retail.order.routed",
            {"order_id": f"ORD-{n}", "node_id": builders.STORE},
            id=f"o{n}-r",
            time="2026-11-19T09:00:00Z",
            subject=f"ORD-{n}",
        )
        for n in (2, 3)
    ]
    ingest(builders.jsonl(*ORDERS, store_in_east, *routed))

    east = app_on(database_url, as_of=AS_OF, region="east").run()
    assert not east.exception
    assert metric(east, "SLA on-time").value == "0.0%"
    assert any("2 breached · 0 at risk · 2 orders" in m for m in texts(east.markdown))
    west = app_on(database_url, as_of=AS_OF, region="west").run()
    assert metric(west, "SLA on-time").value == "—"


def test_each_tile_links_to_its_familys_page_with_the_filters_kept(app_on, database_url, seeded):
    at = app_on(database_url, as_of=AS_OF, channel="web").run()

    assert not at.exception
    found = {}
    for element in at.get("page_link"):
        proto = element.proto
        found[proto.label] = (proto.page, dict(parse_qsl(proto.query_string)))
    assert found["Open Integrations →"] == (
        "integrations",
        {"as_of": AS_OF, "channel": "web"},
    )
    assert found["Open Exceptions →"][1] == {"as_of": AS_OF, "channel": "web"}


def test_an_unreachable_database_is_explained_on_the_overview(app_on):
    at = app_on(UNREACHABLE_URL).run()

    assert not at.exception
    [error] = texts(at.error)
    assert "database is unreachable" in error


def test_the_live_overview_reruns_without_error(app_on, database_url, seeded):
    at = app_on(database_url).run()  # as of now: a run_every fragment

    assert not at.exception
    assert any("live, refreshed every 30 s" in c for c in texts(at.caption))
    at.run()
    assert not at.exception


# --- filters in the URL --------------------------------------------------------------------


def test_the_query_string_fills_the_filter_widgets(app_on, database_url):
    at = app_on(
        database_url,
        window="custom",
        since="2026-11-14T12:00:00Z",
        until="2026-11-21T12:00:00Z",
        as_of=AS_OF,
        channel="web",
    ).run()

    assert not at.exception
    assert at.radio(key="filters_window").value == CUSTOM
    assert at.radio(key="filters_as_of_mode").value == "Chosen instant"
    assert at.date_input(key="filters_since_date").value == date(2026, 11, 14)
    assert at.time_input(key="filters_since_time").value == time(12, 0)
    assert at.date_input(key="filters_until_date").value == date(2026, 11, 21)
    assert at.selectbox(key="filters_channel").value == "web"
    assert at.query_params["window"] == "custom"
    assert at.query_params["since"] == "2026-11-14T12:00:00Z"
    assert at.query_params["channel"] == "web"


def test_a_changed_filter_is_written_to_the_query_string(app_on, database_url):
    at = app_on(database_url, window="custom", since="2026-11-14T12:00:00Z", as_of=AS_OF).run()

    at.radio(key="filters_window").set_value("24h").run()

    assert not at.exception
    assert at.query_params["window"] == "24h"
    assert "since" not in at.query_params and "until" not in at.query_params
    assert at.query_params["as_of"] == AS_OF
    assert any("window 2026-11-20 12:00:00 to 2026-11-21 12:00:00" in c for c in texts(at.caption))

    at.radio(key="filters_as_of_mode").set_value("Now").run()
    assert "as_of" not in at.query_params


def test_a_bad_query_value_is_ignored_with_a_notice(app_on, database_url):
    at = app_on(database_url, window="fortnight", as_of="yesterday", node="DC-EAST").run()

    assert not at.exception
    notices = texts(at.warning)
    assert "Ignored window='fortnight': use one of 24h, 7d, 30d, custom." in notices
    assert any(n.startswith("Ignored as_of='yesterday' is not a date and time") for n in notices)
    assert at.radio(key="filters_window").value == "7d"
    assert "window" not in at.query_params and "as_of" not in at.query_params
    assert at.query_params["node"] == "DC-EAST"  # the good values are kept


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ({"as_of": "2026-12-01T00:00:00Z"}, "Ignored as_of=2026-12-01T00:00:00Z: it is in the future"),
        (
            {"window": "custom", "since": "2026-11-21T00:00:00Z", "until": "2026-11-20T00:00:00Z"},
            "Ignored since and until: since must be before until",
        ),
        ({"window": "custom"}, "Ignored window=custom without a valid since"),
        ({"until": "2026-11-20T00:00:00Z"}, "Ignored until: they need window=custom"),
        ({"region": "x" * 101}, "Ignored region is not a plain name"),
    ],
)
def test_inconsistent_query_values_fall_back_to_the_defaults(query, notice):
    filters, notices = from_query(query, "UTC", NOW)

    assert filters.window == "7d" and filters.as_of is None and filters.region is None
    assert len(notices) == 1 and notices[0].startswith(notice)


def test_filters_round_trip_through_the_query_string():
    chosen = Filters(
        window=CUSTOM,
        since=datetime(2026, 11, 14, 12, tzinfo=UTC),
        until=datetime(2026, 11, 21, 12, tzinfo=UTC),
        as_of=datetime(2026, 11, 22, tzinfo=UTC),
        region="east",
        node="DC-EAST",
    )

    assert from_query(chosen.to_query(), "UTC", NOW) == (chosen, [])
    assert Filters().to_query() == {}


def test_a_time_without_offset_is_read_in_the_app_time_zone():
    filters, notices = from_query({"as_of": "2026-11-21T13:00:00"}, "Europe/Paris", NOW)

    assert notices == []
    assert filters.as_of == datetime(2026, 11, 21, 12, tzinfo=UTC)


def test_the_previous_window_has_the_same_length_and_distance_from_its_as_of():
    window = Filters(window="24h", as_of=datetime(2026, 11, 21, 12, tzinfo=UTC)).resolve(NOW)

    before = previous(window)

    assert (before.since, before.until, before.as_of) == (
        datetime(2026, 11, 19, 12, tzinfo=UTC),
        datetime(2026, 11, 20, 12, tzinfo=UTC),
        datetime(2026, 11, 20, 12, tzinfo=UTC),
    )


# --- TV mode -------------------------------------------------------------------------------


def test_tv_mode_hides_the_sidebar_enlarges_the_type_and_names_the_next_page(app_on, database_url, seeded):
    at = app_on(database_url, as_of=AS_OF, tv="1").run()

    assert not at.exception
    [style] = [m for m in texts(at.markdown) if 'id="ctower-tv"' in m]
    assert '[data-testid="stSidebar"]' in style and "display: none" in style
    assert "html { font-size: 18px; }" in style
    next_page = tv.next_page("overview", tv.cycle())
    assert f'data-next="{next_page}"' in style
    assert metric(at, "SLA on-time").value == "50.0%"  # the same figures, larger


def test_without_tv_in_the_url_the_page_keeps_its_sidebar(app_on, database_url):
    at = app_on(database_url, as_of=AS_OF).run()

    assert not any("ctower-tv" in m for m in texts(at.markdown))


def test_tv_mode_moves_on_to_the_next_page_when_its_time_is_up_keeping_the_filters(
    app_on, database_url, seeded
):
    at = app_on(database_url, as_of=AS_OF, channel="web", tv="1").run()
    assert not at.exception
    at.session_state["tv_since"] = time_module.monotonic() - 31  # 30 s (the default) have passed

    at.run()

    assert not at.exception
    following = tv.next_page("overview", tv.cycle())
    assert [t.value for t in at.title][:1] != ["Overview"]
    assert at.session_state["tv_page"] == following
    assert dict(at.query_params) == {"as_of": AS_OF, "channel": "web", "tv": "1"}


def test_the_tv_cycle_skips_pages_the_app_does_not_have_and_starts_over():
    have = {"overview", "integrations", "exceptions", "intake"}
    assert tv.cycle(have) == ["overview", "integrations", "exceptions"]
    assert tv.next_page("overview", tv.cycle(have)) == "integrations"
    assert tv.next_page("exceptions", tv.cycle(have)) == "overview"
    assert tv.next_page("intake", tv.cycle(have)) == "overview"  # not in the cycle: start over
    assert tv.page_name("") == "overview" and tv.page_name("integrations") == "integrations"


def test_the_live_previous_window_is_taken_at_the_last_quarter_hour():
    window = Window.of(datetime(2026, 11, 21, 12, 7, 30, tzinfo=UTC))  # 7 days to 12:07:30
    before = floored(previous(window), timedelta(minutes=15))

    assert before.as_of == datetime(2026, 11, 14, 12, 0, tzinfo=UTC)  # 12:07:30 - 7 days, floored
    assert before.until == datetime(2026, 11, 14, 12, 0, tzinfo=UTC)
    assert before.since == datetime(2026, 11, 7, 12, 0, tzinfo=UTC)
