"""The models of app/events/models.py say what contracts/EVENTS.md says."""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.events import models
from app.events.models import EVENT_TYPES, TIMESTAMP_FIELDS, Timestamp, envelope_model
from tests.builders import REQUIRED_DATA, event

EVENTS_MD = Path(__file__).resolve().parents[2] / "shared/contracts/EVENTS.md"


def _contract_rows() -> dict[str, str]:
    """`type -> data column` from the type tables of EVENTS.md."""
    if not EVENTS_MD.exists():
        pytest.skip(f"the contract is not next to the repository (looked for {EVENTS_MD})")
    rows = {}
    for text in EVENTS_MD.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\|\s*`(retail\.[a-z_.]+)`\s*\|(.*)\|\s*$", text)
        if match:
            rows[match[1]] = match[2].strip()
    return rows


def _fields(data_column: str) -> dict[str, bool]:
    """Top-level `data` fields of a row and whether each is required (marked `*`).

    Parenthesised remarks (value lists, shapes of list items, notes) and sentences after
    the field list are not fields.
    """
    text = re.sub(r"\([^()]*\)", "", data_column)
    text = re.split(r"\.\s", text)[0]
    return {name: star == "*" for name, star in re.findall(r"`(\w+)`(\*?)", text)}


def _value_lists(data_column: str) -> dict[str, set[str]]:
    """Fields followed by a list of allowed values, e.g. `kind`* (`store`/`dc`)."""
    found = {}
    for name, values in re.findall(r"`(\w+)`\*?\s*\(((?:`\w+`/?)+)\)", data_column):
        found[name] = set(re.findall(r"`(\w+)`", values))
    return found


def _literal_values(annotation: Any) -> set[str]:
    if typing.get_origin(annotation) is typing.Literal:
        return set(typing.get_args(annotation))
    values: set[str] = set()
    for arg in typing.get_args(annotation):
        values |= _literal_values(arg)
    return values


@pytest.fixture(scope="module")
def contract() -> dict[str, str]:
    return _contract_rows()


def test_every_type_of_the_contract_has_a_model_and_no_model_is_extra(contract):
    assert len(contract) == 21  # the types listed in EVENTS.md v1
    assert set(EVENT_TYPES) == set(contract)


def test_each_model_has_the_fields_of_its_contract_row_required_as_marked(contract):
    for type_, column in contract.items():
        fields = _fields(column)
        model = EVENT_TYPES[type_]
        assert set(model.model_fields) == set(fields), type_
        required = {name for name, info in model.model_fields.items() if info.is_required()}
        assert required == {name for name, star in fields.items() if star}, type_


def test_each_list_of_allowed_values_matches_the_contract(contract):
    checked = 0
    for type_, column in contract.items():
        for field, values in _value_lists(column).items():
            annotation = EVENT_TYPES[type_].model_fields[field].annotation
            assert _literal_values(annotation) == values, f"{type_}.{field}"
            checked += 1
    # kind (location, exception), reason (reroute, adjustment), channel, snapshot system,
    # status (purchase order, integration call)
    assert checked == 8


def test_timestamp_fields_lists_exactly_the_data_fields_typed_as_timestamps():
    found: dict[str, tuple[str, ...]] = {}
    for type_, model in EVENT_TYPES.items():
        hints = typing.get_type_hints(model, include_extras=True)
        names = tuple(
            name
            for name in model.model_fields
            if hints[name] == Timestamp or Timestamp in typing.get_args(hints[name])
        )
        if names:
            found[type_] = names
    assert {t: set(f) for t, f in found.items()} == {t: set(f) for t, f in TIMESTAMP_FIELDS.items()}
    # and the contract's own timestamp fields are among them
    assert found["retail.order.created"] == ("promised_by",)
    assert "expected_at" in found["retail.po.updated"] and "expected_at" in found["retail.shipment.asn"]


@pytest.mark.parametrize("type_", sorted(REQUIRED_DATA))
def test_an_event_with_only_its_required_fields_is_valid(type_, contract):
    required = {name for name, star in _fields(contract[type_]).items() if star}
    assert set(REQUIRED_DATA[type_]) == required  # the sample is what the contract asks for

    model = envelope_model(type_).model_validate(event(type_))
    assert model.data is not None


def _required_cases() -> list[tuple[str, str]]:
    return [(type_, name) for type_, data in sorted(REQUIRED_DATA.items()) for name in data]


@pytest.mark.parametrize("type_, field", _required_cases(), ids=lambda v: v)
def test_an_event_without_a_required_field_is_refused_naming_it(type_, field):
    broken = event(type_)
    del broken["data"][field]

    with pytest.raises(ValidationError) as refused:
        envelope_model(type_).model_validate(broken)
    assert any(error["loc"] == ("data", field) for error in refused.value.errors())


@pytest.mark.parametrize("value", ["5", 2.5, True, 0, -1, None], ids=repr)
def test_qty_must_be_a_whole_number_of_at_least_one(value):
    data = {**REQUIRED_DATA["retail.return.received"], "qty": value}

    with pytest.raises(ValidationError):
        models.ReturnReceived.model_validate(data)


@pytest.mark.parametrize("field", ["on_hand", "reserved"])
def test_stock_figures_are_integers_and_may_be_negative(field):
    data = {**REQUIRED_DATA["retail.inventory.snapshot"], field: -4}
    assert getattr(models.InventorySnapshot.model_validate(data), field) == -4

    with pytest.raises(ValidationError):
        models.InventorySnapshot.model_validate({**data, field: "4"})


def test_reserved_stock_defaults_to_zero():
    assert models.InventorySnapshot.model_validate(REQUIRED_DATA["retail.inventory.snapshot"]).reserved == 0


@pytest.mark.parametrize("value", ["2026-11-22T14:03:11", 1763816591, "2026-11-22"], ids=repr)
def test_a_timestamp_needs_an_offset_and_must_be_text(value):
    data = {**REQUIRED_DATA["retail.order.created"], "promised_by": value}

    with pytest.raises(ValidationError):
        models.OrderCreated.model_validate(data)


def test_unknown_fields_are_allowed_in_data_and_in_the_envelope():
    ev = event("retail.order.delivered", {"order_id": "ORD-1", "signed_by": "J. Doe"}, partnerref="x")

    model = envelope_model("retail.order.delivered").model_validate(ev)
    assert model.data.model_extra == {"signed_by": "J. Doe"}
    assert model.model_extra == {"partnerref": "x"}
