"""Audit log: who did what to which entity, when, why, before and after.

The rows in the shared filters' window, narrowed by actor, action and entity, newest
first, at most MAX_ROWS of them, with a CSV of exactly the rows shown. At the top, the
hash chain's check (app/audit.py `verify`): intact with its row count, or the first row
that does not match, in red. Keys start with `audit_`.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import streamlit as st

from app import audit
from app.settings import load_settings
from app.ui import data, filters
from app.ui.theme import EMPTY_CELL

MAX_ROWS = 1000
ANY = "(any)"
EMPTY_MESSAGE = "No data yet for this window."
VERIFY_TTL_SECONDS = 60


@st.cache_data(ttl=VERIFY_TTL_SECONDS, show_spinner=False)
def _verify(database_url: str | None) -> audit.Verification:
    with data.engine().connect() as conn:
        return audit.verify(conn)


def _choice(label: str, values: list[str], key: str) -> str | None:
    picked = st.selectbox(label, [ANY, *values], key=key)
    return None if picked == ANY else picked


zone = load_settings().timezone
chosen_filters = filters.current()
window = chosen_filters.resolve(filters.now())
# live: "now" is floored to NOW_GRAIN_SECONDS; reach to the end of that grain, so a row
# written a moment ago (an action just taken) is listed
grain = timedelta(seconds=filters.NOW_GRAIN_SECONDS if chosen_filters.live else 0)
span = {"since": window.since, "until": window.until + grain}

st.title("Audit log")
intro, refresh = st.columns([6, 1], vertical_alignment="bottom")
intro.caption(
    "Every change made through Control Tower: sign-in failures, accounts, actions, approvals. "
    "Append-only and hash-chained, so a changed or deleted row is detected. "
    f"Times in {zone}; the check below reruns every {VERIFY_TTL_SECONDS} s."
)
if refresh.button("Refresh", key="audit_refresh", width="stretch"):
    data.refresh()
    _verify.clear()

check = _verify(load_settings().database_url)
if check.ok:
    st.success(f"Chain intact: {check.rows:,} rows", icon=":material/verified:")
else:
    st.error(
        f"**Chain broken at audit_id {check.bad_audit_id}:** {check.problem}. "
        "Rows before it are as they were written; from it on they cannot be trusted.",
        icon=":material/gpp_bad:",
    )

by_field: dict[str, list[str]] = {"actor": [], "action": [], "entity_kind": []}
for option in data.frame("audit/page_options", **span).to_dicts():
    by_field[option["field"]].append(option["value"])
actor_col, action_col, kind_col, key_col = st.columns(4)
with actor_col:
    actor = _choice("Actor", by_field["actor"], "audit_actor")
with action_col:
    action = _choice("Action", by_field["action"], "audit_action")
with kind_col:
    entity_kind = _choice("Entity kind", by_field["entity_kind"], "audit_entity_kind")
with key_col:
    entity_key = (
        st.text_input("Entity key", key="audit_entity_key", placeholder="e.g. ORD-000123").strip() or None
    )

chosen = {**span, "actor": actor, "action": action, "entity_kind": entity_kind, "entity_key": entity_key}
total = int(data.row("audit/page_count", **chosen)["rows"])
rows = data.frame("audit/page_rows", **chosen, limit=MAX_ROWS)
if rows.is_empty():
    st.info(EMPTY_MESSAGE)
    st.stop()

shown = f"the newest {MAX_ROWS:,} of {total:,}" if total > MAX_ROWS else f"{total:,}"
since, until = (t.astimezone(ZoneInfo(zone)) for t in (window.since, window.until))
st.caption(f"{shown} rows from {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M}, newest first.")
st.dataframe(
    rows,
    hide_index=True,
    width="stretch",
    column_config={
        "audit_id": st.column_config.NumberColumn("#", format="%d", width=60),
        "at": st.column_config.DatetimeColumn("At", format="YYYY-MM-DD HH:mm:ss", width=160),
        "actor": st.column_config.TextColumn("Actor"),
        "role": st.column_config.TextColumn("Role", width=80),
        "action": st.column_config.TextColumn("Action"),
        "entity_kind": st.column_config.TextColumn("Entity kind", width=90),
        "entity_key": st.column_config.TextColumn("Entity"),
        "reason": st.column_config.TextColumn("Reason", width="medium"),
        "before": st.column_config.TextColumn("Before"),
        "after": st.column_config.TextColumn("After"),
        "detail": st.column_config.TextColumn("Detail"),
    },
    placeholder=EMPTY_CELL,
)
st.download_button(
    "Download CSV",
    data=rows.with_columns(rows["at"].dt.to_string("%Y-%m-%dT%H:%M:%S%:z")).write_csv(),
    file_name="audit-log.csv",
    mime="text/csv",
    key="audit_csv",
    icon=":material/download:",
)
