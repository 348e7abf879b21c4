"""Benchmark: the server-side render time of every page of the app, on N events.

Loads N generated events (simulator.generate, the retail mix over 30 days, as
bench/metrics.py does) into a fresh embedded database (not timed), then for each page
listed in app/streamlit_app.py runs it with Streamlit's AppTest (the whole script: entry
point, filters, banner, the page), as of the end of the data with the default 7-day
window:
  - first: every Streamlit cache cleared and the kept past figures (metrics.past) emptied:
    the first view of these windows (the database's own caches stay warm);
  - cold: every Streamlit cache cleared, the past figures kept (on a running deployment the
    scheduler's past-figures job computes the Overview's previous window ahead);
  - warm: the same session run again (cached figures, as a user's next rerun).
For the metric queries the pages make (the Overview's two windows of every family, the
Integrations, Fulfilment and Inventory pages' figures and breakdowns) it also times the same
work from the raw database: hand-written queries over `events` (bench/metrics.py's RAW for
the summaries, RAW_PAGES below for the breakdowns), and prints raw / ours.
Targets (issue 5): every page under 1 s at 10M events (cold), warm under 0.3 s.

    python bench/pages.py [--events 1000000] [--repeat 3] [--pages overview.py,...]
                          [--region R] [--channel C] [--node N] [--source S] [--keep DIR]

With --keep DIR the database lives in DIR and is kept: a later run with the same DIR
reuses it (migrating it first) instead of loading the events again; a server already
running on DIR is used and left running.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path

import orjson
import psycopg
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.db import embedded  # noqa: E402
from app.db.engine import get_engine  # noqa: E402
from app.db.migrate import migrate  # noqa: E402
from app.ingest.store import RunInfo, ingest_records  # noqa: E402
from metrics import fulfilment, integrations, inventory  # noqa: E402
from metrics.params import Policies, Scope, Window  # noqa: E402
from metrics.summary import compute  # noqa: E402
from simulator.generate import generate_events  # noqa: E402

ENTRY = REPO / "app" / "streamlit_app.py"
AS_OF = "2026-11-01T00:00:00Z"  # bench/metrics.py's LIVE_AS_OF: after the last event


def _bench_metrics() -> types.ModuleType:
    """bench/metrics.py (its START and RAW queries); `metrics` is the package's name."""
    spec = importlib.util.spec_from_file_location("bench_metrics", REPO / "bench" / "metrics.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench_metrics()


# The pages' breakdowns as someone would first write them over raw events (jsonb fields, no
# helper columns, no projections), to time beside ours: what the raw database does for the
# same figures. (bench/metrics.py's RAW covers the summaries.)
RAW_PAGES = {
    "sla_breakdowns": """
        WITH c AS (SELECT DISTINCT ON (data->>'order_id') data->>'order_id' AS o, data->>'channel' AS ch,
                          (data->>'promised_by')::timestamptz AS p
                     FROM events WHERE type = 'retail.order.created'
                      AND time >= :since AND time < :until AND time <= :as_of
                    ORDER BY data->>'order_id', time),
             d AS (SELECT data->>'order_id' AS o, min(time) AS t FROM events
                    WHERE type = 'retail.order.delivered' AND time <= :as_of GROUP BY 1),
             x AS (SELECT DISTINCT data->>'order_id' AS o FROM events
                    WHERE type = 'retail.order.cancelled' AND time <= :as_of),
             n AS (SELECT DISTINCT ON (data->>'order_id') data->>'order_id' AS o,
                          coalesce(data->>'to_node', data->>'node_id') AS node
                     FROM events WHERE type IN ('retail.order.routed', 'retail.order.rerouted')
                      AND time <= :as_of
                    ORDER BY data->>'order_id', time DESC, seq DESC)
        SELECT c.ch, n.node, count(*), count(*) FILTER (WHERE coalesce(d.t > c.p, :as_of > c.p))
          FROM c LEFT JOIN d USING (o) LEFT JOIN x USING (o) LEFT JOIN n USING (o)
         WHERE x.o IS NULL
         GROUP BY GROUPING SETS ((c.ch), (n.node))""",
    "reroute_breakdowns": """
        WITH c AS (SELECT DISTINCT data->>'order_id' AS o FROM events
                    WHERE type = 'retail.order.created' AND time >= :since AND time < :until
                      AND time <= :as_of),
             r AS (SELECT data->>'order_id' AS o, data->>'reason' AS reason, data->>'from_node' AS from_node
                     FROM events WHERE type = 'retail.order.rerouted' AND time <= :as_of)
        SELECT r.reason, r.from_node, count(*), count(DISTINCT r.o)
          FROM c JOIN r USING (o)
         GROUP BY GROUPING SETS ((r.reason), (r.from_node))""",
    "inventory_breakdowns": """
        WITH snap AS (SELECT DISTINCT ON (data->>'system', data->>'location_id', data->>'sku')
                             data->>'system' AS sys, data->>'location_id' AS loc, data->>'sku' AS sku,
                             time AS t, (data->>'on_hand')::int AS q
                        FROM events WHERE type = 'retail.inventory.snapshot' AND time <= :as_of
                       ORDER BY data->>'system', data->>'location_id', data->>'sku', time DESC),
             adj AS (SELECT s.sys, s.loc, s.sku, s.q + coalesce(sum((e.data->>'delta')::int), 0) AS q, s.t
                       FROM snap s LEFT JOIN events e
                         ON e.type = 'retail.inventory.adjusted' AND e.data->>'system' = s.sys
                        AND e.data->>'location_id' = s.loc AND e.data->>'sku' = s.sku
                        AND e.time > s.t AND e.time <= :as_of
                      GROUP BY s.sys, s.loc, s.sku, s.q, s.t),
             prod AS (SELECT DISTINCT ON (data->>'sku') data->>'sku' AS sku, data->>'category' AS cat,
                             (data->>'unit_cost')::numeric AS cost
                        FROM events WHERE type = 'retail.product.upserted' AND time <= :as_of
                       ORDER BY data->>'sku', time DESC, seq DESC),
             pairs AS (SELECT o.loc, o.sys, p.cat, abs(o.q - r.q) AS gap, coalesce(p.cost, 0) AS cost,
                              abs(o.q - r.q) > greatest(2, 0.05 * abs(r.q)) AS off
                         FROM adj r JOIN adj o ON o.loc = r.loc AND o.sku = r.sku AND o.sys <> r.sys
                         LEFT JOIN prod p ON p.sku = o.sku
                        WHERE r.sys = 'erp')
        SELECT loc, sys, cat, count(*), count(*) FILTER (WHERE off), sum(gap) FILTER (WHERE off),
               sum(gap * cost) FILTER (WHERE off),
               (SELECT count(*) FILTER (WHERE q < 0) FROM adj),
               (SELECT count(*) FILTER (WHERE t < :as_of - interval '6 hours') FROM adj)
          FROM pairs
         GROUP BY GROUPING SETS ((), (loc), (sys), (cat))""",
}


def pages() -> list[str]:
    """The page files app/streamlit_app.py lists, in its order."""
    return re.findall(r'PAGES / "([a-z_]+\.py)"', ENTRY.read_text())


def best_of(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def forget_past_figures(engine: sa.Engine) -> None:
    """Empty the kept past figures (metrics.past): the first view of a window."""
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM past_figures"))


def render(page: str, query: dict[str, str]) -> tuple[float, float, str]:
    """Cold and warm seconds of one page, and its first exception or error (else "")."""
    import streamlit as st
    from streamlit.logger import set_log_level
    from streamlit.testing.v1 import AppTest

    set_log_level("error")  # not "no runtime found": AppTest runs without a server
    st.cache_data.clear()
    at = AppTest.from_file(str(ENTRY), default_timeout=600)
    at.query_params.update(query)
    at.switch_page(f"../pages/{page}")
    started = time.perf_counter()
    at.run()
    cold = time.perf_counter() - started
    started = time.perf_counter()
    at.run()
    warm = time.perf_counter() - started
    problem = ""
    if at.exception:
        problem = f"exception: {at.exception[0].message[:80]}"
    elif at.error:
        problem = f"error: {str(at.error[0].value)[:80]}"
    return cold, warm, problem


def line(label: str, ours: float, raw: float) -> None:
    ratio = raw / ours
    print(f"{label:<30} ours {ours:>8.3f} s   raw SQL {raw:>8.3f} s   raw/ours {ratio:>6.2f}x", flush=True)


def metric_queries(engine: sa.Engine, window: Window, scope: Scope, repeat: int) -> None:
    """The pages' metric work, ours vs the raw database's hand-written queries."""
    from metrics.past import previous

    RAW = BENCH.RAW

    windows = (window, previous(window))
    policies = Policies()
    ours = best_of(repeat, lambda: [compute(engine, w, policies, scope=scope) for w in windows])

    def raw() -> None:
        with engine.connect() as conn:
            for w in windows:
                for sql in RAW.values():
                    conn.execute(sa.text(sql), w.params()).all()

    raw_s = best_of(repeat, raw)
    line("overview metrics (2 windows)", ours, raw_s)

    def ours_integrations() -> None:
        with engine.connect() as conn:
            integrations.summary(conn, window, policies, scope=scope)
            integrations.by_interface(conn, window, policies, scope=scope)
            integrations.delayed_by_source(conn, window, policies, scope=scope)

    ours_i = best_of(repeat, ours_integrations)

    def raw_integrations() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text(RAW["integrations"]), window.params()).all()

    raw_i = best_of(repeat, raw_integrations)
    line("integrations page metrics", ours_i, raw_i)

    def ours_fulfilment() -> None:  # the page's one pass (metrics.fulfilment)
        with engine.connect() as conn:
            fulfilment.figures(conn, window, policies, scope=scope)

    def raw_fulfilment() -> None:
        with engine.connect() as conn:
            for sql in (
                RAW["sla"],
                RAW["reroutes"],
                RAW_PAGES["sla_breakdowns"],
                RAW_PAGES["reroute_breakdowns"],
            ):
                conn.execute(sa.text(sql), window.params()).all()

    line("fulfilment page metrics", best_of(repeat, ours_fulfilment), best_of(repeat, raw_fulfilment))

    def ours_inventory() -> None:
        with engine.connect() as conn:
            inventory.figures(conn, window, policies, scope=scope)

    def raw_inventory() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text(RAW_PAGES["inventory_breakdowns"]), window.params()).all()

    line("inventory page metrics", best_of(repeat, ours_inventory), best_of(repeat, raw_inventory))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pages", help="comma-separated page files (default: every page of the app)")
    for name in ("region", "channel", "node", "source"):
        parser.add_argument(f"--{name}", help=f"the {name} filter of every page (default: all)")
    parser.add_argument("--keep", type=Path, help="keep the database in this folder and reuse it")
    args = parser.parse_args()
    scope = Scope(region=args.region, channel=args.channel, node=args.node, source=args.source)
    query = {"as_of": AS_OF, **{k: v for k, v in scope.params().items() if v}}

    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="ctower-bench-pages-"))
    was_running = embedded.is_running(data_dir)  # a kept store's server someone else started: left up
    try:
        url = embedded.start(data_dir)
        engine = get_engine(url)
        migrate(engine)
        with engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one()
        if stored:
            print(f"reusing the database in {data_dir}: {stored:,} events; {os.cpu_count()} cores")
        else:
            started = time.perf_counter()
            records = (
                (n, orjson.dumps(e)) for n, e in enumerate(generate_events(args.events, start=BENCH.START), 1)
            )
            counts = ingest_records(engine, records, RunInfo(origin="bench/pages.py"))
            took = time.perf_counter() - started
            print(f"loaded {counts.accepted:,} events in {took:.0f} s; {os.cpu_count()} cores")
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")

        os.environ["DATABASE_URL"] = url
        from app.settings import load_settings

        load_settings.cache_clear()
        print(f"pages as of {AS_OF}, 7-day window, filters {query}")
        render(pages()[0], query)  # not timed: the first AppTest run imports the app's modules
        print(
            "first: every cache cleared and no kept past figure (the first view of these windows);\n"
            "cold: Streamlit's caches cleared, the past figures kept (as the scheduler's past-figures\n"
            "job keeps them ahead on a running deployment); warm: the same session run again"
        )
        print(f"{'page':<20} {'first s':>8} {'cold s':>8} {'warm s':>8}  {'<1 s':>5} {'<0.3 s':>7}")
        chosen = args.pages.split(",") if args.pages else pages()
        for page in chosen:
            forget_past_figures(engine)
            first, _warm, problem = render(page, query)
            cold, warm, problem_again = render(page, query)
            print(
                f"{page:<20} {first:>8.3f} {cold:>8.3f} {warm:>8.3f}  {'yes' if cold < 1 else 'NO':>5} "
                f"{'yes' if warm < 0.3 else 'NO':>7}  {problem or problem_again}",
                flush=True,
            )
        from datetime import datetime

        window = Window.of(as_of=datetime.fromisoformat(AS_OF))
        metric_queries(engine, window, scope, args.repeat)
        engine.dispose()
    finally:
        if args.keep:
            if not was_running:
                embedded.stop(data_dir)
        else:
            embedded.stop(data_dir, immediate=True)
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
