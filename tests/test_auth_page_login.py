"""The sign-in page and the sidebar's account line (AppTest on the real database)."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app.auth import accounts

REPO = Path(__file__).resolve().parents[1]
ENTRY = str(REPO / "app" / "streamlit_app.py")
LOGIN = str(REPO / "pages" / "login.py")
PASSWORD = "correct horse battery"


def _maria(engine: Engine) -> None:
    with engine.begin() as conn:
        accounts.add_user(conn, "maria", "manager", PASSWORD, by=accounts.Auditor("ops@host", "cli"))


def _login_page(streamlit_script, url: str, came_from: str = "intake") -> AppTest:
    at = streamlit_script(ENTRY, url).run()
    at.switch_page(LOGIN)
    at.query_params["next"] = came_from
    return at.run()


def _submit(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    return at.button(key="FormSubmitter:login_form-Sign in").click().run()


def _sidebar_captions(at: AppTest) -> list[str]:
    return [c.value for c in at.sidebar.caption]


def test_the_right_password_signs_in_and_goes_back_to_the_page_it_came_from(
    streamlit_script, database_url, engine
) -> None:
    _maria(engine)
    at = _login_page(streamlit_script, database_url)
    assert "Viewing without signing in: read-only." in _sidebar_captions(at)

    at = _submit(at, "Maria", PASSWORD)

    assert not at.exception
    assert [t.value for t in at.title] == ["Data intake"]
    assert "Signed in as **maria** (manager)" in _sidebar_captions(at)
    with engine.connect() as conn:
        sessions = conn.execute(sa.text("SELECT username, revoked_at FROM login_sessions")).all()
        attempts = conn.execute(sa.text("SELECT username, outcome, client FROM login_attempts")).all()
    assert [tuple(s) for s in sessions] == [("maria", None)]
    assert [tuple(a) for a in attempts] == [("maria", "ok", "web")]


def test_signing_in_keeps_the_window_chosen_before(streamlit_script, database_url, engine) -> None:
    _maria(engine)
    at = streamlit_script(ENTRY, database_url).run()
    at.radio(key="filters_window").set_value("30d").run()
    at.switch_page(LOGIN).run()

    at = _submit(at, "maria", PASSWORD)

    assert [t.value for t in at.title] == ["Overview"]
    assert at.radio(key="filters_window").value == "30d"
    assert at.query_params["window"] == "30d"


def test_a_wrong_password_stays_on_the_form_with_one_line_and_no_session(
    streamlit_script, database_url, engine
) -> None:
    _maria(engine)
    at = _submit(_login_page(streamlit_script, database_url), "maria", "not the password")

    assert not at.exception
    assert [t.value for t in at.title] == ["Sign in"]
    assert [e.value for e in at.error] == ["wrong user name or password"]
    assert "auth_token" not in at.session_state
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM login_sessions")).scalar_one() == 0


def test_the_failure_that_locks_the_name_says_when_to_try_again(
    streamlit_script, database_url, engine, monkeypatch
) -> None:
    monkeypatch.setenv("CTOWER_LOGIN_MAX_FAILURES", "1")
    _maria(engine)
    at = _submit(_login_page(streamlit_script, database_url), "maria", "not the password")
    assert re.fullmatch(
        r"wrong user name or password; 'maria' is now locked: "
        r"try again after \d\d:\d\d UTC \(in 15 minutes\)",
        at.error[0].value,
    )
    at = _submit(at, "maria", PASSWORD)
    assert at.error[0].value.startswith("too many wrong passwords for 'maria': try again after ")


def test_signing_out_ends_the_session_in_the_database_too(streamlit_script, database_url, engine) -> None:
    _maria(engine)
    at = _submit(_login_page(streamlit_script, database_url), "maria", PASSWORD)

    at = at.sidebar.button(key="auth_sign_out").click().run()

    assert "Signed in as **maria** (manager)" not in _sidebar_captions(at)
    assert "Viewing without signing in: read-only." in _sidebar_captions(at)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT revoked_at IS NOT NULL FROM login_sessions")).scalar_one()


def test_an_expired_session_is_signed_out_with_a_notice(streamlit_script, database_url, engine) -> None:
    _maria(engine)
    at = _submit(_login_page(streamlit_script, database_url), "maria", PASSWORD)
    with engine.begin() as conn:
        # the session began 13 hours ago and ended 12 hours after that, an hour ago
        conn.execute(
            sa.text(
                "UPDATE login_sessions SET created_at = created_at - interval '13 hours', "
                "expires_at = created_at - interval '1 hour'"
            )
        )

    at.run()

    assert "Your sign-in has expired." in _sidebar_captions(at)
    assert "auth_token" not in at.session_state


def test_without_anonymous_viewing_a_page_asks_to_sign_in_first(
    streamlit_script, database_url, monkeypatch
) -> None:
    monkeypatch.setenv("CTOWER_ANONYMOUS_VIEW", "false")
    at = streamlit_script(ENTRY, database_url).run()

    assert not at.exception
    assert [t.value for t in at.title] == ["Overview"]
    assert [i.value for i in at.info] == ["Sign in to see this page."]
    assert not at.metric  # none of the page's figures


def test_the_single_sign_on_button_shows_only_when_secrets_have_an_auth_section(
    streamlit_script, database_url
) -> None:
    at = _login_page(streamlit_script, database_url)
    assert [b.label for b in at.button] == ["Sign in"]

    at.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "x" * 32,
        "client_id": "ctower",
        "client_secret": "s",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
    }
    at.run()
    assert [b.label for b in at.button] == ["Sign in with SSO", "Sign in"]
