"""Single sign-on for production: the identity provider's claims -> a Control Tower role.

Streamlit signs the user in with OpenID Connect (`st.login()`, configured by the `[auth]`
section of .streamlit/secrets.toml) and exposes the ID token's claims as `st.user`. Which
role a signed-in person gets is the setting CTOWER_OIDC_ROLES, a comma-separated list of
`role:pattern` rules:

    CTOWER_OIDC_ROLES="admin:ops-admins,manager:*@acme.example,manager:store-leads"

- a pattern containing `@` is matched against the `email` claim (shell wildcards `*` and
  `?`, case-insensitive), and only when the provider says the email is verified (an
  `email_verified` claim that is false never matches);
- any other pattern is matched against each group in the groups claim (CTOWER_OIDC_GROUPS_CLAIM,
  default `groups`; a list, or one string), the same way;
- every rule is tried and the highest matching role wins (admin > manager > viewer);
- no rule matches: CTOWER_OIDC_DEFAULT_ROLE (default `viewer`; `none` refuses the sign-in).

The username recorded in the audit log is the email (else `preferred_username`, else `sub`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.auth.roles import ROLES, Actor


@dataclass(frozen=True)
class Rule:
    role: str
    pattern: str

    @property
    def on_email(self) -> bool:
        return "@" in self.pattern

    def matches(self, email: str | None, groups: list[str]) -> bool:
        pattern = self.pattern.lower()
        if self.on_email:
            return email is not None and fnmatch.fnmatchcase(email.lower(), pattern)
        return any(fnmatch.fnmatchcase(g.lower(), pattern) for g in groups)


def parse_rules(text: str) -> list[Rule]:
    """The rules of CTOWER_OIDC_ROLES; ValueError naming the first bad entry."""
    rules = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        role, sep, pattern = entry.partition(":")
        role, pattern = role.strip(), pattern.strip()
        if not sep or not pattern:
            raise ValueError(f"{entry!r} is not role:pattern (e.g. admin:ops-admins)")
        if role not in ROLES:
            raise ValueError(f"{entry!r}: unknown role {role!r}, one of {', '.join(ROLES)}")
        rules.append(Rule(role, pattern))
    return rules


def _groups(claims: Mapping[str, Any], claim: str) -> list[str]:
    value = claims.get(claim)
    if value is None:
        return []
    if isinstance(value, str):
        return [g.strip() for g in value.replace(",", " ").split() if g.strip()]
    if isinstance(value, list | tuple):
        return [str(g) for g in value]
    return []


def username(claims: Mapping[str, Any]) -> str | None:
    """The name the audit log records for an SSO user: email, else preferred_username, else sub."""
    for key in ("email", "preferred_username", "sub"):
        value = claims.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def role_for(
    claims: Mapping[str, Any],
    rules: list[Rule],
    *,
    groups_claim: str = "groups",
    default_role: str = "viewer",
) -> str | None:
    """The highest role a rule gives these claims, else `default_role` (None for 'none')."""
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    if claims.get("email_verified") is False:
        email = None
    groups = _groups(claims, groups_claim)
    matched = {r.role for r in rules if r.matches(email, groups)}
    for role in reversed(ROLES):
        if role in matched:
            return role
    return None if default_role == "none" else default_role


def actor_for(claims: Mapping[str, Any]) -> Actor | None:
    """The actor of a signed-in SSO user under this process's settings; None: not allowed in."""
    from app.settings import load_settings

    settings = load_settings()
    name = username(claims)
    if name is None:
        return None
    role = role_for(
        claims,
        parse_rules(settings.oidc_roles),
        groups_claim=settings.oidc_groups_claim,
        default_role=settings.oidc_default_role,
    )
    return Actor(name, role) if role else None
