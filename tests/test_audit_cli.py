"""`ctower audit verify` and `ctower audit list`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app import audit

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _seed(engine: Engine) -> None:
    with engine.begin() as conn:
        for n, (actor, action) in enumerate(
            [("maria", "order.reroute"), ("tom", "exception.acknowledge"), ("maria", "order.hold")], start=1
        ):
            audit.record(
                conn,
                actor=actor,
                role="manager",
                action=action,
                entity_kind="order",
                entity_key=f"ORD-{n:06d}",
                reason="test",
                before=None,
                after={"n": n},
                at=T0 + timedelta(hours=n),
            )


def test_verify_says_the_chain_is_intact_with_its_row_count_and_head(ctower, engine) -> None:
    _seed(engine)
    result = ctower("audit", "verify")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == "audit chain intact: 3 rows"
    assert result.stdout.splitlines()[1].startswith("head hash: ")


def test_verify_exits_one_naming_the_changed_row(ctower, engine) -> None:
    _seed(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_or_delete"))
        conn.execute(sa.text("UPDATE audit_log SET actor = 'nobody' WHERE audit_id = 2"))
        conn.execute(sa.text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_or_delete"))
    result = ctower("audit", "verify")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "ctower: error: audit chain broken at audit_id 2: content changed "
        "(its hash does not match its content)\n"
    )
    as_json = json.loads(ctower("audit", "verify", "--json").stdout)
    assert (as_json["ok"], as_json["rows"], as_json["bad_audit_id"]) == (False, 3, 2)


def test_list_narrows_by_time_actor_and_action_newest_first(ctower, engine) -> None:
    _seed(engine)  # rows at 10:00, 11:00, 12:00
    rows = json.loads(ctower("audit", "list", "--json", "--actor", "maria").stdout)
    assert [r["audit_id"] for r in rows] == [3, 1]
    rows = json.loads(
        ctower(
            "audit", "list", "--json", "--since", "2026-11-02T11:00:00Z", "--until", "2026-11-02T12:00:00Z"
        ).stdout
    )
    assert [(r["audit_id"], r["at"]) for r in rows] == [(2, "2026-11-02T11:00:00Z")]
    table = ctower("audit", "list", "--action", "order.hold").stdout.splitlines()
    assert table[1].split() == [
        "3",
        "2026-11-02T12:00:00Z",
        "maria",
        "manager",
        "order.hold",
        "order",
        "ORD-000003",
        "test",
    ]
    assert ctower("audit", "list", "--actor", "nobody").stdout == "no audit rows match\n"


def test_a_bad_time_is_one_line_and_exit_two(ctower) -> None:
    result = ctower("audit", "list", "--since", "yesterday")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "not a timestamp: 'yesterday'" in result.stderr
