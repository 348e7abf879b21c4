"""Overview: is the operation on track, and is the data flowing?

For the operations lead: one tile per metric family (metrics.summary.compute for the
window of the shared filters) with its trend against the previous window of the same
length (live: taken at the last quarter hour, so it is cached and trends move every 15
minutes) and a red/amber/green status; the open exceptions by severity; and the health of
every collector source. Live (as-of now) figures refresh every LIVE_SECONDS. Page state
keys start with `overview_`.

The tiles are narrowed by the shared filters region, channel, node and source as
metrics/scoping.py defines per family; under a tile, the filters that do not apply to it
are named ("Not narrowed by ..."). Each tile links to its family's page (TILE_PAGES) with
the filters kept. The down/stale banner is drawn for every page by app/ui/banner.py.

How each status is derived (STATUS RULES). Each tile's status follows from figures that
the policies define: an order is breached past its `promised_by`, at risk within
`at_risk_hours`, a reroute is repeated at `repeated_reroute_count`, a position pair out of
tolerance beyond `abs_tolerance_units`/`pct_tolerance`, a snapshot stale after
`stale_hours`, a shipment's ASN late after `asn_late_hours`, a return slow after
`return_to_stock_hours`. Red is a condition the detectors raise at high or critical
severity; amber one they raise at low or medium (or an early warning); green, none:

    SLA on-time      red: breached > 0           amber: at_risk > 0
    Reroute rate     red: -                      amber: repeated > 0
    Inventory        red: negative_positions > 0 amber: out_of_tolerance > 0 or stale_positions > 0
    Integrations     red: failure_rate > interface_failure_rate (the deployment's)
                                                 amber: failures, failed_deliveries or delayed_events > 0
    Inbound (ASN)    red: -                      amber: asn_late > 0
    Returns          red: -                      amber: slow_returns > 0
    any family with nothing in the window: "No data".
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st
from streamlit.errors import StreamlitAPIException

from app.settings import load_settings
from app.ui import banner, data, filters, links, theme
from app.ui.drill import plural
from app.ui.errors import DATABASE_ERRORS, explain
from metrics import past, scoping
from metrics.params import Policies, Scope, Window

LIVE_SECONDS = 30
EMPTY_MESSAGE = "No data yet for this window."
DETAIL_STYLE = f"color:{theme.MUTED};font-size:0.875rem;margin-left:0.4rem"
STRIP_STYLE = "display:flex;flex-wrap:wrap;gap:0.5rem"
CHIP_STYLE = (
    f"border:1px solid {theme.GRID};border-radius:0.5rem;padding:0.4rem 0.7rem;"
    "min-width:14rem;line-height:1.6"
)
SEVERITY_ORDER = ("critical", "high", "medium", "low")
NOT_APPLIED = "Not narrowed by {names}: does not apply to this figure."
EXCEPTIONS_NOT_SCOPED = "The queue counts are of the whole estate: the filters do not narrow them."
# each tile's page (pages/<page>.py) and that page's own query parameters
TILE_PAGES: dict[str, tuple[str, dict[str, str]]] = {
    "sla": ("fulfilment", {"ful_list": "breached"}),
    "reroutes": ("fulfilment", {"ful_list": "rerouted"}),
    "inventory": ("inventory", {}),
    "integrations": ("integrations", {}),
}

Figures = dict[str, Any]
QUIET: dict[str, Any] = {"delta_color": "off", "delta_arrow": "off"}  # a delta that is only words


@dataclass(frozen=True)
class Tile:
    family: str
    label: str
    value: Callable[[Figures], float | None]  # None: nothing to show in this window
    shown: Callable[[float], str]
    trend: Callable[[float], str]  # the difference with the previous window, as text
    higher_is_better: bool
    detail: Callable[[Figures], str]
    status: Callable[[Figures, Policies], str]
    help: str


def _percent(x: float) -> str:
    return f"{x:.1f}%"


def _points(x: float) -> str:
    return f"{x:+.1f} pp"


def _count(x: float) -> str:
    return f"{x:,.0f}"


def _count_delta(x: float) -> str:
    return f"{x:+,.0f}"


def _rag(red: bool, amber: bool) -> str:
    return "red" if red else "amber" if amber else "green"


TILES = (
    Tile(
        "sla",
        "SLA on-time",
        lambda f: 100 * (1 - f["breach_rate"]) if f["orders"] else None,
        _percent,
        _points,
        True,
        lambda f: f"{f['breached']:,} breached · {f['at_risk']:,} at risk · {plural(f['orders'], 'order')}",
        lambda f, p: _rag(f["breached"] > 0, f["at_risk"] > 0),
        "Orders created in the window, not cancelled, delivered by their promise "
        "(or not yet due). At risk: due within the at-risk policy hours.",
    ),
    Tile(
        "reroutes",
        "Reroute rate",
        lambda f: 100 * f["rate"] if f["reroutes"] or f["rate"] else None,
        _percent,
        _points,
        False,
        lambda f: f"{plural(f['rerouted_orders'], 'order')} rerouted · {f['repeated']:,} repeatedly",
        lambda f, p: _rag(False, f["repeated"] > 0),
        "Orders of the window rerouted at least once, of the orders in the window. "
        "Repeatedly: at the repeated-reroute policy count or more.",
    ),
    Tile(
        "inventory",
        "Positions out of tolerance",
        lambda f: f["out_of_tolerance"] if f["pairs_compared"] else None,
        _count,
        _count_delta,
        False,
        lambda f: (
            f"of {f['pairs_compared']:,} pairs · {f['negative_positions']:,} negative · "
            f"{f['stale_positions']:,} stale · {f['variance_units']:,} units off"
        ),
        lambda f, p: _rag(f["negative_positions"] > 0, f["out_of_tolerance"] > 0 or f["stale_positions"] > 0),
        "A picture at the as-of (the window does not apply): system positions that differ "
        "from the reference system beyond the tolerance policies.",
    ),
    Tile(
        "integrations",
        "Integration failure rate",
        lambda f: 100 * f["failure_rate"] if f["calls"] else None,
        _percent,
        _points,
        False,
        lambda f: (
            f"{f['failures']:,} / {plural(f['calls'], 'call')} · "
            f"{plural(f['failed_deliveries'], 'failed delivery')} · "
            f"{plural(f['delayed_events'], 'late event')}"
        ),
        lambda f, p: _rag(
            f["failure_rate"] > p.interface_failure_rate,
            f["failures"] > 0 or f["failed_deliveries"] > 0 or f["delayed_events"] > 0,
        ),
        "Interface calls in the window that ended in error or timeout. Red above the "
        "interface failure-rate policy.",
    ),
    Tile(
        "inbound",
        "Late ASNs",
        lambda f: f["asn_late"],
        _count,
        _count_delta,
        False,
        lambda f: "received with no ASN before, or late",
        lambda f, p: _rag(False, f["asn_late"] > 0),
        "Shipments received in the window with no ASN before the receipt, or received "
        "later than the ASN-late policy hours after the ASN's expected time.",
    ),
    Tile(
        "returns",
        "Slow returns",
        lambda f: f["slow_returns"] if f["returns"] else None,
        _count,
        _count_delta,
        False,
        lambda f: f"of {plural(f['returns'], 'return')} received · {f['restocked']:,} restocked",
        lambda f, p: _rag(False, f["slow_returns"] > 0),
        "Returns received in the window not restocked within the return-to-stock policy hours.",
    ),
)


def _has_data(figures: dict[str, Any]) -> bool:
    return any(
        value
        for family in (t.family for t in TILES)
        for value in figures[family].values()
        if isinstance(value, int | float)
    )


def _local(value: datetime, zone: str) -> str:
    return f"{value.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M:%S}"


def _span(length: timedelta) -> str:
    hours = length.total_seconds() / 3600
    if hours < 48:
        return f"{hours:g} h"
    return f"{hours / 24:g} days"


def _ago(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    minutes = delta.total_seconds() / 60
    if minutes < 0:
        return "ahead"
    if minutes < 90:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"


def link_to(page: str, label: str, **extra: str) -> None:
    """A link to another page with the filters kept; a page not in the app yet is named only."""
    try:
        links.page_link(page, label, **extra)
    except StreamlitAPIException:
        st.caption(f"{label} (page not available)")


def draw_tile_footer(tile: Tile, scope: Scope) -> None:
    """Under a tile: the filters that do not narrow it, and the link to its page."""
    ignored = scoping.not_applied(tile.family, scope)
    if ignored:
        st.caption(NOT_APPLIED.format(names=" or ".join(ignored)))
    if tile.family in TILE_PAGES:
        page, extra = TILE_PAGES[tile.family]
        link_to(page, f"Open {page.capitalize()} →", **extra)


def draw_tiles(
    current: dict[str, Any], before: dict[str, Any], policies: Policies, length: str, scope: Scope
) -> None:
    for row in (TILES[:3], TILES[3:]):
        for column, tile in zip(st.columns(len(row)), row, strict=True):
            figures, earlier = current[tile.family], before[tile.family]
            value, previous_value = tile.value(figures), tile.value(earlier)
            with column.container(border=True):
                if value is None:
                    st.metric(tile.label, "—", delta="nothing in this window", **QUIET, help=tile.help)
                    st.markdown(theme.badge("none"), unsafe_allow_html=True)
                    draw_tile_footer(tile, scope)
                    continue
                if previous_value is None or value == previous_value:
                    said = "no data before" if previous_value is None else "no change"
                    st.metric(tile.label, tile.shown(value), delta=said, **QUIET, help=tile.help)
                else:
                    st.metric(
                        tile.label,
                        tile.shown(value),
                        delta=tile.trend(value - previous_value),
                        delta_color="normal" if tile.higher_is_better else "inverse",
                        delta_description=f"vs previous {length}",
                        help=tile.help,
                    )
                badge = theme.badge(tile.status(figures, policies))
                detail = html.escape(tile.detail(figures))
                st.markdown(f'{badge} <span style="{DETAIL_STYLE}">{detail}</span>', unsafe_allow_html=True)
                draw_tile_footer(tile, scope)


def draw_exceptions(scope: Scope) -> None:
    st.subheader("Open exceptions")
    counts = {r["severity"]: r for r in data.frame("ui/overview_exceptions").to_dicts()}
    columns = [*st.columns(2), *st.columns(2)]  # two by two: big numbers stay whole
    for column, severity in zip(columns, SEVERITY_ORDER, strict=True):
        row = counts.get(severity, {"open": 0, "acknowledged": 0})
        column.metric(
            severity.capitalize(),
            f"{row['open'] + row['acknowledged']:,}",
            delta=f"{row['acknowledged']:,} acknowledged",
            **QUIET,
            border=True,
            help="Unresolved exceptions of the queue now (it is not replayed for an earlier as-of).",
        )
    if not counts:
        st.caption("The queue is empty: no unresolved exception.")
    if not scope.everything:
        st.caption(EXCEPTIONS_NOT_SCOPED)
    link_to("exceptions", "Open Exceptions →")


def _chip(source: dict[str, Any], status: str, zone: str) -> str:
    """One source of the strip: its name, status (shape and word), last success and lag."""
    last = source["last_success_at"]
    failures = source["consecutive_failures"]
    facts = [f"ok {_local(last, zone)[5:16]}" if last else "never ok", f"lag {_ago(source['lag'])}"]
    if failures:
        facts.append(plural(failures, "failed run"))
    return (
        f'<div style="{CHIP_STYLE}">{theme.badge(status)} <b>{html.escape(str(source["name"]))}</b><br>'
        f'<span style="color:{theme.MUTED};font-size:0.85rem">{" · ".join(facts)}</span></div>'
    )


Marked = list[tuple[dict[str, Any], str]]


def sources_marked(window: Window, policies: Policies, only: str | None) -> Marked:
    """Each collector source (only the one named `only`, when set) with its strip status."""
    sources = data.source_health(window.as_of)
    if only:
        sources = [s for s in sources if s["name"] == only]
    stale_after = timedelta(minutes=policies.source_stale_minutes)
    return [(s, banner.status_of(s, window.as_of, stale_after)) for s in sources]


def draw_health(marked: Marked, policies: Policies, zone: str, only: str | None) -> None:
    st.subheader(
        "Source health",
        help="Each collector source's current state; lag is the as-of minus the newest business "
        f"time read from it. Stale: up, but no success for {policies.source_stale_minutes:g} min "
        "(the source_stale_minutes policy).",
    )
    if not marked:
        st.caption(f"No collector source named {only!r}." if only else "No collector source configured yet.")
        return
    chips = "".join(_chip(source, status, zone) for source, status in marked)
    st.markdown(f'<div style="{STRIP_STYLE}">{chips}</div>', unsafe_allow_html=True)


def draw(f: filters.Filters, zone: str) -> None:
    try:
        window = f.resolve(filters.now())
    except ValueError as exc:
        st.warning(f"These filters give no window: {exc}")
        return
    earlier = past.previous(window)
    if f.live:  # live: the previous window moves by quarter hours, so its figures stay kept
        earlier = past.floored(earlier)  # to the quarter hour the scheduler computes ahead
    length = _span(window.until - window.since)
    scope = f.scope()
    current, before = data.summary(window, scope), data.summary_before(earlier, scope)
    policies = data.policies()
    live = f" · live, refreshed every {LIVE_SECONDS} s" if f.live else ""
    st.caption(
        f"**As of {_local(window.as_of, zone)}**{live} · window {_local(window.since, zone)} to "
        f"{_local(window.until, zone)} ({zone}), compared with the {length} before it."
    )
    scoped = f.scopes()
    if scoped:
        names = ", ".join(f"{name} = {value}" for name, value in scoped.items())
        st.caption(f"**Narrowed to** {names} (each figure by the filters that apply to it).")
    marked = sources_marked(window, policies, f.source)
    if not _has_data(current):
        st.info(EMPTY_MESSAGE)
    draw_tiles(current, before, policies, length, scope)
    left, right = st.columns([1.5, 3], gap="large")
    with left:
        draw_exceptions(scope)
    with right:
        draw_health(marked, policies, zone, f.source)


st.title("Overview")
chosen = filters.current()
settings_zone = load_settings().timezone


@st.fragment(run_every=LIVE_SECONDS if chosen.live else None)
def figures() -> None:
    try:
        draw(chosen, settings_zone)
    except DATABASE_ERRORS as exc:
        st.error(explain(exc))


figures()
