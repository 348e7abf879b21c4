"""Control Tower, the Streamlit entry point: `streamlit run app/streamlit_app.py`.

Every page is listed here (with `st.navigation` the `pages/` folder is not discovered).
A page that cannot reach the database shows what is wrong and what to do, never a
traceback.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app.settings import load_settings
from app.ui.errors import DATABASE_ERRORS, explain

PAGES = Path(__file__).resolve().parents[1] / "pages"

st.set_page_config(page_title="Control Tower", layout="wide")

# Root-level keys of .streamlit/secrets.toml (say DATABASE_URL) become environment
# variables once the secrets are loaded: load them before anything reads the settings.
if st.secrets.load_if_toml_exists():
    load_settings.cache_clear()

page = st.navigation(
    [
        st.Page(PAGES / "intake.py", title="Data intake", icon="📥", default=True),
    ]
)
try:
    page.run()
except DATABASE_ERRORS as exc:
    st.error(explain(exc))
