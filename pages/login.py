"""Sign in: a user name and password form, or single sign-on when it is configured.

Reached from the sidebar's "Sign in" link with `?next=<page>`; on success it goes back to
that page (the Overview without one), keeping the shared filters. A refusal (wrong
password, or a name locked after too many) is one line saying what to do. Keys start
with `login_`.
"""

from __future__ import annotations

import streamlit as st

from app.auth import sessions
from app.auth import ui as auth_ui
from app.settings import load_settings
from app.ui import data, filters

PAGES = auth_ui.PAGES


def _back() -> None:
    target = st.query_params.get("next", "")
    page = PAGES / f"{target}.py"
    if not target or target == "login" or not page.is_file() or "/" in target:
        page = PAGES / "overview.py"
    filters.from_url_next_run()  # a page switch resets the sidebar's widgets: the URL refills them
    st.switch_page(page, query_params=filters.current().to_query())


st.title("Sign in")
actor = auth_ui.current_actor()
if actor is not None:
    st.success(f"Signed in as **{actor.username}** ({actor.role}).")
    if st.button("Continue", key="login_continue", type="primary"):
        _back()
    st.stop()

left, _ = st.columns([2, 3])
with left:
    if auth_ui.sso_configured():
        providers: list[str | None] = [*auth_ui.sso_providers()] or [None]
        for provider in providers:
            label = f"Sign in with {provider.title()}" if provider else "Sign in with SSO"
            if st.button(label, key=f"login_sso_{provider or 'default'}", type="primary", width="stretch"):
                if provider:
                    st.login(provider)
                else:
                    st.login()
        st.caption("or with a Control Tower account:")

    with st.form("login_form", border=True):
        username = st.text_input("User name", key="login_username", autocomplete="username")
        password = st.text_input(
            "Password", type="password", key="login_password", autocomplete="current-password"
        )
        submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
    if submitted:
        try:
            session = sessions.login(data.engine(), username, password, client="web")
        except sessions.LoginRefused as refused:
            st.error(str(refused))
        else:
            auth_ui.sign_in(session)
            _back()
    st.caption("No account? An admin makes one with `ctower users add NAME --role ROLE`.")
    if load_settings().anonymous_view:
        st.caption("Without signing in every page can be looked at, read-only.")
