"""A small hand-built order log for the process tests (tests/test_process.py, the page test).

Hours after each order's creation; T0 = 2026-11-10 00:00 UTC; A picked twice (two items):

    order  channel  created   steps (hour: step @ node)
    O-A    web      T0        1 routed @STORE-0042, 3 picked, 4 picked, 5 packed, 8 shipped, 32 delivered
    O-B    web      T0+1h     2 routed @DC-EAST, 4 picked, 6 packed, 10 shipped, 22 delivered
    O-C    store    T0+2h     1 routed @STORE-0042, 3 rerouted -> DC-EAST, 7 picked, 8 packed,
                              9 shipped, 15 delivered
    O-D    web      T0+3h     1 routed @STORE-0042, 2 cancelled
    O-E    web      T0+4h     1 routed @STORE-0042
    O-OLD  web      T0-5d     1 routed (created before the window: not counted)

The window is [T0 - 1 day, T0 + 2 days), as of T0 + 10 days.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from metrics.params import Window
from tests.builders import DC, SKU, STORE, event

T0 = datetime(2026, 11, 10, tzinfo=UTC)
WINDOW = Window.of(T0 + timedelta(days=10), T0 - timedelta(days=1), T0 + timedelta(days=2))


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _order(
    order: str, channel: str, created: datetime, steps: list[tuple[float, str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    out = [
        event(
            "retail.order.created",
            {
                "order_id": order,
                "channel": channel,
                "promised_by": iso(created + timedelta(days=3)),
                "lines": [{"sku": SKU, "qty": 2}],
            },
            id=f"{order}-created",
            time=iso(created),
            subject=order,
        )
    ]
    for number, (hours, step, data) in enumerate(steps, start=1):
        out.append(
            event(
                f"retail.order.{step}",
                {"order_id": order, **data},
                id=f"{order}-{number}-{step}",
                time=iso(created + timedelta(hours=hours)),
                subject=order,
            )
        )
    return out


def at(node: str) -> dict[str, Any]:
    return {"node_id": node}


EVENTS: list[dict[str, Any]] = [
    *_order(
        "O-A",
        "web",
        T0,
        [
            (1, "routed", at(STORE)),
            (3, "picked", at(STORE)),
            (4, "picked", at(STORE)),
            (5, "packed", at(STORE)),
            (8, "shipped", at(STORE)),
            (32, "delivered", {}),
        ],
    ),
    *_order(
        "O-B",
        "web",
        T0 + timedelta(hours=1),
        [
            (2, "routed", at(DC)),
            (4, "picked", at(DC)),
            (6, "packed", at(DC)),
            (10, "shipped", at(DC)),
            (22, "delivered", {}),
        ],
    ),
    *_order(
        "O-C",
        "store",
        T0 + timedelta(hours=2),
        [
            (1, "routed", at(STORE)),
            (3, "rerouted", {"from_node": STORE, "to_node": DC, "reason": "stockout"}),
            (7, "picked", at(DC)),
            (8, "packed", at(DC)),
            (9, "shipped", at(DC)),
            (15, "delivered", {}),
        ],
    ),
    *_order("O-D", "web", T0 + timedelta(hours=3), [(1, "routed", at(STORE)), (2, "cancelled", {})]),
    *_order("O-E", "web", T0 + timedelta(hours=4), [(1, "routed", at(STORE))]),
    *_order("O-OLD", "web", T0 - timedelta(days=5), [(1, "routed", at(STORE))]),
]

HAPPY = "created → routed → picked → packed → shipped → delivered"
REROUTED = "created → routed → rerouted → picked → packed → shipped → delivered"
CANCELLED = "created → routed → cancelled"
OPEN = "created → routed"
