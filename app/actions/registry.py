"""Every action kind and the family that handles it."""

from __future__ import annotations

from app.actions import adjust, exceptions, holds, reroute, retry, sources, transfer
from app.actions.base import Family, Invalid

FAMILIES: tuple[Family, ...] = (
    reroute.FAMILY,
    transfer.FAMILY,
    holds.FAMILY,
    adjust.FAMILY,
    retry.ONE,
    retry.ALL,
    exceptions.FAMILY,
    sources.FAMILY,
)
BY_KIND: dict[str, Family] = {kind: family for family in FAMILIES for kind in family.kinds}
KINDS: tuple[str, ...] = tuple(BY_KIND)


def family(kind: str) -> Family:
    found = BY_KIND.get(kind)
    if found is None:
        raise Invalid(f"unknown action {kind!r}: one of {', '.join(KINDS)}")
    return found
