"""The signed-in person on the Streamlit pages: who it is, the sidebar, the sign-in link.

Two ways in:
- a password (pages/login.py): the session's random token is kept in `st.session_state`
  (key `auth_token`) and checked against `login_sessions` on every call, so an expired,
  signed-out or removed account is gone at once and a role change applies at once. A new
  browser tab or a reload starts a new Streamlit session: sign in again.
- single sign-on, when .streamlit/secrets.toml has an `[auth]` section: Streamlit's
  `st.login()` keeps the identity in its own cookie; `st.user`'s claims map to a role
  through CTOWER_OIDC_ROLES (app/auth/oidc.py).

Nobody signed in: `current_actor()` is None. The pages then show everything read-only
while CTOWER_ANONYMOUS_VIEW is on; otherwise `may_view` shows a sign-in prompt instead.
Keys start with `auth_`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from app.auth import oidc, sessions
from app.auth.roles import Actor
from app.settings import load_settings

PAGES = Path(__file__).resolve().parents[2] / "pages"
LOGIN_PAGE = PAGES / "login.py"
TOKEN_KEY = "auth_token"
EXPIRED_KEY = "auth_expired"
SSO_NOTED_KEY = "auth_sso_noted"


def sso_configured() -> bool:
    """Whether .streamlit/secrets.toml has an `[auth]` section (st.login() can work)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file, or an unreadable one: no SSO
        return False


def sso_providers() -> list[str]:
    """Named providers (`[auth.google]`, `[auth.microsoft]`...) when there are several."""
    if not sso_configured():
        return []
    section: Any = st.secrets["auth"]
    return [name for name, value in section.items() if hasattr(value, "keys")]


def _sso_claims() -> dict[str, Any] | None:
    if not sso_configured():
        return None
    try:
        if not st.user.is_logged_in:
            return None
        return dict(st.user.to_dict())
    except Exception:  # Authlib missing or the identity cookie unreadable: not signed in
        return None


def _engine() -> Any:
    from app.ui import data

    return data.engine()


def current_actor() -> Actor | None:
    """Who is signed in to this browser session now, else None."""
    claims = _sso_claims()
    if claims is not None:
        actor = oidc.actor_for(claims)
        if actor is not None and not st.session_state.get(SSO_NOTED_KEY):
            sessions.record_sso_login(_engine(), actor)
            st.session_state[SSO_NOTED_KEY] = True
        return actor
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        return None
    with _engine().connect() as conn:
        actor = sessions.session_actor(conn, token)
    if actor is None:  # expired, signed out elsewhere, or the account removed
        del st.session_state[TOKEN_KEY]
        st.session_state[EXPIRED_KEY] = True
    return actor


def sign_in(session: sessions.Session) -> None:
    """Keep a new session's token for this browser session."""
    st.session_state[TOKEN_KEY] = session.token
    st.session_state.pop(EXPIRED_KEY, None)


def sign_out() -> None:
    """End the password session (in the database too), or the single sign-on."""
    token = st.session_state.pop(TOKEN_KEY, None)
    if token:
        with _engine().begin() as conn:
            sessions.logout(conn, token)
    elif _sso_claims() is not None:
        st.session_state.pop(SSO_NOTED_KEY, None)
        st.logout()


def login_link(came_from: str | None = None, label: str = "Sign in") -> None:
    """A link to the sign-in page that comes back to `came_from` (a page's url path)."""
    from app.ui import filters

    query = filters.current().to_query()
    if came_from:
        query["next"] = came_from
    st.page_link(LOGIN_PAGE, label=label, icon=":material/login:", query_params=query)


def sidebar_account(came_from: str | None = None) -> None:
    """'Signed in as X (role)' and Sign out, or a Sign in link, at the sidebar's foot."""
    actor = current_actor()
    with st.sidebar:
        st.divider()
        if actor is not None:
            st.caption(f"Signed in as **{actor.username}** ({actor.role})")
            st.button("Sign out", key="auth_sign_out", icon=":material/logout:", on_click=sign_out)
            return
        if st.session_state.pop(EXPIRED_KEY, False):
            st.caption("Your sign-in has expired.")
        elif load_settings().anonymous_view:
            st.caption("Viewing without signing in: read-only.")
        if came_from != "login":
            login_link(came_from)


def may_view(page: Any) -> bool:
    """False (after a sign-in prompt) when anonymous viewing is off and nobody is signed in;
    the sign-in page itself is always shown."""
    if page.url_path == "login" or load_settings().anonymous_view or current_actor() is not None:
        return True
    st.title(page.title)
    st.info("Sign in to see this page.")
    login_link(page.url_path)
    return False
