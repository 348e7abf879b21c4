"""Accounts, passwords, sign-in with lockout, sessions that expire, roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app import audit
from app.auth import accounts, sessions
from app.auth.accounts import AccountError, Auditor
from app.auth.roles import Actor, Forbidden, can, require
from app.auth.sessions import LoginRefused
from app.settings import Settings

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ADMIN = Auditor("ops@host", "cli")
SETTINGS = Settings(login_max_failures=5, login_lock_minutes=15, session_hours=12)
PASSWORD = "correct horse battery"


def _add(engine: Engine, name: str = "maria", role: str = "manager", password: str | None = PASSWORD) -> str:
    with engine.begin() as conn:
        return accounts.add_user(conn, name, role, password, by=ADMIN, now=T0)


def _login(engine: Engine, password: str, at: datetime, name: str = "maria") -> sessions.Session:
    return sessions.login(engine, name, password, now=at, settings=SETTINGS)


def _minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


# --- roles -------------------------------------------------------------------------------


def test_a_viewer_may_view_but_not_act_approve_or_administer() -> None:
    viewer = Actor("vera", "viewer")
    require(viewer, "view")
    for permission in ("act", "approve", "admin"):
        with pytest.raises(Forbidden) as refused:
            require(viewer, permission)
    assert str(refused.value) == "vera (viewer) may not 'admin': it needs an admin"


def test_a_manager_may_act_and_approve_but_not_administer() -> None:
    manager = Actor("maria", "manager")
    require(manager, "act")
    require(manager, "approve")
    with pytest.raises(Forbidden, match="needs an admin"):
        require(manager, "admin")
    assert [can("admin", p) for p in ("view", "act", "approve", "admin")] == [True] * 4


def test_nobody_signed_in_may_view_anonymously_but_must_sign_in_to_act(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.settings import load_settings

    load_settings.cache_clear()
    require(None, "view")
    with pytest.raises(Forbidden) as refused:
        require(None, "act")
    assert str(refused.value) == "sign in first: 'act' needs a manager or admin login"
    monkeypatch.setenv("CTOWER_ANONYMOUS_VIEW", "false")
    load_settings.cache_clear()
    try:
        with pytest.raises(Forbidden, match="sign in first"):
            require(None, "view")
    finally:
        load_settings.cache_clear()


def test_an_unknown_role_is_not_an_actor() -> None:
    with pytest.raises(ValueError, match="unknown role 'boss'"):
        Actor("x", "boss")


# --- accounts ----------------------------------------------------------------------------


def test_the_stored_password_is_an_argon2_hash_never_the_password(engine: Engine) -> None:
    _add(engine)
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT password_hash FROM users WHERE username = 'maria'")
        ).scalar_one()
        audit_text = conn.execute(sa.text("SELECT string_agg(t::text, ' ') FROM audit_log t")).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert PASSWORD not in audit_text
    assert "argon2" not in audit_text


def test_an_account_without_a_password_given_gets_a_generated_one_that_signs_in(engine: Engine) -> None:
    generated = _add(engine, password=None)
    assert len(generated) == 16
    assert _login(engine, generated, _minutes(1)).actor == Actor("maria", "manager")


def test_a_duplicate_account_an_unknown_role_and_a_short_password_are_refused(engine: Engine) -> None:
    _add(engine)
    with pytest.raises(AccountError, match="user 'maria' already exists"):
        _add(engine, "Maria")  # names are compared lower-cased
    with pytest.raises(AccountError, match="unknown role 'boss': one of viewer, manager, admin"):
        _add(engine, "tom", "boss")
    with pytest.raises(AccountError, match="at least 10 characters, got 5"):
        _add(engine, "tom", "viewer", "short")


def test_changes_to_an_account_are_audited_with_who_and_the_roles(engine: Engine) -> None:
    _add(engine, "root", "admin")
    _add(engine)
    with engine.begin() as conn:
        accounts.set_role(conn, "maria", "admin", by=ADMIN, reason="covers for Tom", now=_minutes(1))
        accounts.set_password(conn, "maria", "another long one", by=ADMIN, now=_minutes(2))
        accounts.remove_user(conn, "maria", by=ADMIN, now=_minutes(3))
        rows = audit.rows(conn, entity_kind="user", entity_key="maria")
    assert [(r.action, r.before, r.after) for r in reversed(rows)] == [
        ("user.add", None, {"role": "manager"}),
        ("user.role", {"role": "manager"}, {"role": "admin"}),
        ("user.password", None, {"password_changed": True}),
        ("user.remove", {"role": "admin"}, {"removed": True}),
    ]
    assert {r.actor for r in rows} == {"ops@host"}
    assert rows[-2].reason == "covers for Tom"


def test_the_last_admin_can_be_neither_removed_nor_demoted(engine: Engine) -> None:
    _add(engine, "root", "admin")
    with engine.begin() as conn, pytest.raises(AccountError, match="'root' is the last admin"):
        accounts.remove_user(conn, "root", by=ADMIN)
    with engine.begin() as conn, pytest.raises(AccountError, match="'root' is the last admin"):
        accounts.set_role(conn, "root", "viewer", by=ADMIN)
    _add(engine, "second", "admin")
    with engine.begin() as conn:
        accounts.set_role(conn, "root", "viewer", by=ADMIN)
        assert [(u.username, u.role) for u in accounts.list_users(conn)] == [
            ("root", "viewer"),
            ("second", "admin"),
        ]


def test_a_removed_account_cannot_sign_in_and_can_be_added_again(engine: Engine) -> None:
    _add(engine)
    with engine.begin() as conn:
        accounts.remove_user(conn, "maria", by=ADMIN, now=_minutes(1))
        assert accounts.list_users(conn) == []
        assert [u.username for u in accounts.list_users(conn, include_removed=True)] == ["maria"]
    with pytest.raises(LoginRefused, match="^wrong user name or password$"):
        _login(engine, PASSWORD, _minutes(2))
    _add(engine, "maria", "viewer", "a brand new password")
    assert _login(engine, "a brand new password", _minutes(3)).actor == Actor("maria", "viewer")


def test_demo_users_are_one_per_role_plus_a_second_manager_each_able_to_sign_in(engine: Engine) -> None:
    first = accounts.ensure_demo_users(engine, now=T0)
    again = accounts.ensure_demo_users(engine, now=T0)
    assert sorted(first) == ["admin", "manager", "manager2", "viewer"]
    assert all(first[name] != again[name] for name in first)  # fresh passwords each time
    roles = {name: _login(engine, again[name], _minutes(1), name).actor.role for name in again}
    assert roles == {"viewer": "viewer", "manager": "manager", "manager2": "manager", "admin": "admin"}
    with pytest.raises(LoginRefused):
        _login(engine, first["admin"], _minutes(2), "admin")


# --- sign-in, lockout, sessions --------------------------------------------------------------


def test_a_wrong_password_is_refused_and_written_down(engine: Engine) -> None:
    _add(engine)
    with pytest.raises(LoginRefused, match="^wrong user name or password$"):
        _login(engine, "not my password", _minutes(1))
    _login(engine, PASSWORD, _minutes(2))
    with engine.connect() as conn:
        attempts = conn.execute(sa.text("SELECT ok, outcome FROM login_attempts ORDER BY at")).all()
        failed = audit.rows(conn, action="login.failed")
    assert [tuple(a) for a in attempts] == [(False, "wrong_password"), (True, "ok")]
    assert [(r.actor, r.entity_key, r.reason) for r in failed] == [("maria", "maria", "wrong password")]


def test_an_unknown_name_gets_the_same_answer_as_a_wrong_password(engine: Engine) -> None:
    with pytest.raises(LoginRefused, match="^wrong user name or password$"):
        _login(engine, PASSWORD, _minutes(1), "nobody")


def test_five_wrong_passwords_lock_the_name_until_the_first_is_fifteen_minutes_old(engine: Engine) -> None:
    _add(engine)
    for minute in range(4):  # 09:00, 09:01, 09:02, 09:03
        with pytest.raises(LoginRefused, match="^wrong user name or password$"):
            _login(engine, "guess", _minutes(minute))
    with pytest.raises(LoginRefused) as fifth:
        _login(engine, "guess", _minutes(4))
    assert str(fifth.value) == (
        "wrong user name or password; 'maria' is now locked: try again after 09:15 UTC (in 11 minutes)"
    )
    # the right password is refused while locked, and that refusal does not extend the lock
    with pytest.raises(LoginRefused) as locked:
        _login(engine, PASSWORD, _minutes(10))
    assert (
        str(locked.value) == "too many wrong passwords for 'maria': try again after 09:15 UTC (in 5 minutes)"
    )
    assert locked.value.retry_at == _minutes(15)
    assert _login(engine, PASSWORD, _minutes(15)).actor == Actor("maria", "manager")
    with engine.connect() as conn:
        assert [r.action for r in audit.rows(conn, entity_kind="user", entity_key="maria")][:2] == [
            "login.locked",
            "login.failed",
        ]
        assert len(audit.rows(conn, action="login.failed")) == 5
        assert audit.verify(conn).ok


def test_a_successful_sign_in_clears_the_earlier_wrong_passwords(engine: Engine) -> None:
    _add(engine)
    for minute in range(4):
        with pytest.raises(LoginRefused):
            _login(engine, "guess", _minutes(minute))
    _login(engine, PASSWORD, _minutes(5))
    with pytest.raises(LoginRefused, match="^wrong user name or password$"):  # 1 since, not 5
        _login(engine, "guess", _minutes(6))


def test_a_session_holds_until_its_twelve_hours_are_up(engine: Engine) -> None:
    _add(engine)
    session = _login(engine, PASSWORD, T0)
    assert session.expires_at == T0 + timedelta(hours=12)
    with engine.connect() as conn:
        assert sessions.session_actor(conn, session.token, now=T0 + timedelta(hours=11, minutes=59)) == Actor(
            "maria", "manager"
        )
        assert sessions.session_actor(conn, session.token, now=T0 + timedelta(hours=12)) is None
        stored = conn.execute(sa.text("SELECT token_hash FROM login_sessions")).scalar_one()
    assert stored != session.token
    assert len(stored) == 64


def test_signing_out_or_a_new_password_or_removal_ends_the_session(engine: Engine) -> None:
    _add(engine, "root", "admin")
    _add(engine)
    first, second = _login(engine, PASSWORD, T0), _login(engine, PASSWORD, T0)
    with engine.begin() as conn:
        assert sessions.logout(conn, first.token, now=_minutes(1))
        assert sessions.session_actor(conn, first.token, now=_minutes(2)) is None
        assert sessions.session_actor(conn, second.token, now=_minutes(2)) is not None
        accounts.set_password(conn, "maria", "changed password", by=ADMIN, now=_minutes(3))
        assert sessions.session_actor(conn, second.token, now=_minutes(4)) is None
    third = _login(engine, "changed password", _minutes(5))
    with engine.begin() as conn:
        accounts.remove_user(conn, "maria", by=ADMIN, now=_minutes(6))
        assert sessions.session_actor(conn, third.token, now=_minutes(7)) is None


def test_a_role_change_applies_to_an_open_session_at_once(engine: Engine) -> None:
    _add(engine, "root", "admin")
    _add(engine)
    session = _login(engine, PASSWORD, T0)
    with engine.begin() as conn:
        accounts.set_role(conn, "maria", "viewer", by=ADMIN, now=_minutes(1))
        assert sessions.session_actor(conn, session.token, now=_minutes(2)) == Actor("maria", "viewer")
