"""The three roles and what each may do.

    permission  viewer  manager  admin   what it covers
    view        yes     yes      yes     every page, read-only
    act         -       yes      yes     request actions, work the exception queue
    approve     -       yes      yes     approve someone else's request (never your own)
    admin       -       -        yes     users, pausing/resuming sources, policies

"Never your own request" is the four-eyes rule of the approvals (app/actions); `can` and
`require` answer for the role only. Without a login (actor None) nobody may do more than
view, and view only while CTOWER_ANONYMOUS_VIEW is on (the default). Pages get the actor
from `app.auth.ui.current_actor()`: None for an anonymous visitor.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES: tuple[str, ...] = ("viewer", "manager", "admin")
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "view": ("viewer", "manager", "admin"),
    "act": ("manager", "admin"),
    "approve": ("manager", "admin"),
    "admin": ("admin",),
}


class Forbidden(PermissionError):
    """The actor may not do this; the message (one line) says who may."""


@dataclass(frozen=True)
class Actor:
    username: str
    role: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}: one of {', '.join(ROLES)}")


def can(role: str | None, permission: str) -> bool:
    """Whether `role` has `permission` (an unknown role or permission has nothing)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}: one of {', '.join(PERMISSIONS)}")
    return role in PERMISSIONS[permission]


def who_may(permission: str) -> str:
    """'a manager or admin' for a permission: the words of the refusals."""
    roles = PERMISSIONS[permission]
    return "a " + " or ".join(roles) if len(roles) > 1 else f"an {roles[0]}"


def require(actor: Actor | None, permission: str) -> None:
    """Pass silently when `actor` has `permission`, else raise `Forbidden` saying who may."""
    if actor is None:
        if permission == "view":
            from app.settings import load_settings

            if load_settings().anonymous_view:
                return
        raise Forbidden(f"sign in first: {permission!r} needs {who_may(permission)} login")
    if not can(actor.role, permission):
        raise Forbidden(
            f"{actor.username} ({actor.role}) may not {permission!r}: it needs {who_may(permission)}"
        )
