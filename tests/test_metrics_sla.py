"""SLA figures (contracts/METRICS.md, "SLA") on small hand-built event sets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from metrics import sla
from metrics.params import Policies, Window
from tests.builders import event, jsonl

# A fixed week: the window is Monday 16 Nov 00:00 to Monday 23 Nov 00:00 (UTC),
# and the figures are taken on Wednesday 25 Nov at noon unless a test says otherwise.
SINCE = datetime(2026, 11, 16, tzinfo=UTC)
UNTIL = datetime(2026, 11, 23, tzinfo=UTC)
AS_OF = datetime(2026, 11, 25, 12, tzinfo=UTC)
WINDOW = Window.of(as_of=AS_OF, since=SINCE, until=UNTIL)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def created(order: str, at: datetime, promised_by: datetime, channel: str = "web", **kw: Any) -> dict:
    lines = [{"sku": "SKU-00017", "qty": 1}]
    data = {"order_id": order, "channel": channel, "promised_by": iso(promised_by), "lines": lines}
    return event(
        "retail.order.created", data, id=kw.pop("id", f"{order}-created"), time=iso(at), subject=order
    )


def happened(type_: str, order: str, at: datetime, n: int = 1, **data: Any) -> dict:
    """An order event of `type_` (e.g. "delivered") for `order` at `at`."""
    return event(
        f"retail.order.{type_}",
        {"order_id": order, **data},
        id=f"{order}-{type_}-{n}",
        time=iso(at),
        subject=order,
    )


@pytest.fixture
def figures(engine: Engine, ingest: Callable[..., Any]) -> Callable[..., dict]:
    """Ingest the events (asserting every one was accepted), then compute the SLA summary."""

    def run(*events: dict, window: Window = WINDOW, policies: Policies | None = None) -> dict:
        if events:
            counts = ingest(jsonl(*events))
            assert counts.accepted == len(events), counts
        with engine.connect() as conn, conn.begin():
            return sla.summary(conn, window, policies or Policies())

    return run


def test_an_empty_store_gives_zeros_and_a_zero_rate(figures: Callable[..., dict]) -> None:
    assert figures() == {
        "orders": 0,
        "delivered": 0,
        "cancelled": 0,
        "breached": 0,
        "breach_rate": 0.0,
        "at_risk": 0,
    }


def test_an_order_delivered_exactly_at_its_promise_is_not_breached(figures: Callable[..., dict]) -> None:
    promise = datetime(2026, 11, 20, 18, tzinfo=UTC)
    out = figures(
        created("O-1", datetime(2026, 11, 18, 9, tzinfo=UTC), promise),
        happened("delivered", "O-1", promise),  # delivered_at == promised_by: on time
    )
    assert out == {
        "orders": 1,
        "delivered": 1,
        "cancelled": 0,
        "breached": 0,
        "breach_rate": 0.0,
        "at_risk": 0,
    }


def test_an_order_delivered_one_second_late_is_breached(figures: Callable[..., dict]) -> None:
    promise = datetime(2026, 11, 20, 18, tzinfo=UTC)
    out = figures(
        created("O-1", datetime(2026, 11, 18, 9, tzinfo=UTC), promise),
        happened("delivered", "O-1", promise + timedelta(seconds=1)),
    )
    # one order, delivered after promised_by: 1 breached of 1 -> rate 1.0
    assert (out["orders"], out["delivered"], out["breached"], out["breach_rate"]) == (1, 1, 1, 1.0)


def test_an_undelivered_order_past_its_promise_is_breached_and_not_at_promise_is_not(
    figures: Callable[..., dict],
) -> None:
    out = figures(
        # promised a second before as_of, not delivered: as_of > promised_by -> breached
        created("O-late", datetime(2026, 11, 18, tzinfo=UTC), AS_OF - timedelta(seconds=1)),
        # promised exactly at as_of: as_of > promised_by is false -> not breached (and at risk:
        # promised_by - as_of = 0 h < 24 h, not shipped, not delivered)
        created("O-now", datetime(2026, 11, 18, tzinfo=UTC), AS_OF),
    )
    # 2 orders, 1 breached -> 0.5
    assert (out["orders"], out["breached"], out["breach_rate"], out["at_risk"]) == (2, 1, 0.5, 1)


def test_a_delivery_after_as_of_is_not_yet_a_delivery(figures: Callable[..., dict]) -> None:
    promise = datetime(2026, 11, 24, tzinfo=UTC)  # before as_of
    out = figures(
        created("O-1", datetime(2026, 11, 18, tzinfo=UTC), promise),
        happened("delivered", "O-1", AS_OF + timedelta(seconds=1)),
    )
    # at as_of the order is not delivered and as_of > promised_by: breached, not delivered
    assert (out["orders"], out["delivered"], out["breached"]) == (1, 0, 1)


def test_an_order_created_after_as_of_is_not_in_the_window(figures: Callable[..., dict]) -> None:
    # a window that reaches past as_of: the order is created in [since, until) but after as_of
    window = Window.of(as_of=datetime(2026, 11, 20, tzinfo=UTC), since=SINCE, until=UNTIL)
    out = figures(
        created("O-1", datetime(2026, 11, 20, 0, 0, 1, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC)),
        window=window,
    )
    assert out["orders"] == 0


def test_the_window_is_half_open_since_included_until_excluded(figures: Callable[..., dict]) -> None:
    promise = datetime(2026, 12, 1, tzinfo=UTC)
    out = figures(
        created("O-before", SINCE - timedelta(seconds=1), promise),  # just before since: out
        created("O-since", SINCE, promise),  # exactly since: in
        created("O-last", UNTIL - timedelta(seconds=1), promise),  # just before until: in
        created("O-until", UNTIL, promise),  # exactly until: out
    )
    assert out["orders"] == 2


def test_an_order_created_twice_counts_from_its_earliest_created_event(figures: Callable[..., dict]) -> None:
    promise = datetime(2026, 12, 1, tzinfo=UTC)
    out = figures(
        # first created before the window, re-sent (another id) inside it: created_at is
        # the earliest, before since, so the order is not in the window
        created("O-1", SINCE - timedelta(hours=1), promise, id="O-1-a"),
        created("O-1", SINCE + timedelta(hours=1), promise, id="O-1-b"),
        # created twice inside the window: one order, not two; promised_by of the earliest
        # (already passed at as_of -> breached), not of the later one (still ahead)
        created("O-2", SINCE + timedelta(hours=1), AS_OF - timedelta(hours=1), id="O-2-a"),
        created("O-2", SINCE + timedelta(hours=2), AS_OF + timedelta(days=9), id="O-2-b"),
    )
    assert (out["orders"], out["breached"]) == (1, 1)


def test_cancelled_orders_are_counted_but_left_out_of_orders(figures: Callable[..., dict]) -> None:
    created_at = datetime(2026, 11, 18, tzinfo=UTC)
    promise = datetime(2026, 11, 20, tzinfo=UTC)  # passed at as_of
    out = figures(
        created("O-open", created_at, promise),  # not delivered, past promise: breached
        created("O-cancelled", created_at, promise),  # cancelled: not in orders, not breached
        happened("cancelled", "O-cancelled", created_at + timedelta(hours=1)),
        created("O-later", created_at, promise),  # cancelled only after as_of: still an order
        happened("cancelled", "O-later", AS_OF + timedelta(hours=1)),
    )
    # orders: O-open, O-later (2); cancelled: O-cancelled (1); breached: both orders (2)
    assert out == {
        "orders": 2,
        "delivered": 0,
        "cancelled": 1,
        "breached": 2,
        "breach_rate": 1.0,
        "at_risk": 0,
    }


def test_an_order_delivered_then_cancelled_counts_as_delivered_and_cancelled(
    figures: Callable[..., dict],
) -> None:
    created_at = datetime(2026, 11, 18, tzinfo=UTC)
    out = figures(
        created("O-1", created_at, datetime(2026, 11, 19, tzinfo=UTC)),
        happened("delivered", "O-1", datetime(2026, 11, 20, tzinfo=UTC)),  # late
        happened("cancelled", "O-1", datetime(2026, 11, 21, tzinfo=UTC)),
    )
    # delivered and cancelled count orders in the window; orders and breached exclude it
    assert (out["orders"], out["delivered"], out["cancelled"], out["breached"]) == (0, 1, 1, 0)
    assert out["breach_rate"] == 0.0


def test_at_risk_is_strictly_less_than_at_risk_hours_before_the_promise(figures: Callable[..., dict]) -> None:
    created_at = datetime(2026, 11, 18, tzinfo=UTC)
    out = figures(
        # promised_by - as_of = 24 h exactly: not < 24 h -> not at risk
        created("O-24h", created_at, AS_OF + timedelta(hours=24)),
        # 24 h minus a second: at risk
        created("O-almost", created_at, AS_OF + timedelta(hours=24) - timedelta(seconds=1)),
        # an hour left but shipped: not at risk
        created("O-shipped", created_at, AS_OF + timedelta(hours=1)),
        happened("shipped", "O-shipped", AS_OF - timedelta(hours=2), node_id="DC-EAST"),
        # an hour left but already delivered (on time): not at risk
        created("O-delivered", created_at, AS_OF + timedelta(hours=1)),
        happened("delivered", "O-delivered", AS_OF - timedelta(hours=1)),
        # shipped only after as_of: at risk (an hour left)
        created("O-ships-later", created_at, AS_OF + timedelta(hours=1)),
        happened("shipped", "O-ships-later", AS_OF + timedelta(minutes=1), node_id="DC-EAST"),
        # promise passed: breached, so not at risk
        created("O-breached", created_at, AS_OF - timedelta(hours=1)),
    )
    # at risk: O-almost, O-ships-later; breached: O-breached; 6 orders
    assert (out["orders"], out["at_risk"], out["breached"], out["delivered"]) == (6, 2, 1, 1)


def test_at_risk_hours_is_a_policy(figures: Callable[..., dict]) -> None:
    out = figures(
        created("O-1", datetime(2026, 11, 18, tzinfo=UTC), AS_OF + timedelta(hours=30)),
        policies=Policies(at_risk_hours=36),
    )
    # 30 h left < 36 h
    assert out["at_risk"] == 1


def test_events_arriving_out_of_order_give_the_same_figures(
    engine: Engine, ingest: Callable[..., Any]
) -> None:
    created_at = datetime(2026, 11, 18, tzinfo=UTC)
    promise = datetime(2026, 11, 20, tzinfo=UTC)
    c = created("O-1", created_at, promise)
    d = happened("delivered", "O-1", promise + timedelta(hours=1))  # late
    # the delivery arrives first, in its own batch, then the creation
    ingest(jsonl(d))
    ingest(jsonl(c))
    with engine.connect() as conn, conn.begin():
        out = sla.summary(conn, WINDOW, Policies())
    assert out == {
        "orders": 1,
        "delivered": 1,
        "cancelled": 0,
        "breached": 1,
        "breach_rate": 1.0,
        "at_risk": 0,
    }


def test_a_promise_written_with_an_offset_is_compared_in_utc(figures: Callable[..., dict]) -> None:
    data = {
        "order_id": "O-1",
        "channel": "store",
        # 19:00 at +01:00 is 18:00 UTC
        "promised_by": "2026-11-20T19:00:00+01:00",
        "lines": [{"sku": "SKU-00017", "qty": 1}],
    }
    out = figures(
        event("retail.order.created", data, id="O-1-created", time="2026-11-18T10:00:00+01:00"),
        # 18:00:00Z is exactly the promise: on time
        happened("delivered", "O-1", datetime(2026, 11, 20, 18, tzinfo=UTC)),
    )
    assert (out["orders"], out["delivered"], out["breached"]) == (1, 1, 0)
