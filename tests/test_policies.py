"""Governed policies: overrides of the METRICS.md thresholds, typed, scoped where allowed,
recorded with who, when and why, and used by the figures (metrics/policies.py).

The estate for the figures: ORD-30 created 2026-11-19 12:00Z on the web, promised
2026-11-21 18:00Z, not shipped. As of 2026-11-20 12:00Z it is due in 30 h: not at risk
under the default 24 h, at risk under 48 h.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.commands import UsageError
from app.commands.policies import actor, register, run_policies
from metrics import sla
from metrics.params import Policies, Window
from metrics.policies import PolicyError, load, reset_policy, scoped, set_policy
from metrics.summary import compute
from tests.builders import event, jsonl

AS_OF = datetime(2026, 11, 20, 12, tzinfo=UTC)
WINDOW = Window.of(as_of=AS_OF)
MANAGER = "manager@store-0042"


def due_in_30_hours() -> bytes:
    data = {
        "order_id": "ORD-30",
        "channel": "web",
        "promised_by": "2026-11-21T18:00:00Z",
        "lines": [{"sku": "SKU-00017", "qty": 1}],
    }
    return jsonl(
        event("retail.order.created", data, id="ORD-30-c", time="2026-11-19T12:00:00Z", subject="ORD-30")
    )


def history(engine: Engine) -> list[sa.Row]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT name, scope, scope_value, old_value, new_value, reason, changed_by, changed_at "
                    "FROM policy_changes ORDER BY change_id"
                )
            )
        )


def change(engine: Engine, name: str, value: Any, reason: str = "peak season", **scope: str) -> Any:
    with engine.begin() as conn:
        return set_policy(conn, name, value, reason=reason, actor=MANAGER, **scope)


def loaded(engine: Engine) -> Policies:
    with engine.connect() as conn:
        return load(conn)


# --- storage and defaults ------------------------------------------------------------------


def test_the_migration_creates_the_policy_tables_as_number_2(engine: Engine) -> None:
    with engine.connect() as conn:
        names = set(
            conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
        )
        versions = list(conn.execute(sa.text("SELECT version, name FROM schema_migrations ORDER BY version")))
    assert {"policies", "policy_changes"} <= names
    assert (2, "policies") in [tuple(v) for v in versions]


def test_with_nothing_stored_the_defaults_apply(engine: Engine) -> None:
    assert loaded(engine) == Policies()
    with engine.connect() as conn:
        assert scoped(conn, "at_risk_hours") == {}


def test_a_deployment_override_turns_an_order_due_in_30_hours_at_risk(
    engine: Engine, ingest: Callable[..., Any]
) -> None:
    ingest(due_in_30_hours())
    with engine.connect() as conn:
        before = sla.summary(conn, WINDOW, load(conn))["at_risk"]

    assert change(engine, "at_risk_hours", "48") == 48.0

    with engine.connect() as conn:
        policies = load(conn)
        after = sla.summary(conn, WINDOW, policies)["at_risk"]
    assert (before, after) == (0, 1)
    assert policies.at_risk_hours == 48.0 and isinstance(policies.at_risk_hours, float)
    assert compute(engine, WINDOW)["sla"]["at_risk"] == 1  # compute() loads the stored policies


def test_values_are_stored_typed(engine: Engine) -> None:
    change(engine, "interface_min_calls", "50")
    change(engine, "reference_system", " wms ")
    change(engine, "timezone", "Europe/Paris")
    policies = loaded(engine)
    assert (policies.interface_min_calls, policies.reference_system, policies.timezone) == (
        50,
        "wms",
        "Europe/Paris",
    )
    assert isinstance(policies.interface_min_calls, int)


def test_every_change_is_recorded_with_old_and_new_value_reason_and_actor(engine: Engine) -> None:
    change(engine, "at_risk_hours", 36, reason="carrier delays")
    change(engine, "at_risk_hours", 48, reason="peak season")
    with engine.begin() as conn:
        assert reset_policy(conn, "at_risk_hours", reason="peak is over", actor=MANAGER) == 48

    rows = history(engine)
    assert [
        (r.name, r.scope, r.scope_value, r.old_value, r.new_value, r.reason, r.changed_by) for r in rows
    ] == [
        ("at_risk_hours", "deployment", "", None, 36, "carrier delays", MANAGER),
        ("at_risk_hours", "deployment", "", 36, 48, "peak season", MANAGER),
        ("at_risk_hours", "deployment", "", 48, None, "peak is over", MANAGER),
    ]
    assert all(r.changed_at is not None for r in rows)


def test_a_reset_restores_the_default(engine: Engine) -> None:
    change(engine, "pct_tolerance", 0.1)
    assert loaded(engine).pct_tolerance == 0.1
    with engine.begin() as conn:
        reset_policy(conn, "pct_tolerance", reason="back to normal", actor=MANAGER)
    assert loaded(engine) == Policies()


def test_resetting_a_policy_that_has_no_override_is_refused(engine: Engine) -> None:
    with pytest.raises(PolicyError, match="stale_hours has no override"), engine.begin() as conn:
        reset_policy(conn, "stale_hours", reason="tidy", actor=MANAGER)
    assert history(engine) == []


def test_the_history_is_append_only(engine: Engine) -> None:
    change(engine, "at_risk_hours", 48)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text("UPDATE policy_changes SET reason = 'nothing happened'"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM policy_changes"))


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("at_risk_hourz", "48", "unknown policy 'at_risk_hourz'"),
        ("at_risk_hours", "-1", "at_risk_hours must be a number >= 0"),
        ("at_risk_hours", "soon", "at_risk_hours must be a number"),
        ("at_risk_hours", "nan", "at_risk_hours must be a finite number"),
        ("pct_tolerance", "5", "pct_tolerance must be between 0 and 1"),
        ("interface_failure_rate", "-0.1", "interface_failure_rate must be between 0 and 1"),
        ("reference_system", "sap", "reference_system must be one of erp, wms, pos, oms, marketplace"),
        ("timezone", "Mars/Olympus", "timezone must be an IANA time zone name"),
        ("repeated_reroute_count", "0", "repeated_reroute_count must be a whole number >= 1"),
        ("interface_min_calls", "2.5", "interface_min_calls must be a whole number >= 1"),
    ],
)
def test_a_bad_name_or_value_is_refused_naming_the_policy(
    engine: Engine, name: str, value: str, message: str
) -> None:
    with pytest.raises(PolicyError, match=message), engine.begin() as conn:
        set_policy(conn, name, value, reason="try", actor=MANAGER)
    assert loaded(engine) == Policies()
    assert history(engine) == []


def test_a_change_without_a_reason_is_refused(engine: Engine) -> None:
    with pytest.raises(PolicyError, match="at_risk_hours: a reason is required"), engine.begin() as conn:
        set_policy(conn, "at_risk_hours", 48, reason="  ", actor=MANAGER)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("INSERT INTO policies VALUES ('at_risk_hourz', 'deployment', '', '48', 'x', 'y')", "unknown policy"),
        (
            "INSERT INTO policies VALUES ('at_risk_hours', 'deployment', '', '\"soon\"', 'x', 'y')",
            "bad row in the policies table: at_risk_hours must be a number",
        ),
    ],
)
def test_a_bad_row_written_by_hand_fails_loudly_on_load(engine: Engine, sql: str, message: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(sql))
    with pytest.raises(PolicyError, match=message):
        loaded(engine)


# --- scopes --------------------------------------------------------------------------------


def test_at_risk_hours_may_be_overridden_per_channel_without_changing_the_deployment_value(
    engine: Engine,
) -> None:
    change(engine, "at_risk_hours", "12", scope="channel", scope_value="marketplace")
    with engine.connect() as conn:
        assert scoped(conn, "at_risk_hours") == {("channel", "marketplace"): 12.0}
    assert loaded(engine).at_risk_hours == 24
    assert history(engine)[0].scope_value == "marketplace"


@pytest.mark.parametrize(
    ("name", "scope", "message"),
    [
        (
            "asn_late_hours",
            "channel",
            "asn_late_hours cannot be set per channel: it can be set only for the whole",
        ),
        (
            "at_risk_hours",
            "interface",
            "at_risk_hours cannot be set per interface: it can be set only per channel",
        ),
        ("stale_hours", "channel", "stale_hours cannot be set per channel: it can be set only per node_kind"),
        ("stale_hours", "region", "unknown scope 'region' for stale_hours"),
    ],
)
def test_other_scopings_are_refused(engine: Engine, name: str, scope: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message), engine.begin() as conn:
        set_policy(conn, name, "4", scope=scope, scope_value="web", reason="try", actor=MANAGER)


def test_a_scoped_override_needs_a_scope_value(engine: Engine) -> None:
    with (
        pytest.raises(PolicyError, match="stale_hours per node_kind needs a node_kind value"),
        engine.begin() as conn,
    ):
        set_policy(conn, "stale_hours", "12", scope="node_kind", scope_value=" ", reason="try", actor=MANAGER)


# --- the command ---------------------------------------------------------------------------


@pytest.fixture
def policies_cmd(database_url: str, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str]]:
    """`ctower policies ...` through `register` and `run_policies`; returns (status, stdout)."""
    parser = argparse.ArgumentParser(prog="ctower")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url")
    register(parser.add_subparsers(dest="command", required=True), common)

    def run(*argv: str) -> tuple[int, str]:
        args = parser.parse_args(["policies", "--database-url", database_url, *argv])
        status = run_policies(args)
        return status, capsys.readouterr().out

    return run


def test_the_command_lists_every_policy_with_its_default(
    policies_cmd: Callable[..., tuple[int, str]],
) -> None:
    status, out = policies_cmd("--json")
    rows = json.loads(out)
    assert status == 0
    assert [r["name"] for r in rows] == list(Policies().params())
    first = rows[0]
    assert first == {
        "name": "at_risk_hours",
        "scope": "deployment",
        "scope_value": "",
        "value": 24,
        "default": 24,
        "overridden": False,
        "reason": None,
        "changed_by": None,
        "changed_at": None,
    }


def test_the_command_sets_shows_and_resets_an_override(
    policies_cmd: Callable[..., tuple[int, str]], engine: Engine
) -> None:
    assert policies_cmd("set", "at_risk_hours", "48", "--reason", "peak season") == (
        0,
        "at_risk_hours = 48.0\n",
    )
    assert policies_cmd("set", "at_risk_hours", "12", "--channel", "marketplace", "--reason", "fast lane")[
        1
    ] == ("at_risk_hours = 12.0 for channel marketplace\n")

    rows = json.loads(policies_cmd("--json")[1])
    ours = [r for r in rows if r["name"] == "at_risk_hours"]
    assert [(r["scope"], r["scope_value"], r["value"], r["default"], r["changed_by"]) for r in ours] == [
        ("deployment", "", 48.0, 24, actor()),
        ("channel", "marketplace", 12.0, 24, actor()),
    ]
    table = policies_cmd()[1]
    assert "channel=marketplace" in table and actor() in table

    assert policies_cmd("reset", "at_risk_hours", "--reason", "peak is over") == (
        0,
        "at_risk_hours reset (was 48.0)\n",
    )
    assert loaded(engine).at_risk_hours == 24
    assert [r.reason for r in history(engine)] == ["peak season", "fast lane", "peak is over"]


def test_the_command_refuses_a_bad_value_with_one_line_naming_the_policy(
    policies_cmd: Callable[..., tuple[int, str]],
) -> None:
    with pytest.raises(UsageError) as caught:
        policies_cmd("set", "pct_tolerance", "5", "--reason", "typo")
    assert str(caught.value).startswith("pct_tolerance must be between 0 and 1")
    assert "\n" not in str(caught.value)
    with pytest.raises(UsageError, match="asn_late_hours cannot be set per channel"):
        policies_cmd("set", "asn_late_hours", "8", "--channel", "web", "--reason", "try")


def test_the_command_requires_a_reason(policies_cmd: Callable[..., tuple[int, str]]) -> None:
    with pytest.raises(SystemExit) as caught:
        policies_cmd("set", "at_risk_hours", "48")
    assert caught.value.code == 2


def test_ctower_metrics_prints_the_policies_it_used(engine: Engine, ctower: Callable[..., Any]) -> None:
    change(engine, "at_risk_hours", 48)
    done = ctower("metrics", "--as-of", "2026-11-20T12:00:00Z", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["policies"]["at_risk_hours"] == 48


def test_the_real_cli_sets_shows_and_resets_a_policy_with_one_line_errors(ctower):
    """`ctower policies` as an operator runs it, wired into the real CLI."""
    set_ = ctower("policies", "set", "at_risk_hours", "36", "--reason", "peak season")
    assert set_.returncode == 0, set_.stderr
    shown = json.loads(ctower("policies", "--json").stdout)
    risk = next(p for p in shown if p["name"] == "at_risk_hours" and p["scope"] == "deployment")
    assert (risk["value"], risk["default"], risk["overridden"]) == (36.0, 24, True)

    bad = ctower("policies", "set", "pct_tolerance", "5", "--reason", "typo")
    assert bad.returncode == 2
    assert bad.stderr.startswith("ctower: error:") and bad.stderr.count("\n") == 1
    assert "pct_tolerance" in bad.stderr

    missing_reason = ctower("policies", "set", "stale_hours", "8")
    assert missing_reason.returncode == 2 and "--reason" in missing_reason.stderr

    assert ctower("policies", "reset", "at_risk_hours", "--reason", "season over").returncode == 0
    shown = json.loads(ctower("policies", "--json").stdout)
    risk = next(p for p in shown if p["name"] == "at_risk_hours" and p["scope"] == "deployment")
    assert (risk["value"], risk["overridden"]) == (24, False)
