"""Who may do what: accounts, roles, login sessions, and the Streamlit sign-in.

`app.auth.roles`     the three roles and their permissions (`can`, `require`, `Forbidden`).
`app.auth.passwords` argon2 hashing; plain passwords are never stored nor logged.
`app.auth.accounts`  users: add, remove, set role, set password, list (CLI and demo).
`app.auth.sessions`  login with a failure lockout, sessions that expire, sign out.
`app.auth.oidc`      production single sign-on: identity-provider claims -> a role.
`app.auth.ui`        `current_actor()` and the sidebar's "signed in as" for the pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.auth.roles import ROLES, Actor, Forbidden, can, require

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["ROLES", "Actor", "Forbidden", "can", "ensure_demo_users", "require"]


def ensure_demo_users(engine: Engine) -> dict[str, str]:
    """One account per role for `ctower demo` with fresh passwords (app.auth.accounts)."""
    from app.auth.accounts import ensure_demo_users as ensure

    return ensure(engine)
