"""Process intelligence on the order process: variants, the directly-follows graph, the
bottlenecks and the orders that deviate from the expected sequence.

Over the orders of the window (created in `[since, until)`, at or before `as_of`, as in
metrics/sla.py) narrowed by the scope, each order's steps are its order events with
`time <= as_of` (created, routed, rerouted, picked, packed, shipped, delivered,
cancelled, exception), by business time; consecutive repeats of one step count once (an
order picked item by item is "picked" once). Definitions, computed in SQL from the
process projection `order_process` (sql/migrations/0017_process_projection.sql: per order
its steps, their times, the waits into them and where they happened, kept current at
ingest; exact for any as_of), one row per order of the window:

- a **variant** is a step sequence ("created → routed → picked → ..."); per variant:
  orders, share of the window's orders, p50/p90 hours from created to the last step;
- the **directly-follows graph**: nodes are steps; an edge a → b counts each time b comes
  directly after a in an order; its wait is the time from the event just before b (the
  last of a repeated run of a) to b, p50/p90 in hours;
- the **bottleneck view**: the same waits per edge, broken down by node (where the step
  happened, else the order's current node) or by channel, longest p90 first;
- the **expected sequence** is created → routed → picked → packed → shipped → delivered;
  an order conforms when its sequence is a prefix of it (an open order is a prefix),
  optionally ending in cancelled (cancellation is an allowed end at any point). Any other
  sequence deviates: a reroute, an exception, a skipped or repeated step, a step after
  delivery. `first_deviation` says where.

Every function takes a connection, the window, the scope and the policies (none of the
figures has a threshold yet), returns aggregated rows only; the "orders of" functions are
capped at `limit` rows and carry the exact count. `process_page` gives everything the
Process page shows first in one call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from app.db.engine import query_frame, sql_text
from metrics.params import ALL, Policies, Scope, Window

if TYPE_CHECKING:
    import polars as pl

STEPS = (
    "created",
    "routed",
    "rerouted",
    "picked",
    "packed",
    "shipped",
    "delivered",
    "cancelled",
    "exception",
)
EXPECTED = ("created", "routed", "picked", "packed", "shipped", "delivered")
ALLOWED_END = "cancelled"
ARROW = " → "
ORDERS_LIMIT = 200
VARIANTS_LIMIT = 500
BOTTLENECK_DIMENSIONS = ("node", "channel")


def expected_pattern() -> str:
    """The regular expression (PostgreSQL ARE) of the conforming sequences."""
    nested = ""
    for step in reversed(EXPECTED[1:]):
        nested = f"({ARROW}{step}{nested})?"
    return f"^{EXPECTED[0]}{nested}({ARROW}{ALLOWED_END})?$"


def conforms(variant: str) -> bool:
    return re.fullmatch(expected_pattern().strip("^$"), variant) is not None


def first_deviation(variant: str) -> str | None:
    """Where a sequence leaves the expected one, in words; None when it conforms."""
    steps = variant.split(ARROW)
    position = 0  # the index in EXPECTED of the next step expected
    for number, step in enumerate(steps):
        last = number == len(steps) - 1
        if position < len(EXPECTED) and step == EXPECTED[position]:
            position += 1
            continue
        if step == ALLOWED_END and last and number > 0:
            return None
        before = steps[number - 1] if number else "the start"
        wanted = EXPECTED[position] if position < len(EXPECTED) else "nothing (delivered is the end)"
        return f"{step} after {before}, expected {wanted}"
    return None


def code(step: str) -> int:
    """A step's code in the projection (process_step_name, migration 0017): 1 created .. 9."""
    if step not in STEPS:
        raise ValueError(f"unknown step {step!r}: one of {', '.join(STEPS)}")
    return STEPS.index(step) + 1


def codes(variant: str) -> list[int]:
    """A variant's steps as codes ("created → routed" -> [1, 2])."""
    return [code(step) for step in variant.split(ARROW)]


def _params(window: Window, scope: Scope) -> dict[str, Any]:
    return {**window.params(), **scope.params()}


def _conformance_params() -> dict[str, Any]:
    return {"expected": [code(s) for s in EXPECTED], "allowed_end": code(ALLOWED_END)}


NODE_COLUMNS = ("step", "visits", "orders", "starts", "ends")
EDGE_COLUMNS = ("from_step", "to_step", "transitions", "orders", "p50_wait_hours", "p90_wait_hours")
VARIANT_COLUMNS = ("variant", "steps", "orders", "share", "p50_hours", "p90_hours", "variants")


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pl.DataFrame:
    import polars as pl

    floats = {c for c in columns if c.endswith("hours") or c == "share"}
    schema = {
        c: pl.Float64
        if c in floats
        else pl.String
        if c in ("variant", "step", "from_step", "to_step")
        else pl.Int64
        for c in columns
    }
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def process_map(
    conn: Connection,
    window: Window,
    scope: Scope = ALL,
    policies: Policies | None = None,
    *,
    limit: int = VARIANTS_LIMIT,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(variants, nodes, edges) in one pass over the orders' steps (sql/process/map.sql):

    - variants: variant, steps, orders, share, p50_hours, p90_hours, variants (the number
      of distinct sequences), most frequent first, at most `limit`;
    - nodes: step, visits, orders, starts, ends;
    - edges: from_step, to_step, transitions, orders, p50_wait_hours, p90_wait_hours.
    """
    return process_overview(conn, window, scope, policies, limit=limit)[1:]


def process_summary(
    conn: Connection,
    window: Window,
    scope: Scope = ALL,
    policies: Policies | None = None,
    *,
    limit: int = VARIANTS_LIMIT,
) -> tuple[dict[str, int], pl.DataFrame, pl.DataFrame, dict[int, int]]:
    """(conformance, variants, nodes, edge orders) in ONE pass over the window's orders
    (sql/process/map.sql): what the Process page shows first. Edge orders: per edge code
    (from * 10 + to), the orders that made it; `edges` adds the transitions and waits."""
    conn.execute(sql_text("process/work_mem"))  # sorts of a month of orders in memory, not on disk
    params = {**_params(window, scope), "limit": limit, **_conformance_params()}
    row = conn.execute(sql_text("process/map"), params).one()
    return (
        {k: int(v) for k, v in row.conformance.items()},
        _frame(row.variants, VARIANT_COLUMNS),
        _frame(row.nodes, NODE_COLUMNS),
        {int(e["code"]): int(e["orders"]) for e in row.edge_orders},
    )


def edges(
    conn: Connection,
    window: Window,
    scope: Scope = ALL,
    policies: Policies | None = None,
    *,
    orders: dict[int, int] | None = None,
) -> pl.DataFrame:
    """The directly-follows graph's edges (sql/process/edges.sql: one pass unnesting the
    orders' transitions): from_step, to_step, transitions, orders, p50/p90_wait_hours,
    most frequent first. `orders`: the edge orders of `process_summary` for the same
    window and scope (read here when not given)."""
    if orders is None:
        orders = process_summary(conn, window, scope, policies, limit=1)[3]
    conn.execute(sql_text("process/work_mem"))
    rows = conn.execute(sql_text("process/edges"), _params(window, scope)).mappings().all()
    with_orders = [{**r, "orders": orders.get(r["code"], 0)} for r in rows]
    return _frame([{c: r[c] for c in EDGE_COLUMNS} for r in with_orders], EDGE_COLUMNS)


def process_overview(
    conn: Connection,
    window: Window,
    scope: Scope = ALL,
    policies: Policies | None = None,
    *,
    limit: int = VARIANTS_LIMIT,
) -> tuple[dict[str, int], pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """`conformance` and `process_map`: (conformance, variants, nodes, edges), from the
    summary's one pass and the edges' one pass."""
    summary, variants_, nodes, edge_orders = process_summary(conn, window, scope, policies, limit=limit)
    return summary, variants_, nodes, edges(conn, window, scope, policies, orders=edge_orders)


def variants(
    conn: Connection,
    window: Window,
    scope: Scope = ALL,
    policies: Policies | None = None,
    *,
    limit: int = VARIANTS_LIMIT,
) -> pl.DataFrame:
    """The variants of `process_summary`."""
    return process_summary(conn, window, scope, policies, limit=limit)[1]


def dfg(
    conn: Connection, window: Window, scope: Scope = ALL, policies: Policies | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The directly-follows graph of `process_map`: (nodes, edges)."""
    _summary, _variants, nodes, edge_orders = process_summary(conn, window, scope, policies, limit=1)
    return nodes, edges(conn, window, scope, policies, orders=edge_orders)


def bottlenecks(
    conn: Connection,
    window: Window,
    scope: Scope = ALL,
    policies: Policies | None = None,
    *,
    by: str = "node",
    limit: int = 50,
) -> pl.DataFrame:
    """value (a node or a channel), from_step, to_step, transitions, p50/p90_wait_hours,
    longest p90 first."""
    if by not in BOTTLENECK_DIMENSIONS:
        raise ValueError(f"by must be one of {', '.join(BOTTLENECK_DIMENSIONS)}, not {by!r}")
    conn.execute(sql_text("process/work_mem"))
    return query_frame(conn, "process/bottlenecks", **_params(window, scope), by=by, limit=limit)


def conformance(
    conn: Connection, window: Window, scope: Scope = ALL, policies: Policies | None = None
) -> dict[str, int]:
    """{"orders", "complete", "cancelled", "in_progress", "deviating"} against EXPECTED."""
    return process_summary(conn, window, scope, policies, limit=1)[0]


def deviating_orders(
    conn: Connection,
    window: Window,
    scope: Scope = ALL,
    policies: Policies | None = None,
    *,
    limit: int = ORDERS_LIMIT,
) -> pl.DataFrame:
    """The first `limit` orders that deviate, oldest first (sql/process/deviations.sql,
    which stops there): order_id, created_at, channel, node, variant, hours, deviation. How
    many deviate in all is the conformance's "deviating"."""
    import polars as pl

    conn.execute(sql_text("process/work_mem"))  # the scope's order set hashed in memory
    frame = query_frame(
        conn, "process/deviations", **_params(window, scope), **_conformance_params(), limit=limit
    )
    if frame.height:
        frame = frame.with_columns(
            pl.col("variant").map_elements(first_deviation, return_dtype=pl.String).alias("deviation")
        )
    return frame


def deviations(
    conn: Connection,
    window: Window,
    scope: Scope = ALL,
    policies: Policies | None = None,
    *,
    limit: int = ORDERS_LIMIT,
) -> tuple[pl.DataFrame, int]:
    """(orders that deviate, oldest first, at most `limit`: as `deviating_orders`; the exact
    number of them, from `conformance`)."""
    total = conformance(conn, window, scope, policies)["deviating"]
    return deviating_orders(conn, window, scope, policies, limit=limit if total else 0), total


@dataclass(frozen=True)
class ProcessPage:
    """What the Process page shows first, from one pass (`process_page`); the graph's
    edges (`edges`), the bottlenecks and the deviating orders are read when their tab opens."""

    summary: dict[str, int]
    variants: pl.DataFrame
    nodes: pl.DataFrame
    edge_orders: dict[int, int]


def process_page(
    conn: Connection, window: Window, scope: Scope = ALL, policies: Policies | None = None
) -> ProcessPage:
    """The conformance, the variants, the graph's nodes and the orders on each edge, from
    the process projection in one pass (`process_summary`)."""
    return ProcessPage(*process_summary(conn, window, scope, policies))


def variant_orders(
    conn: Connection,
    window: Window,
    variant: str,
    scope: Scope = ALL,
    policies: Policies | None = None,
    *,
    limit: int = ORDERS_LIMIT,
) -> tuple[pl.DataFrame, int]:
    """(the orders of one variant, longest first, at most `limit`: order_id, created_at,
    channel, node, hours; the exact number of them)."""
    conn.execute(sql_text("process/work_mem"))
    frame = query_frame(
        conn, "process/variant_orders", **_params(window, scope), steps=codes(variant), limit=limit
    )
    total = int(frame["total"][0]) if frame.height else 0
    return frame.drop("total", strict=False), total


def edge_orders(
    conn: Connection,
    window: Window,
    from_step: str,
    to_step: str,
    scope: Scope = ALL,
    policies: Policies | None = None,
    *,
    limit: int = ORDERS_LIMIT,
) -> tuple[pl.DataFrame, int]:
    """(the orders that made the edge from_step → to_step, longest wait first, at most
    `limit`: order_id, created_at, channel, node, transitions, wait_hours; the exact number)."""
    conn.execute(sql_text("process/work_mem"))
    frame = query_frame(
        conn,
        "process/edge_orders",
        **_params(window, scope),
        edge=code(from_step) * 10 + code(to_step),
        limit=limit,
    )
    total = int(frame["total"][0]) if frame.height else 0
    return frame.drop("total", strict=False), total
