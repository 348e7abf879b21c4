"""What a page shows when the database cannot be used, instead of a traceback."""

from __future__ import annotations

import sqlalchemy as sa

from app.db.engine import DatabaseUnavailable
from app.settings import SettingsError

# The failures that mean "the database is not there (or not configured right)".
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    DatabaseUnavailable,
    sa.exc.OperationalError,
    SettingsError,
)

WHAT_TO_DO = (
    "Check that `DATABASE_URL` points at a running PostgreSQL 14+ server, or unset it to "
    "use the embedded server (`ctower db start`); then reload this page."
)


def explain(exc: Exception) -> str:
    """One readable paragraph (Markdown) for a failure in `DATABASE_ERRORS`."""
    if isinstance(exc, SettingsError):
        return f"**The configuration is wrong:** {exc}. Fix the variable and restart the app."
    if isinstance(exc, DatabaseUnavailable):  # its message already says what to do
        return f"**The database is unreachable:** {exc}\n\nThen reload this page."
    text = str(exc.orig if isinstance(exc, sa.exc.OperationalError) and exc.orig else exc)
    reason = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"**The database is unreachable:** {reason}\n\n{WHAT_TO_DO}"
