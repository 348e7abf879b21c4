"""Single sign-on: identity-provider claims to a role through CTOWER_OIDC_ROLES."""

from __future__ import annotations

import pytest

from app.auth.oidc import parse_rules, role_for, username
from app.settings import Settings, SettingsError, load_settings

RULES = parse_rules("admin:ops-admins, manager:*@acme.example, manager:store-leads-*")


def test_a_member_of_the_admin_group_is_an_admin() -> None:
    claims = {"email": "ana@acme.example", "groups": ["staff", "ops-admins"]}
    assert role_for(claims, RULES) == "admin"  # the highest of admin and manager


def test_anyone_with_a_verified_company_email_is_a_manager() -> None:
    assert role_for({"email": "Tom@ACME.example", "email_verified": True}, RULES) == "manager"


def test_an_unverified_email_matches_no_email_rule() -> None:
    assert role_for({"email": "tom@acme.example", "email_verified": False}, RULES) == "viewer"


def test_a_group_wildcard_and_a_space_separated_groups_claim_match() -> None:
    assert (
        role_for(
            {"email": "x@elsewhere.example", "roles": "staff store-leads-north"}, RULES, groups_claim="roles"
        )
        == "manager"
    )


def test_no_rule_matching_gives_the_default_role_or_refuses_with_none() -> None:
    claims = {"email": "guest@elsewhere.example", "groups": ["staff"]}
    assert role_for(claims, RULES) == "viewer"
    assert role_for(claims, RULES, default_role="none") is None


def test_the_audit_name_is_the_email_else_the_preferred_name_else_the_subject() -> None:
    assert username({"email": "ana@acme.example", "sub": "123"}) == "ana@acme.example"
    assert username({"preferred_username": "ana", "sub": "123"}) == "ana"
    assert username({"sub": "123"}) == "123"
    assert username({}) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("boss:ops", "'boss:ops': unknown role 'boss', one of viewer, manager, admin"),
        ("admin", "'admin' is not role:pattern (e.g. admin:ops-admins)"),
        ("admin:", "'admin:' is not role:pattern (e.g. admin:ops-admins)"),
    ],
)
def test_a_bad_rule_names_itself(text: str, message: str) -> None:
    with pytest.raises(ValueError) as bad:
        parse_rules(text)
    assert str(bad.value) == message


def test_a_bad_rule_in_the_environment_fails_loudly_with_the_variable_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CTOWER_OIDC_ROLES", "admin:ops,chief:*@acme.example")
    load_settings.cache_clear()
    try:
        with pytest.raises(SettingsError, match="^CTOWER_OIDC_ROLES: .*unknown role 'chief'"):
            load_settings()
    finally:
        load_settings.cache_clear()
    assert Settings(oidc_roles="").oidc_roles == ""
