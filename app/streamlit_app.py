"""Control Tower, the Streamlit entry point: `streamlit run app/streamlit_app.py`.

Every page is listed here (with `st.navigation` the `pages/` folder is not discovered);
Overview is the default. The shared filters (window, as-of, region, channel, node, source)
are drawn here, in the sidebar, and kept in the URL (app/ui/filters.py); pages read
`filters.current()`. A page that cannot reach the database shows what is wrong and what
to do, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app.auth import ui as auth_ui
from app.settings import SettingsError, load_settings
from app.ui import banner, data, filters, tv
from app.ui.errors import DATABASE_ERRORS, explain

PAGES = Path(__file__).resolve().parents[1] / "pages"

st.set_page_config(page_title="Control Tower", layout="wide", initial_sidebar_state=tv.sidebar_state())

# Root-level keys of .streamlit/secrets.toml (say DATABASE_URL) become environment
# variables once the secrets are loaded: load them before anything reads the settings.
if st.secrets.load_if_toml_exists():
    load_settings.cache_clear()

page = st.navigation(
    {
        "Monitor": [
            st.Page(PAGES / "overview.py", title="Overview", icon=":material/space_dashboard:", default=True),
            st.Page(PAGES / "fulfilment.py", title="Fulfilment & SLA", icon=":material/local_shipping:"),
            st.Page(PAGES / "inventory.py", title="Inventory", icon=":material/inventory_2:"),
            st.Page(PAGES / "integrations.py", title="Integrations", icon=":material/cable:"),
            st.Page(PAGES / "exceptions.py", title="Exceptions", icon=":material/flag:"),
        ],
        "Investigate": [
            st.Page(PAGES / "entity.py", title="Entity detail", icon=":material/timeline:"),
            st.Page(PAGES / "process.py", title="Process", icon=":material/account_tree:"),
            st.Page(PAGES / "incidents.py", title="Incidents", icon=":material/report:"),
        ],
        "Act and audit": [
            st.Page(PAGES / "approvals.py", title="Approvals", icon=":material/approval:"),
            st.Page(PAGES / "audit.py", title="Audit log", icon=":material/policy:"),
            st.Page(PAGES / "intake.py", title="Data intake", icon=":material/move_to_inbox:"),
            st.Page(PAGES / "login.py", title="Sign in", icon=":material/login:", visibility="hidden"),
        ],
    }
)
try:
    zone = load_settings().timezone
except SettingsError:
    zone = "UTC"  # the page below explains the bad setting
try:
    options = data.filter_options(filters.now())
except DATABASE_ERRORS:
    options = {}  # no lists of known values; the page explains the database
filters.sidebar(zone, options)
tv.run(tv.page_name(page.url_path))  # ?tv=1: the wall-screen look and the page cycle
banner.draw()  # a source down or stale: said on every page
try:
    auth_ui.sidebar_account(page.url_path)  # signed in as X (role) / sign out, or sign in
    if auth_ui.may_view(page):
        page.run()
except DATABASE_ERRORS as exc:
    st.error(explain(exc))
