"""The audit log: appended in the caller's transaction, append-only, hash-chained."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app import audit

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _record(conn: sa.Connection, n: int, **overrides: object) -> int:
    fields: dict = {
        "actor": "maria",
        "role": "manager",
        "action": "order.reroute",
        "entity_kind": "order",
        "entity_key": f"ORD-{n:06d}",
        "reason": "stockout at STORE-0042",
        "before": {"node": "STORE-0042"},
        "after": {"node": "DC-EAST"},
        "detail": None,
        "at": T0 + timedelta(minutes=n),
    }
    fields.update(overrides)
    return audit.record(conn, **fields)


def _seed(engine: Engine, n: int) -> list[int]:
    with engine.begin() as conn:
        return [_record(conn, i) for i in range(1, n + 1)]


def _tamper(engine: Engine, *statements: str) -> None:
    """What a superuser can do: switch the append-only trigger off, change, switch it on."""
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_or_delete"))
        for statement in statements:
            conn.execute(sa.text(statement))
        conn.execute(sa.text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_or_delete"))


def test_rows_are_numbered_from_one_and_each_links_to_the_one_before(engine: Engine) -> None:
    assert _seed(engine, 3) == [1, 2, 3]
    with engine.connect() as conn:
        links = conn.execute(sa.text("SELECT audit_id, prev_hash, hash FROM audit_log ORDER BY 1")).all()
    assert links[0].prev_hash is None
    assert links[1].prev_hash == links[0].hash
    assert links[2].prev_hash == links[1].hash
    assert len({r.hash for r in links}) == 3
    assert all(len(r.hash) == 64 for r in links)


def test_an_untouched_chain_verifies_with_its_row_count(engine: Engine) -> None:
    _seed(engine, 5)
    with engine.connect() as conn:
        result = audit.verify(conn)
    assert result.ok
    assert result.message() == "audit chain intact: 5 rows"


def test_an_empty_log_verifies_with_zero_rows(engine: Engine) -> None:
    with engine.connect() as conn:
        assert audit.verify(conn).message() == "audit chain intact: 0 rows"


def test_a_row_rolled_back_with_its_transaction_leaves_no_row_and_no_gap(engine: Engine) -> None:
    _seed(engine, 1)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        _record(conn, 2)
        raise RuntimeError("the change failed after its audit row")
    with engine.begin() as conn:
        assert _record(conn, 3) == 2
        assert audit.verify(conn).message() == "audit chain intact: 2 rows"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET reason = 'nothing happened' WHERE audit_id = 1",
        "DELETE FROM audit_log WHERE audit_id = 1",
        "TRUNCATE audit_log",
    ],
)
def test_the_database_refuses_to_change_delete_or_truncate_audit_rows(engine: Engine, statement: str) -> None:
    _seed(engine, 2)
    with pytest.raises(sa.exc.DBAPIError, match="audit_log is append-only"), engine.begin() as conn:
        conn.execute(sa.text(statement))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one() == 2


def test_a_row_changed_behind_the_triggers_back_is_named_by_verify(engine: Engine) -> None:
    _seed(engine, 5)
    _tamper(engine, 'UPDATE audit_log SET after = \'{"node": "DC-WEST"}\' WHERE audit_id = 3')
    with engine.connect() as conn:
        result = audit.verify(conn)
    assert not result.ok
    assert result.bad_audit_id == 3
    assert result.message().startswith("audit chain broken at audit_id 3: content changed")


def test_a_row_whose_hash_was_recomputed_after_a_change_breaks_the_next_link(engine: Engine) -> None:
    _seed(engine, 5)
    _tamper(
        engine,
        "UPDATE audit_log SET actor = 'someone', hash = audit_row_hash(prev_hash, audit_id, at, "
        "'someone', role, action, entity_kind, entity_key, reason, before, after, detail) "
        "WHERE audit_id = 2",
    )
    with engine.connect() as conn:
        result = audit.verify(conn)
    assert result.bad_audit_id == 3
    assert "chain broken" in result.message()


def test_a_row_deleted_from_the_middle_is_reported_at_the_row_after_it(engine: Engine) -> None:
    _seed(engine, 5)
    _tamper(engine, "DELETE FROM audit_log WHERE audit_id = 3")
    with engine.connect() as conn:
        result = audit.verify(conn)
    assert result.rows == 4
    assert result.bad_audit_id == 4
    assert "a row was deleted or reordered" in result.message()


def test_two_rows_swapping_places_are_detected_at_the_first_of_them(engine: Engine) -> None:
    _seed(engine, 4)
    _tamper(
        engine,
        "UPDATE audit_log SET audit_id = -2 WHERE audit_id = 2",
        "UPDATE audit_log SET audit_id = 2 WHERE audit_id = 3",
        "UPDATE audit_log SET audit_id = 3 WHERE audit_id = -2",
    )
    with engine.connect() as conn:
        assert audit.verify(conn).bad_audit_id == 2


def test_the_newest_row_deleted_is_reported_as_missing(engine: Engine) -> None:
    _seed(engine, 3)
    _tamper(engine, "DELETE FROM audit_log WHERE audit_id = 3")
    with engine.connect() as conn:
        result = audit.verify(conn)
    assert result.bad_audit_id == 3
    assert "newest rows missing" in result.message()


def test_two_writers_at_once_keep_one_unbroken_chain(engine: Engine) -> None:
    per_writer, writers = 30, 2
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(who: str) -> None:
        try:
            start.wait()
            for i in range(per_writer):
                with engine.begin() as conn:  # a connection of its own per transaction
                    _record(conn, i, actor=who)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f"writer{w}",)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        assert audit.verify(conn).message() == "audit chain intact: 60 rows"
        ids = conn.execute(sa.text("SELECT audit_id FROM audit_log ORDER BY 1")).scalars().all()
        counts = conn.execute(sa.text("SELECT actor, count(*) FROM audit_log GROUP BY actor")).all()
        by_actor: dict[str, int] = {actor: n for actor, n in counts}
    assert ids == list(range(1, 61))
    assert by_actor == {"writer0": 30, "writer1": 30}


def test_rows_are_newest_first_and_narrowed_by_actor_action_entity_and_time(engine: Engine) -> None:
    with engine.begin() as conn:
        _record(conn, 1)
        _record(conn, 2, actor="tom", action="exception.acknowledge", entity_kind="exception")
        _record(conn, 3, entity_key="ORD-000123")
        _record(conn, 4, actor="tom")
    with engine.connect() as conn:
        assert [r.audit_id for r in audit.rows(conn)] == [4, 3, 2, 1]
        assert [r.audit_id for r in audit.rows(conn, actor="tom")] == [4, 2]
        assert [r.audit_id for r in audit.rows(conn, action="exception.acknowledge")] == [2]
        assert [r.audit_id for r in audit.rows(conn, entity_kind="order", entity_key="ORD-000123")] == [3]
        # at is T0 + n minutes: [T0+2m, T0+4m) holds rows 2 and 3
        window = audit.rows(conn, since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4))
        assert [r.audit_id for r in window] == [3, 2]
        assert [r.audit_id for r in audit.rows(conn, limit=2)] == [4, 3]
        first = audit.rows(conn, actor="maria", entity_key="ORD-000001")[0]
    assert first.before == {"node": "STORE-0042"}
    assert first.after == {"node": "DC-EAST"}
    assert first.at == T0 + timedelta(minutes=1)


def test_values_json_cannot_hold_are_recorded_as_text(engine: Engine) -> None:
    from decimal import Decimal

    with engine.begin() as conn:
        _record(conn, 1, detail={"qty": Decimal("2.50"), "when": T0})
        row = audit.rows(conn)[0]
        assert audit.verify(conn).ok
    assert row.detail == {"qty": "2.50", "when": "2026-11-02T09:00:00+00:00"}


def test_a_repeatable_read_writer_that_missed_an_append_fails_instead_of_forking(engine: Engine) -> None:
    _seed(engine, 1)
    with engine.connect() as stale:
        stale = stale.execution_options(isolation_level="REPEATABLE READ")
        stale.begin()
        stale.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one()  # its snapshot: 1 row
        with engine.begin() as other:
            _record(other, 2)
        with pytest.raises(sa.exc.OperationalError, match="could not serialize access"):
            _record(stale, 3)
        stale.rollback()
    with engine.connect() as conn:
        assert audit.verify(conn).message() == "audit chain intact: 2 rows"
