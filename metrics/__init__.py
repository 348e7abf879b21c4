"""Metric families of contracts/METRICS.md: pure functions of (connection, window, policies).

Each family module has `summary(conn, window, policies) -> dict` returning exactly its
keys of the `ctower metrics --json` object; the SQL lives in `sql/metrics/`. No Streamlit
here, no clock: `as_of` is a parameter. These read the events table directly (the
reference path, right for any `as_of`); projections for speed come with issue 4.
"""
