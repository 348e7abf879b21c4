"""Action dialogs: preview what will change, give a reason, confirm (app/actions).

Pages call one line per action:

    if st.button("Reroute"): action_dialog("reroute", order_id)
    action_buttons("order", order_id)           # the actions of an entity kind, as buttons

The dialog shows the entity as it is now and the preview of the change (value, whether a
second manager must approve), the inputs of its kind, a reason box, and Confirm. The
idempotency key is made when the dialog opens and kept in session state, so a double
click or a rerun applies once. The state shown is what the request says the user saw: if
it changed meanwhile, the refusal says what changed. Refusals (a viewer, a stale or busy
entity, bad input) are shown in the dialog, one line. Keys start with `act_`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import streamlit as st

from app.actions import core
from app.actions.adjust import REASONS
from app.actions.base import ActionError, Preview
from app.auth.roles import Forbidden, can, who_may
from app.ui import data

STATE = "act_dialog"
TITLES = {
    "reroute": "Reroute order",
    "transfer": "Decide transfer",
    "hold": "Place a hold",
    "release_hold": "Release holds",
    "adjust": "Adjust stock",
    "retry": "Retry delivery",
    "retry_all": "Retry failed deliveries",
    "exception_ack": "Acknowledge exception",
    "exception_assign": "Assign exception",
    "exception_snooze": "Snooze exception",
    "exception_resolve": "Resolve exception",
    "source_pause": "Pause source",
    "source_resume": "Resume source",
}
BY_ENTITY = {  # the actions offered for an entity kind, in button order
    "order": ("reroute",),
    "position": ("hold", "release_hold", "adjust"),
    "transfer": ("transfer",),
    "delivery": ("retry",),
    "exception": ("exception_ack", "exception_assign", "exception_snooze", "exception_resolve"),
    "source": ("source_pause", "source_resume"),
}
BUTTON_LABELS = {
    "reroute": "Reroute",
    "transfer": "Approve / reject",
    "hold": "Hold",
    "release_hold": "Release hold",
    "adjust": "Adjust",
    "retry": "Retry",
    "retry_all": "Retry all",
    "exception_ack": "Acknowledge",
    "exception_assign": "Assign",
    "exception_snooze": "Snooze",
    "exception_resolve": "Resolve",
    "source_pause": "Pause",
    "source_resume": "Resume",
}


def _actor() -> Any:
    from app.auth.ui import current_actor

    return current_actor()


def _permission(kind: str) -> str:
    from app.actions.registry import family

    return family(kind).permission


def refusal(kind: str) -> str | None:
    """Why the person signed in may not do `kind` (None: they may)."""
    actor, permission = _actor(), _permission(kind)
    if actor is None:
        return f"Sign in first: this needs {who_may(permission)}."
    if not can(actor.role, permission):
        return f"{actor.username} ({actor.role}) may not do this: it needs {who_may(permission)}."
    return None


def action_dialog(kind: str, key: str, params: dict[str, Any] | None = None, *, origin: str = "") -> None:
    """Open the dialog of action `kind` on entity `key` (params: preset inputs, e.g. a
    retry-all filter). Call it when the page's button is clicked; `action_button` also
    keeps it open across full reruns of the page."""
    st.session_state[STATE] = {
        "kind": kind,
        "key": key,
        "origin": origin,
        "params": dict(params or {}),
        "idempotency_key": uuid.uuid4().hex,  # made once, when the dialog opens
        "seen": None,
        "result": None,
        "error": None,
    }
    _dialog(kind, key)


def action_button(
    label: str,
    kind: str,
    key: str,
    params: dict[str, Any] | None = None,
    *,
    button_key: str,
    container: Any = None,
) -> None:
    """A button that opens the dialog of `kind` on `key`, and reopens it on a full rerun
    while it is open (a dialog's own widgets rerun only the dialog in a browser)."""
    where = container if container is not None else st
    if where.button(label, key=button_key, width="stretch"):
        action_dialog(kind, key, params, origin=button_key)
        return
    state = st.session_state.get(STATE)
    if state and (state["origin"], state["kind"], state["key"]) == (button_key, kind, key):
        _dialog(kind, key)


def action_buttons(
    entity_kind: str, key: str, *, kinds: tuple[str, ...] | None = None, prefix: str = ""
) -> None:
    """A row of buttons, one per action of `entity_kind` (or `kinds`), each opening its dialog."""
    chosen = kinds or BY_ENTITY[entity_kind]
    for column, kind in zip(st.columns(len(chosen)), chosen, strict=True):
        action_button(
            BUTTON_LABELS[kind], kind, key, button_key=f"act_{prefix}{kind}_button", container=column
        )


def _dismissed() -> None:
    st.session_state.pop(STATE, None)


def _inputs(kind: str, key: str, preset: dict[str, Any]) -> dict[str, Any]:
    """The inputs of a kind; the params to preview and request."""
    params = dict(preset)
    if kind == "reroute":
        from app.actions.reroute import FAMILY

        try:
            with data.engine().connect() as conn:
                nodes = FAMILY.candidates(conn, key, limit=20)
        except ActionError:
            nodes = []
        if nodes:
            labels = {
                n["location_id"]: f"{n['location_id']} · {n['region'] or '?'}"
                f"{' (same region)' if n['same_region'] else ''} · load {n['routed']}/"
                f"{n['daily_capacity'] or '-'}" + ("" if n["ok"] else f" · {n['why_not']}")
                for n in nodes
            }
            params["to_node"] = st.selectbox(
                "Move to", list(labels), format_func=labels.__getitem__, key="act_to_node",
                help="Best first: in stock, in the order's ship-to region, least loaded.",
            )  # fmt: skip
    elif kind == "hold":
        params["qty"] = int(st.number_input("Units to hold", min_value=1, value=1, step=1, key="act_qty"))
    elif kind == "adjust":
        left, mid, right = st.columns(3)
        params["delta"] = int(left.number_input("Change (units, + or -)", value=-1, step=1, key="act_delta"))
        params["reason_code"] = mid.selectbox(
            "Reason code", REASONS, index=REASONS.index("manual"), key="act_code"
        )
        system = right.selectbox(
            "System", ("(runs the location)", "wms", "pos", "erp", "oms"), key="act_system"
        )
        if not system.startswith("("):
            params["system"] = system
    elif kind == "transfer":
        params["decision"] = st.radio("Decision", ("approve", "reject"), horizontal=True, key="act_decision")
    elif kind == "exception_assign":
        actor = _actor()
        params["assignee"] = st.text_input(
            "Assign to", value=params.get("assignee") or (actor.username if actor else ""), key="act_assignee"
        )
    elif kind == "exception_snooze":
        hours = st.selectbox(
            "Snooze for", (1, 4, 8, 24, 72), format_func=lambda h: f"{h} hours", key="act_hours"
        )
        params["until"] = (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0).isoformat()
    return params


def _show_preview(found: Preview) -> None:
    for change in found.changes[:50]:
        st.markdown(f"- {change}")
    if len(found.changes) > 50:
        st.caption(f"… and {len(found.changes) - 50} more (all of them are sent).")
    facts = []
    if found.value is not None:
        facts.append(f"Value {float(found.value):,.2f}")
    if found.commands:
        systems = sorted({c.system for c in found.commands})
        facts.append(f"{len(found.commands)} command(s) to {', '.join(systems)}")
    else:
        facts.append("applied at once")
    st.caption(" · ".join(facts))
    if found.needs_approval:
        st.warning("Above the approval threshold: a second manager must approve it before it is sent.")


def _submit() -> None:
    """Confirm: request the action with the state shown (runs before the rerun)."""
    state = st.session_state[STATE]
    reason = st.session_state.get("act_reason", "")
    try:
        action = core.request(
            data.engine(),
            _actor(),
            state["kind"],
            state["key"],
            state["params"],
            reason=reason,
            idempotency_key=state["idempotency_key"],
            seen=state["seen"],
        )
    except (ActionError, Forbidden) as exc:
        state["error"] = str(exc).splitlines()[0]
        return
    state["result"], state["error"] = action.as_dict(), None
    data.refresh()


def _dialog(kind: str, key: str) -> None:
    """The dialog of `kind`, titled with what it does ("Reroute order"), on entity `key`."""
    _DIALOGS[kind](kind, key)


def _body(kind: str, key: str) -> None:
    state = st.session_state.get(STATE) or {}
    st.subheader("every interface" if key == "*" else key)
    result = state.get("result")
    if result is not None:
        status = result["status"]
        message = {
            "pending": "Requested: it waits for a second manager's approval (Approvals page).",
            "approved": "Requested and approved: the command goes out with the next dispatch.",
            "confirmed": "Done.",
        }.get(status, f"Status: {status}.")
        st.success(f"Action #{result['action_id']}. {message}")
        if st.button("Close", key="act_close"):
            st.session_state.pop(STATE, None)
            st.rerun()
        return
    refused = refusal(kind)
    if refused:
        st.warning(refused)
    params = _inputs(kind, key, state.get("params", {}))
    try:
        found = core.preview(data.engine(), kind, key, params)
    except ActionError as exc:
        st.error(str(exc).splitlines()[0])
        return
    _show_preview(found)
    state["params"], state["seen"] = found.params, found.state
    st.text_area("Reason (required)", key="act_reason", placeholder="Why, in a few words")
    if state.get("error"):
        st.error(state["error"])
    st.button("Confirm", key="act_confirm", type="primary", on_click=_submit, disabled=refused is not None)


# one dialog per action kind, so its title says what it does (st.dialog's title is fixed)
_DIALOGS = {
    kind: st.dialog(title, width="large", on_dismiss=_dismissed)(_body) for kind, title in TITLES.items()
}
