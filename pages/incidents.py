"""Incidents: the reviews of what went wrong, what it cost and what was done.

The list of incidents (open first); for one incident (`?inc_id=N`, or a row selected) its
combined timeline across systems, its impact (metrics/incidents.py), its entities, the
failure windows, the exceptions and actions of its range, its notes, and the exports
(Markdown; a self-contained HTML report to print). `?inc_from_exception=KEY` opens the
creation form prefilled from that exception. Changes need a manager or admin login; every
change is audited (app/incidents/records.py). Figures are as of the shared filters' as-of.
Page state keys start with `inc_`.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from app.auth.roles import Forbidden, can
from app.incidents import records
from app.incidents.records import Entity, IncidentError
from app.incidents.report import FIGURES, duration, figure_text, html_report, markdown
from app.incidents.review import Review, load
from app.incidents.timeline import figure
from app.incidents.ui import FROM_EXCEPTION, INCIDENT
from app.settings import load_settings
from app.ui import data, filters, links, theme
from app.ui.errors import DATABASE_ERRORS, explain

LIST_ROWS = 500
SIGN_IN = "Sign in as a manager or admin to open or change incidents."
EMPTY = "No incidents yet. Open one from an exception (Exceptions page) or with the form above."
stamp = st.column_config.DatetimeColumn
text = st.column_config.TextColumn
when = "YYYY-MM-DD HH:mm:ss"


def current_actor() -> Any:
    """The signed-in user (app.auth.ui), or None: anonymous visitors only view."""
    try:
        from app.auth.ui import current_actor as signed_in
    except ImportError:  # accounts' page pieces not there yet: nobody may change
        return None
    return signed_in()


def local(frame: pl.DataFrame, zone: str) -> pl.DataFrame:
    """Datetime columns shown in the app's time zone."""
    return frame.with_columns(
        pl.col(c).dt.convert_time_zone(zone)
        for c, t in frame.schema.items()
        if isinstance(t, pl.Datetime) and t.time_zone is not None
    )


def instant_input(label: str, value: datetime, zone: str, key: str) -> datetime:
    """A date and a time in the app's zone, back as a UTC instant."""
    shown = value.astimezone(ZoneInfo(zone))
    left, right = st.columns(2)
    day = left.date_input(f"{label} (date)", shown.date(), key=f"{key}_date")
    clock = right.time_input(
        f"{label} (time, {zone})",
        shown.time().replace(microsecond=0),
        key=f"{key}_time",
        step=timedelta(minutes=5),
    )
    return datetime.combine(day, clock or time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def run_change(action: Any, done: str) -> bool:
    """Run one change in a transaction; say what happened; refusals as one line."""
    try:
        with data.engine().begin() as conn:
            action(conn)
    except (IncidentError, Forbidden) as exc:
        st.error(str(exc))
        return False
    data.refresh()
    st.toast(done)
    return True


def creation_form(actor: Any, zone: str, now: datetime) -> None:
    """Open an incident: prefilled from ?inc_from_exception=KEY, else blank."""
    from_exception = st.query_params.get(FROM_EXCEPTION)
    draft: records.Draft | None = None
    if from_exception:
        try:
            with data.engine().connect() as conn:
                draft = records.draft_from_exception(conn, from_exception)
        except IncidentError as exc:
            st.warning(f"{exc}; fill the form by hand.")
    with st.expander("Open an incident", expanded=draft is not None):
        if draft is not None:
            st.caption(
                f"From exception `{draft.exception_key}`: its entity, and the span it was seen widened by "
                f"{records.DEFAULT_MARGIN.seconds // 60} minutes each side."
            )
        with st.form("inc_new_form"):
            title = st.text_input("Title", draft.title if draft else "", key="inc_new_title")
            entities = st.text_area(
                "Entities, one a line as KIND:KEY",
                "\n".join(str(e) for e in draft.entities) if draft else "",
                key="inc_new_entities",
                help="Kinds: "
                + ", ".join(records.KINDS)
                + ". E.g. order:ORD-000123, position:SKU-00017@DC-EAST.",
            )
            range_from = instant_input(
                "From", draft.range_from if draft else now - timedelta(hours=4), zone, "inc_new_from"
            )
            range_to = instant_input("To", draft.range_to if draft else now, zone, "inc_new_to")
            summary = st.text_area("Summary (optional)", key="inc_new_summary")
            allowed = actor is not None and can(getattr(actor, "role", None), "act")
            submitted = st.form_submit_button(
                "Open incident", disabled=not allowed, type="primary", key="inc_new_open"
            )
        if not allowed:
            st.caption(SIGN_IN)
        if submitted and allowed:
            try:
                chosen = [Entity.parse(line) for line in entities.splitlines() if line.strip()]
            except IncidentError as exc:
                st.error(str(exc))
                return
            opened: list[int] = []

            def do(conn: Any) -> None:
                opened.append(
                    records.open_incident(
                        conn,
                        actor,
                        title=title,
                        range_from=range_from,
                        range_to=range_to,
                        entities=chosen,
                        summary=summary,
                        exception_key=draft.exception_key if draft else None,
                    )
                )

            if run_change(do, "Incident opened"):
                st.query_params.pop(FROM_EXCEPTION, None)
                st.query_params[INCIDENT] = str(opened[0])
                st.rerun()


def entity_links(review: Review) -> None:
    for e in review.incident.entities:
        if e.kind in links.ENTITY_KINDS:
            links.entity_link(e.kind, e.key, f"{e.kind} {e.key}")
        elif e.kind == "delivery":  # no page of its own: its interface's
            interface, _, correlation = e.key.partition("|")
            links.entity_link("interface", interface, f"delivery {correlation} on {interface}")


def impact_tiles(review: Review) -> None:
    f = review.impact.figures
    shown = (
        "orders",
        "breached",
        "value",
        "value_affected",
        "interfaces_down",
        "down_seconds",
        "exceptions",
        "actions",
    )
    labels = dict(FIGURES)
    for column, key in zip(st.columns(4) + st.columns(4), shown, strict=True):
        column.metric(labels[key], figure_text(key, f[key]), border=True)
    st.caption(
        f"Units ordered {f['units']:,} ({f['breached_units']:,} in breached orders, value "
        f"{f['breached_value']:,.2f}); {f['cancelled']} cancelled not counted; "
        f"{f['unpriced_lines']} line(s) without a price. Positions {f['positions']}: "
        f"{f['position_units']:,} units at cost {f['position_value']:,.2f}."
    )


def editor(review: Review, actor: Any, zone: str) -> None:
    """Attach, detach, set the range, close: a manager's or admin's changes."""
    incident = review.incident
    iid = incident.incident_id
    with st.expander("Change the incident", expanded=False):
        if actor is None or not can(getattr(actor, "role", None), "act"):
            st.caption(SIGN_IN)
            return
        if incident.closed:
            st.caption("Closed: its entities and range stay as they were; notes can still be added.")
            return
        with st.form("inc_attach_form"):
            line = st.text_input("Attach an entity (KIND:KEY)", key="inc_attach_entity")
            if st.form_submit_button("Attach", key="inc_attach") and line.strip():
                try:
                    entity = Entity.parse(line)
                except IncidentError as exc:
                    st.error(str(exc))
                else:
                    if run_change(lambda c: records.attach(c, actor, iid, [entity]), f"Attached {entity}"):
                        st.rerun()
        if incident.entities:
            names = [str(e) for e in incident.entities]
            gone = st.selectbox("Detach an entity", names, index=None, key="inc_detach_entity")
            detach = st.button("Detach", key="inc_detach", disabled=gone is None)
            if (
                detach
                and gone
                and run_change(lambda c: records.detach(c, actor, iid, [Entity.parse(gone)]), "Detached")
            ):
                st.rerun()
        with st.form("inc_range_form"):
            new_from = instant_input("From", incident.range_from, zone, "inc_range_from")
            new_to = instant_input("To", incident.range_to, zone, "inc_range_to")
            set_it = st.form_submit_button("Set the range", key="inc_range_set")
            if set_it and run_change(
                lambda c: records.set_range(c, actor, iid, new_from, new_to), "Range set"
            ):
                st.rerun()
        with st.form("inc_close_form"):
            summary = st.text_area("Summary", incident.summary, key="inc_close_summary")
            close = st.form_submit_button("Close the incident", key="inc_close")
            if close and run_change(lambda c: records.close(c, actor, iid, summary=summary), "Closed"):
                st.rerun()


def notes(review: Review, actor: Any, zone: str) -> None:
    st.subheader("Notes")
    for n in review.incident.notes:
        st.markdown(f"**{n['author']}** · {n['at'].astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M}  \n{n['text']}")
    if not review.incident.notes:
        st.caption("No notes yet.")
    if actor is None or not can(getattr(actor, "role", None), "act"):
        st.caption(SIGN_IN)
        return
    with st.form("inc_note_form", clear_on_submit=True):
        note = st.text_area("Add a note (kept as written: notes are never edited)", key="inc_note_text")
        if st.form_submit_button("Add note", key="inc_note_add"):
            iid = review.incident.incident_id
            if run_change(lambda c: records.add_note(c, actor, iid, note), "Note added"):
                st.rerun()


def table(title: str, frame: pl.DataFrame, zone: str, empty: str, **config: Any) -> None:
    st.markdown(f"**{title}**")
    if frame.is_empty():
        st.caption(empty)
        return
    st.dataframe(
        local(frame, zone),
        hide_index=True,
        width="stretch",
        column_config=config,
        placeholder=theme.EMPTY_CELL,
    )


def show(review: Review, actor: Any, zone: str) -> None:
    incident = review.incident
    tz = ZoneInfo(zone)
    st.subheader(f"Incident {incident.incident_id} · {incident.title}")
    st.markdown(
        ("**Open**" if incident.status == "open" else "**Closed**")
        + f" · opened {incident.opened_at.astimezone(tz):%Y-%m-%d %H:%M} by **{incident.opened_by}**"
        + (
            f" · closed {incident.closed_at.astimezone(tz):%Y-%m-%d %H:%M} by **{incident.closed_by}**"
            if incident.closed and incident.closed_at
            else ""
        )
        + f" · range **{incident.range_from.astimezone(tz):%Y-%m-%d %H:%M}** to "
        f"**{incident.range_to.astimezone(tz):%Y-%m-%d %H:%M}** ({zone})"
        + (f" · from exception `{incident.exception_key}`" if incident.exception_key else ""),
    )
    if incident.summary:
        st.info(incident.summary)
    md, page = st.columns(2)
    name = f"incident-{incident.incident_id}"
    md.download_button(
        "⬇ Markdown", markdown(review), f"{name}.md", "text/markdown", key="inc_export_md", width="stretch"
    )
    page.download_button(
        "⬇ Printable report (HTML)",
        html_report(review),
        f"{name}.html",
        "text/html",
        key="inc_export_html",
        width="stretch",
        help="Open it in a browser and print it, or save it as PDF.",
    )
    impact_tiles(review)
    st.markdown("**Timeline across systems**")
    if review.timeline.is_empty():
        st.caption("No events, exceptions or actions of these entities in the range.")
    else:
        st.plotly_chart(
            figure(review.timeline, incident.range_from, incident.range_to, zone, template=theme.template()),
            key="inc_timeline",
            width="stretch",
        )
    left, right = st.columns([1, 3], gap="large")
    with left:
        st.markdown("**Entities**")
        if not incident.entities:
            st.caption("None attached yet.")
        entity_links(review)
    with right:
        windows = review.impact.windows
        if windows.height:
            windows = windows.with_columns(
                pl.col("seconds").map_elements(duration, return_dtype=pl.String).alias("down_for")
            ).drop("seconds")
        table(
            "Failure windows",
            windows,
            zone,
            "No failures of the attached interfaces, deliveries or sources in the range.",
            entity_kind=text("Kind", width="small"),
            entity_key=text("Entity"),
            started_at=stamp("Failing from", format=when),
            recovered_at=stamp("Recovered", format=when),
            ended_at=None,  # the recovery, else the range end: "Down for" says it
            down_for=text("Down for"),
            failed_calls=st.column_config.NumberColumn("Failures", format="%,d", width="small"),
        )
    table(
        "Orders",
        review.impact.orders,
        zone,
        "No orders of the incident.",
        order_id=text("Order"),
        via=text("How it is in", width="medium"),
        channel=text("Channel", width="small"),
        cancelled=st.column_config.CheckboxColumn("Cancelled", width="small"),
        breached=st.column_config.CheckboxColumn("Breached", width="small"),
        units=st.column_config.NumberColumn("Units", format="%,d", width="small"),
        unpriced_lines=st.column_config.NumberColumn("Lines without price", format="%,d", width="small"),
        created_at=stamp("Created", format=when),
        promised_by=stamp("Promised by", format=when),
        delivered_at=stamp("Delivered", format=when),
        value=st.column_config.NumberColumn("Value", format="%,.2f"),
    )
    if review.impact.positions.height:
        table(
            "Positions",
            review.impact.positions,
            zone,
            "",
            position=text("Position"),
            reference_quantity=st.column_config.NumberColumn("Reference quantity", format="%,d"),
            units=st.column_config.NumberColumn("Units", format="%,d"),
            unit_cost=st.column_config.NumberColumn("Unit cost", format="%,.2f"),
            value=st.column_config.NumberColumn("Value at cost", format="%,.2f"),
            quantities=text("Quantity per system"),
        )
    table(
        "Exceptions in the range",
        review.impact.exceptions,
        zone,
        "No exceptions about these entities in the range.",
        key=None,  # type and entity say it
        type=text("Type"),
        entity_kind=text("Kind", width="small"),
        entity=text("Entity"),
        status=text("Status", width="small"),
        severity=text("Severity", width="small"),
        resolved_by=text("Resolved by", width="small"),
        first_seen=stamp("First seen", format=when),
        last_seen=stamp("Last seen", format=when),
        resolved_at=stamp("Resolved", format=when),
    )
    table(
        "Actions taken, and by whom",
        review.impact.actions,
        zone,
        "No actions on these entities in the range.",
        audit_id=None,
        at=stamp("At", format=when),
        actor=text("By"),
        role=text("Role", width="small"),
        action=text("Action"),
        entity_kind=text("On", width="small"),
        entity_key=text("Entity"),
        reason=text("Reason", width="medium"),
    )
    notes(review, actor, zone)
    editor(review, actor, zone)
    with st.expander("Incident log (audit)"):
        table("", review.log, zone, "Nothing recorded.", audit_id=None, at=stamp("At", format=when))


zone = load_settings().timezone
window = filters.current().resolve(filters.now())
actor = current_actor()

st.title("Incidents")
st.caption(
    f"Impact figures as of {window.as_of.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} ({zone}), "
    "the shared as-of: "
    "orders breached by then count. Every change is written to the audit log."
)
try:
    with data.engine().connect() as conn:
        listed = records.list_incidents(conn, limit=LIST_ROWS)
except DATABASE_ERRORS as exc:
    st.error(explain(exc))
    st.stop()

creation_form(actor, zone, window.as_of)

if not listed:
    st.info(EMPTY)
    st.stop()

frame = pl.DataFrame(listed).drop("exception_key")
picked = st.dataframe(
    local(frame, zone),
    key="inc_list",
    on_select="rerun",
    selection_mode="single-row",
    hide_index=True,
    width="stretch",
    column_config={
        "incident_id": st.column_config.NumberColumn("Id", format="%d", width="small"),
        "status": text("Status", width="small"),
        "title": text("Title", width="medium"),
        "entities": st.column_config.NumberColumn("Entities", format="%d", width="small"),
        "notes": st.column_config.NumberColumn("Notes", format="%d", width="small"),
        "opened_by": text("Opened by"),
        "opened_at": stamp("Opened", format=when),
        "closed_at": stamp("Closed", format=when),
        "range_from": stamp("From", format=when),
        "range_to": stamp("To", format=when),
    },
    placeholder=theme.EMPTY_CELL,
)
rows: list[int] = picked["selection"]["rows"]  # dict access: AppTest injects plain dicts
chosen: int | None = None
if rows and rows[0] < len(listed):
    chosen = int(listed[rows[0]]["incident_id"])
elif st.query_params.get(INCIDENT, "").isdigit():
    chosen = int(st.query_params[INCIDENT])
if chosen is None:
    st.caption("Select an incident to open its review.")
    st.stop()
try:
    with data.engine().connect() as conn:
        review = load(conn, chosen, as_of=window.as_of, policies=data.policies())
except IncidentError as exc:
    st.warning(str(exc))
    st.stop()
show(review, actor, zone)
