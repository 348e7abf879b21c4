"""Benchmark: each metric family against the raw database doing the same work.

Loads N generated events (simulator.generate, the retail mix over 30 days) into a fresh
database (not timed), then for a 7-day window times, in the same run:
  - each family's `summary()` (which reads the projections where they are exact,
    metrics/projections.py) and the whole `ctower metrics` computation,
  - the same summary from the events only (`use_projections=False`), and
  - one hand-written SQL query per family over the raw `events` table (jsonb fields, no
    helper columns): the database's own speed on the naive path.
Twice: as of the end of the data (live: every projection answers) and as of a day in
the middle (replay: inventory and failed deliveries come from events).
Prints seconds (best of --repeat) and the ratio raw / ours (above 1: ours is faster).
Not a test: run `python bench/metrics.py [--events 1000000]`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
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
from metrics import inbound, integrations, inventory, reroutes, returns, sla  # noqa: E402
from metrics.params import Policies, Window  # noqa: E402
from metrics.summary import compute  # noqa: E402
from simulator.generate import generate_events  # noqa: E402

START = datetime(2026, 10, 1, tzinfo=UTC)
AS_OF = datetime(2026, 10, 25, tzinfo=UTC)  # replay: events after it are stored
LIVE_AS_OF = datetime(2026, 11, 1, tzinfo=UTC)  # after the last event (START + 30 days)

# One straightforward query per family over raw events, as someone would first write it.
RAW = {
    "sla": """
        WITH c AS (SELECT DISTINCT ON (data->>'order_id') data->>'order_id' AS o,
                          (data->>'promised_by')::timestamptz AS p
                     FROM events WHERE type = 'retail.order.created'
                      AND time >= :since AND time < :until AND time <= :as_of
                    ORDER BY data->>'order_id', time),
             d AS (SELECT data->>'order_id' AS o, min(time) AS t FROM events
                    WHERE type = 'retail.order.delivered' AND time <= :as_of GROUP BY 1),
             s AS (SELECT DISTINCT data->>'order_id' AS o FROM events
                    WHERE type = 'retail.order.shipped' AND time <= :as_of),
             x AS (SELECT DISTINCT data->>'order_id' AS o FROM events
                    WHERE type = 'retail.order.cancelled' AND time <= :as_of)
        SELECT count(*) FILTER (WHERE x.o IS NULL),
               count(*) FILTER (WHERE x.o IS NULL AND coalesce(d.t > c.p, :as_of > c.p)),
               count(*) FILTER (WHERE x.o IS NULL AND d.t IS NULL AND s.o IS NULL AND :as_of <= c.p
                                  AND c.p - :as_of < interval '24 hours')
          FROM c LEFT JOIN d USING (o) LEFT JOIN s USING (o) LEFT JOIN x USING (o)""",
    "reroutes": """
        WITH c AS (SELECT DISTINCT data->>'order_id' AS o FROM events
                    WHERE type = 'retail.order.created' AND time >= :since AND time < :until
                      AND time <= :as_of),
             r AS (SELECT data->>'order_id' AS o, count(*) AS n FROM events
                    WHERE type = 'retail.order.rerouted' AND time <= :as_of GROUP BY 1)
        SELECT coalesce(sum(r.n), 0), count(r.o), count(*) FILTER (WHERE r.n >= 2)
          FROM c JOIN r USING (o)""",
    "inventory": """
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
                      GROUP BY s.sys, s.loc, s.sku, s.q, s.t)
        SELECT count(*), count(*) FILTER (WHERE abs(o.q - r.q) > greatest(2, 0.05 * abs(r.q)))
          FROM adj r JOIN adj o ON o.loc = r.loc AND o.sku = r.sku AND o.sys <> r.sys
         WHERE r.sys = 'erp'""",
    "integrations": """
        WITH calls AS (SELECT data->>'interface' AS i, data->>'correlation_id' AS c,
                              data->>'status' AS st, time, seq
                         FROM events WHERE type = 'retail.integration.call' AND time <= :as_of),
             w AS (SELECT * FROM calls WHERE time >= :since AND time < :until),
             latest AS (SELECT DISTINCT ON (i, c) i, c, st FROM calls WHERE c <> ''
                         ORDER BY i, c, time DESC, seq DESC)
        SELECT (SELECT count(*) FROM w), (SELECT count(*) FROM w WHERE st <> 'ok'),
               (SELECT count(*) FROM latest l WHERE l.st <> 'ok'
                   AND EXISTS (SELECT 1 FROM w WHERE w.i = l.i AND w.c = l.c)),
               (SELECT count(*) FROM events WHERE time >= :since AND time < :until AND time <= :as_of
                   AND received_at - time > interval '15 minutes')""",
    "inbound": """
        WITH r AS (SELECT DISTINCT ON (data->>'shipment_id') data->>'shipment_id' AS id, time
                     FROM events WHERE type = 'retail.shipment.received' AND time <= :as_of
                    ORDER BY data->>'shipment_id', time),
             a AS (SELECT data->>'shipment_id' AS id, time, (data->>'expected_at')::timestamptz AS expected
                     FROM events WHERE type = 'retail.shipment.asn' AND time <= :as_of),
             judged AS (SELECT DISTINCT ON (r.id) r.id, r.time, a.expected
                          FROM r LEFT JOIN a ON a.id = r.id AND a.time < r.time
                         WHERE r.time >= :since AND r.time < :until
                         ORDER BY r.id, a.time DESC NULLS LAST)
        SELECT count(*) FILTER (WHERE expected IS NULL OR time > expected + interval '4 hours')
          FROM judged""",
    "returns": """
        WITH r AS (SELECT data->>'return_id' AS id, min(time) AS t FROM events
                    WHERE type = 'retail.return.received' AND time >= :since AND time < :until
                      AND time <= :as_of GROUP BY 1),
             s AS (SELECT data->>'return_id' AS id, min(time) AS t FROM events
                    WHERE type = 'retail.return.restocked' AND time <= :as_of GROUP BY 1)
        SELECT count(*), count(s.id),
               count(*) FILTER (WHERE coalesce(s.t, :as_of) - r.t > interval '48 hours')
          FROM r LEFT JOIN s USING (id)""",
}
OURS = {
    "sla": sla.summary,
    "reroutes": reroutes.summary,
    "inventory": inventory.summary,
    "integrations": integrations.summary,
    "inbound": inbound.summary,
    "returns": returns.summary,
}


def best_of(repeat: int, work) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def report(engine: sa.Engine, label: str, window: Window, policies: Policies, repeat: int) -> None:
    params = window.params()
    print(
        f"{label}: window [{window.since:%Y-%m-%d}, {window.until:%Y-%m-%d}), as of {window.as_of:%Y-%m-%d}"
    )
    print(f"{'family':<14} {'ours s':>8} {'events s':>9} {'raw SQL s':>10} {'raw/ours':>9}")
    with engine.connect() as conn:
        for family, summary in OURS.items():
            ours = best_of(repeat, lambda s=summary: s(conn, window, policies))
            events = best_of(repeat, lambda s=summary: s(conn, window, policies, use_projections=False))
            raw = best_of(repeat, lambda f=family: conn.execute(sa.text(RAW[f]), params).all())
            print(f"{family:<14} {ours:>8.3f} {events:>9.3f} {raw:>10.3f} {raw / ours:>8.2f}x", flush=True)
    whole = best_of(repeat, lambda: compute(engine, window, policies))
    print(f"{'all (ctower metrics)':<24} {whole:>8.3f} s", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="ctower-bench-metrics-"))
    try:
        url = embedded.start(data_dir)
        engine = get_engine(url)
        migrate(engine)
        started = time.perf_counter()
        records = ((n, orjson.dumps(e)) for n, e in enumerate(generate_events(args.events, start=START), 1))
        counts = ingest_records(engine, records, RunInfo(origin="bench/metrics.py"))
        print(f"loaded {counts.accepted:,} events in {time.perf_counter() - started:.0f} s")
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        for label, as_of in (("live", LIVE_AS_OF), ("replay", AS_OF)):
            report(engine, label, Window.of(as_of=as_of), Policies(), args.repeat)
        engine.dispose()
    finally:
        embedded.stop(data_dir, immediate=True)
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
