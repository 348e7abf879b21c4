"""Approvals: pending actions for a second manager, and what became of recent actions.

A manager (or admin) approves or rejects someone else's pending request, never their own
(the four-eyes rule, app/actions/core.py); an approval re-checks that the entity is still
as the requester saw it. Below: the recent actions with their progress, pending ->
approved -> sent -> confirmed (or rejected, failed with the error), as the outbox
dispatcher moves them. Keys start with `apv_`.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from app.actions import core
from app.actions.base import ActionError
from app.auth.roles import Forbidden, can
from app.auth.ui import current_actor
from app.ui import data
from app.ui.errors import DATABASE_ERRORS, explain
from app.ui.theme import EMPTY_CELL

RECENT_ROWS = 200
MESSAGE = "apv_message"


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "id": r["action_id"],
                "status": r["status"],
                "action": r["kind"],
                "entity": r["entity_key"],
                "params": ", ".join(f"{k}={v}" for k, v in r["params"].items() if v is not None),
                "value": None if r["value"] is None else float(r["value"]),
                "requested_by": r["requested_by"],
                "requested_at": r["requested_at"],
                "reason": r["reason"],
                "decided_by": r["decided_by"],
                "commands": _progress(r),
                "error": r["error"],
            }
            for r in rows
        ],
        infer_schema_length=None,
    )


NO_COMMANDS = {"pending": "not sent yet", "approved": "not sent yet", "rejected": "none"}


def _progress(r: dict[str, Any]) -> str:
    if not r["commands"]:  # none yet (waiting for a decision), none ever (rejected), or local
        return NO_COMMANDS.get(r["status"], "applied at once")
    done = f"{r['confirmed']}/{r['commands']} confirmed"
    return done + (f", {r['failed']} failed" if r["failed"] else "")


def _decide(action_id: int, approve: bool) -> None:
    actor = current_actor()
    reason = st.session_state.get(f"apv_reason_{action_id}", "")
    try:
        if approve:
            done = core.approve(data.engine(), actor, action_id, reason=reason)
        else:
            done = core.reject(data.engine(), actor, action_id, reason=reason)
    except (ActionError, Forbidden) as exc:
        st.session_state[MESSAGE] = ("error", f"#{action_id}: {str(exc).splitlines()[0]}")
        return
    st.session_state[MESSAGE] = ("success", f"#{action_id} {done.status} by {done.decided_by}.")


column = st.column_config
table_config = {
    "id": column.NumberColumn("#", format="%d", width=50),
    "status": column.TextColumn("Status", width=80),
    "action": column.TextColumn("Action", width=120),
    "entity": column.TextColumn("Entity", width=150),
    "params": column.TextColumn("Details", width=130),
    "value": column.NumberColumn("Value", format="%,.2f", width=70),
    "requested_by": column.TextColumn("By", width=60),
    "requested_at": column.DatetimeColumn("Requested", format="MM-DD HH:mm", width=90),
    "reason": column.TextColumn("Reason", width=160),
    "decided_by": column.TextColumn("Approved by", width=80),
    "commands": column.TextColumn("Commands", width=120),
    "error": column.TextColumn("Error", width=160),
}

st.title("Approvals")
actor = current_actor()
intro, refresh = st.columns([6, 1], vertical_alignment="bottom")
intro.caption(
    "Actions worth more than the approval threshold wait here for a second manager. "
    "Approving re-checks the entity; the commands then go to the systems with the next dispatch."
)
if refresh.button("Refresh", key="apv_refresh", width="stretch"):
    data.refresh()

try:
    pending = core.list_actions(data.engine(), "pending")
    recent = core.list_actions(data.engine(), None, RECENT_ROWS)
except DATABASE_ERRORS as exc:
    st.error(explain(exc))
    st.stop()

if MESSAGE in st.session_state:
    level, text = st.session_state.pop(MESSAGE)
    (st.success if level == "success" else st.error)(text)

st.subheader(f"Waiting for approval ({len(pending)})")
if actor is None or not can(actor.role, "approve"):
    st.info(
        "Sign in as a manager or admin to approve or reject."
        if actor is None
        else f"{actor.username} ({actor.role}) may look, not approve: it needs a manager or admin."
    )
if not pending:
    st.caption("Nothing waits for approval.")
for row in pending:
    action_id = row["action_id"]
    with st.container(border=True, key=f"apv_card_{action_id}"):
        top, value = st.columns([5, 1])
        params = ", ".join(f"{k}={v}" for k, v in row["params"].items() if v is not None)
        top.markdown(f"**#{action_id} {row['kind']}** `{row['entity_key']}` {params}")
        top.caption(
            f"Requested by {row['requested_by']} at {row['requested_at']:%Y-%m-%d %H:%M} UTC: {row['reason']}"
        )
        value.metric("Value", "-" if row["value"] is None else f"{float(row['value']):,.2f}")
        own = actor is not None and actor.username == row["requested_by"]
        may = actor is not None and can(actor.role, "approve") and not own
        if own:
            st.caption("Your own request: another manager must approve or reject it.")
        if may:
            reason_box, approve_button, reject_button = st.columns([4, 1, 1], vertical_alignment="bottom")
            reason_box.text_input("Reason (required to reject)", key=f"apv_reason_{action_id}")
            approve_button.button(
                "Approve",
                key=f"apv_approve_{action_id}",
                type="primary",
                on_click=_decide,
                args=(action_id, True),
            )
            reject_button.button(
                "Reject", key=f"apv_reject_{action_id}", on_click=_decide, args=(action_id, False)
            )

st.subheader("Recent actions")
if not recent:
    st.info("No data yet for this window.")
else:
    st.caption("pending → approved → sent → confirmed; or rejected, or failed with the error.")
    st.dataframe(
        _frame(recent),
        hide_index=True,
        width="stretch",
        column_config=table_config,
        key="apv_recent",
        placeholder=EMPTY_CELL,
    )
