"""The global filters every page shares: window, as-of, region, channel, node, source.

They live in the URL query string, so a view can be shared as a link and reloads the same:

    ?window=24h|7d|30d            a window ending at the as-of (default 7d)
    ?window=custom&since=T&until=T  an explicit window [since, until)
    ?as_of=T                      a chosen instant (default: now, refreshed live)
    ?region=R&channel=C&node=N&source=S

Times are ISO 8601 (`2026-11-20T13:00:00Z`); one without an offset is read in the app's
time zone. A bad value is ignored with a one-line notice, never a traceback.

The entry point draws the widgets once per run (`sidebar`); pages read `current()`.
On the first run of a session the URL fills the widgets; from then on the widgets write
the URL. Widget keys start with `filters_`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from metrics.params import Scope, Window

PRESETS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
CUSTOM = "custom"
WINDOW_LABELS = {"24h": "Last 24 h", "7d": "7 days", "30d": "30 days", CUSTOM: "Since / until"}
DEFAULT_WINDOW = "7d"
SCOPES = ("region", "channel", "node", "source")
KEYS = ("window", "since", "until", "as_of", *SCOPES)
NOW_GRAIN_SECONDS = 10  # "now" is floored to this, so reruns within it share cached figures
MAX_TEXT = 100

_P = "filters_"  # widget and state keys
_CURRENT = f"{_P}current"
_READY = f"{_P}ready"
_NOTICES = f"{_P}notices"
NOW, CHOSEN = "Now", "Chosen instant"


@dataclass(frozen=True)
class Filters:
    """What the user is looking at. `since`/`until` only with window 'custom'; as_of None is now."""

    window: str = DEFAULT_WINDOW
    since: datetime | None = None
    until: datetime | None = None
    as_of: datetime | None = None
    region: str | None = None
    channel: str | None = None
    node: str | None = None
    source: str | None = None

    @property
    def live(self) -> bool:
        return self.as_of is None

    def scopes(self) -> dict[str, str]:
        """The region, channel, node and source chosen (those set only)."""
        return {name: value for name in SCOPES if (value := getattr(self, name))}

    def scope(self) -> Scope:
        """The part of the estate the metrics narrow to (metrics/scoping.py says how)."""
        return Scope(region=self.region, channel=self.channel, node=self.node, source=self.source)

    def resolve(self, now: datetime) -> Window:
        """The metrics window: a preset ends at the as-of; a custom one is [since, until)."""
        as_of = self.as_of or now
        if self.window == CUSTOM and self.since is not None and self.until is not None:
            return Window.of(as_of, self.since, self.until)
        return Window.of(as_of, as_of - PRESETS[self.window], as_of)

    def to_query(self) -> dict[str, str]:
        """The query parameters of this view (defaults left out)."""
        out: dict[str, str] = {}
        if self.window != DEFAULT_WINDOW:
            out["window"] = self.window
        if self.window == CUSTOM:
            for name in ("since", "until"):
                value = getattr(self, name)
                if value is not None:
                    out[name] = iso(value)
        if self.as_of is not None:
            out["as_of"] = iso(self.as_of)
        out.update(self.scopes())
        return out


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def now() -> datetime:
    """The wall clock, floored to NOW_GRAIN_SECONDS."""
    t = datetime.now(UTC)
    return t - timedelta(seconds=t.second % NOW_GRAIN_SECONDS, microseconds=t.microsecond)


def _instant(name: str, text: str, zone: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a date and time (e.g. 2026-11-20T13:00:00Z)") from None
    local = value.replace(tzinfo=ZoneInfo(zone)) if value.tzinfo is None else value
    return local.astimezone(UTC)


def _text(name: str, text: str) -> str | None:
    value = text.strip()
    if len(value) > MAX_TEXT or not value.isprintable():
        raise ValueError(f"{name} is not a plain name of at most {MAX_TEXT} characters")
    return value or None


def from_query(
    params: Mapping[str, str | Sequence[str]], zone: str, at: datetime
) -> tuple[Filters, list[str]]:
    """Filters from query parameters, and one notice per value that was ignored.

    `at` is the wall clock: an as-of after it is refused.
    """
    notices: list[str] = []
    values: dict[str, Any] = {}

    def ignore(reason: str) -> None:
        notices.append(f"Ignored {reason}.")

    def one(key: str) -> str | None:
        raw = params.get(key)
        if raw is None:
            return None
        return raw if isinstance(raw, str) else (raw[-1] if raw else None)

    window = one("window")
    if window is not None:
        if window in WINDOW_LABELS:
            values["window"] = window
        else:
            ignore(f"window={window!r}: use one of {', '.join(WINDOW_LABELS)}")
    for key in ("since", "until", "as_of"):
        text = one(key)
        if text is None:
            continue
        try:
            values[key] = _instant(key, text, zone)
        except ValueError as exc:
            ignore(str(exc))
    for key in SCOPES:
        text = one(key)
        if text is None:
            continue
        try:
            values[key] = _text(key, text)
        except ValueError as exc:
            ignore(str(exc))

    as_of = values.get("as_of")
    if as_of is not None and as_of > at:
        ignore(f"as_of={iso(as_of)}: it is in the future; showing now")
        values.pop("as_of")
    given = {k for k in ("since", "until") if k in values}
    if values.get("window") == CUSTOM:
        if "since" not in values:
            ignore("window=custom without a valid since; showing the last 7 days")
            values["window"] = DEFAULT_WINDOW
        else:
            values.setdefault("until", values.get("as_of") or at)
            if values["since"] >= values["until"]:
                ignore("since and until: since must be before until; showing the last 7 days")
                values["window"] = DEFAULT_WINDOW
    elif given:
        if "window" not in values and "since" in values:
            values["window"] = CUSTOM  # since= alone means a custom window
            values.setdefault("until", values.get("as_of") or at)
            if values["since"] >= values["until"]:
                ignore("since and until: since must be before until; showing the last 7 days")
                values["window"] = DEFAULT_WINDOW
        else:
            ignore(f"{' and '.join(sorted(given))}: they need window=custom")
    if values.get("window", DEFAULT_WINDOW) != CUSTOM:
        values.pop("since", None)
        values.pop("until", None)
    return Filters(**values), notices


# --- widgets ---------------------------------------------------------------------------------


def current() -> Filters:
    """The filters the entry point read this run (the defaults before it did)."""
    value = st.session_state.get(_CURRENT)
    return value if isinstance(value, Filters) else Filters()


def from_url_next_run() -> None:
    """Make the next run read the filters from the URL again, as the first run of a session
    does (before a switch to another page whose URL carries them: TV mode's cycle)."""
    st.session_state[_READY] = False


def _split(value: datetime, zone: str) -> tuple[date, time]:
    local = value.astimezone(ZoneInfo(zone))
    return local.date(), local.time().replace(microsecond=0, tzinfo=None)


def _join(day: date, clock: time, zone: str) -> datetime:
    return datetime.combine(day, clock, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _put(name: str, value: datetime, zone: str, *, force: bool = False) -> None:
    """Fill the date and time widgets `name` (since, until, as_of) unless they hold a value."""
    day, clock = _split(value, zone)
    for key, part in ((f"{_P}{name}_date", day), (f"{_P}{name}_time", clock)):
        if force or key not in st.session_state:
            st.session_state[key] = part


def _to_widgets(f: Filters, zone: str, at: datetime) -> None:
    ss = st.session_state
    ss[f"{_P}window"] = f.window
    ss[f"{_P}as_of_mode"] = NOW if f.as_of is None else CHOSEN
    _put("as_of", f.as_of or at, zone, force=True)
    window = f.resolve(at)
    _put("since", window.since, zone, force=True)
    _put("until", window.until, zone, force=True)
    for name in SCOPES:
        ss[f"{_P}{name}"] = getattr(f, name)


def _instant_widgets(name: str, label: str, zone: str, default: datetime) -> datetime:
    _put(name, default, zone)
    day_col, time_col = st.columns([3, 2])
    day = day_col.date_input(label, key=f"{_P}{name}_date", format="YYYY-MM-DD")
    clock = time_col.time_input("Time", key=f"{_P}{name}_time", step=timedelta(minutes=15))
    if not isinstance(day, date) or clock is None:
        return default
    return _join(day, clock, zone)


def sidebar(zone: str, options: Mapping[str, Sequence[str]]) -> Filters:
    """Draw the filters in the sidebar, keep the URL in step, and return them.

    `options` lists known values per scope (region, channel, node, source); any other
    value may be typed in.
    """
    ss = st.session_state
    at = now()
    if not ss.get(_READY):  # the first run of a session: the URL decides
        parsed, notices = from_query(st.query_params.to_dict(), zone, at)
        _to_widgets(parsed, zone, at)
        ss[_NOTICES] = notices
        ss[_READY] = True

    with st.sidebar:
        st.subheader("Filters")
        for notice in ss.pop(_NOTICES, []):
            st.warning(notice, icon="⚠️")
        window = st.radio(
            "Window",
            list(WINDOW_LABELS),
            format_func=WINDOW_LABELS.__getitem__,
            key=f"{_P}window",
            horizontal=True,
        )
        mode = st.radio("As of", [NOW, CHOSEN], key=f"{_P}as_of_mode", horizontal=True)
        as_of = _instant_widgets("as_of", "As-of instant", zone, at) if mode == CHOSEN else None
        end = as_of or at
        since = until = None
        if window == CUSTOM:
            since = _instant_widgets("since", "Since", zone, end - PRESETS[DEFAULT_WINDOW])
            until = _instant_widgets("until", "Until", zone, end)
        scopes: dict[str, str | None] = {}
        for name in SCOPES:
            known = list(options.get(name, ()))
            chosen = ss.get(f"{_P}{name}")
            if chosen and chosen not in known:
                known.append(chosen)
            scopes[name] = st.selectbox(
                name.capitalize(),
                known,
                index=None,
                key=f"{_P}{name}",
                placeholder="All",
                accept_new_options=True,
            )
        st.caption(f"Times in {zone}. The address bar keeps these filters: share it as a link.")

    f = Filters(
        window=str(window),
        as_of=as_of,
        region=scopes["region"],
        channel=scopes["channel"],
        node=scopes["node"],
        source=scopes["source"],
    )
    if window == CUSTOM and since is not None and until is not None:
        if since < until:
            f = replace(f, since=since, until=until)
        else:
            st.sidebar.warning("Since must be before until; showing the last 7 days.", icon="⚠️")
            f = replace(f, window=DEFAULT_WINDOW)
    if f.as_of is not None and f.as_of > at:
        st.sidebar.warning("The as-of instant is in the future; showing now.", icon="⚠️")
        f = replace(f, as_of=None)
    _write_query(f)
    ss[_CURRENT] = f
    return f


def _write_query(f: Filters) -> None:
    wanted = f.to_query()
    for key in KEYS:
        if key in wanted:
            if st.query_params.get(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]
