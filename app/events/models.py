"""Pydantic models for every canonical event type of contracts/EVENTS.md, v1.

Strict where the contract is: required fields must be present; quantities are JSON
integers (not "5", not 5.0, not true); `qty` is at least 1; money is a JSON number;
every timestamp is an RFC 3339 *string* with an offset; enumerated values must be in
their list. Tolerant where it is: unknown extra fields are allowed (and kept by ingest).

`EVENT_TYPES` maps each type name to its data model and is the only list of types.
`TIMESTAMP_FIELDS` names the timestamp fields inside `data` per type (stored in UTC).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    AllowInfNan,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    create_model,
)


def _rfc3339_string(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 timestamp string with an offset")
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339_string)]
Quantity = Annotated[int, Strict(), Field(ge=1)]
SignedInt = Annotated[int, Strict()]
Number = Annotated[float, Strict(), AllowInfNan(False)]  # NaN and 1e400 are not numbers
Key = Annotated[str, Strict(), Field(min_length=1)]
Text = Annotated[str, Strict()]

System = Literal["erp", "wms", "pos", "oms", "marketplace"]


class Data(BaseModel):
    """Base of every `data` model: extra fields are allowed and kept."""

    model_config = ConfigDict(extra="allow", frozen=True)


# --- master data -------------------------------------------------------------------------
class LocationUpserted(Data):
    location_id: Key
    kind: Literal["store", "dc", "3pl", "dark_store", "marketplace"]
    region: Key
    name: Text | None = None
    daily_capacity: Annotated[int, Strict(), Field(ge=0)] | None = None


class ProductUpserted(Data):
    sku: Key
    unit_cost: Number
    name: Text | None = None
    category: Text | None = None
    unit_price: Number | None = None


# --- orders ------------------------------------------------------------------------------
class OrderLine(Data):
    sku: Key
    qty: Quantity
    unit_price: Number | None = None


class OrderCreated(Data):
    order_id: Key
    channel: Literal["web", "store", "marketplace", "phone"]
    promised_by: Timestamp
    lines: list[OrderLine]
    ship_to_region: Text | None = None


class OrderRouted(Data):
    order_id: Key
    node_id: Key


class OrderRerouted(Data):
    order_id: Key
    from_node: Key
    to_node: Key
    reason: Literal["stockout", "capacity", "carrier", "cost", "failed_pick", "manual", "other"]


class OrderAtNode(Data):
    order_id: Key
    node_id: Key


class OrderShipped(OrderAtNode):
    shipment_id: Text | None = None
    carrier: Text | None = None


class OrderDelivered(Data):
    order_id: Key


class OrderCancelled(Data):
    order_id: Key
    reason: Text | None = None


class OrderException(Data):
    order_id: Key
    kind: Literal["backorder", "substitution", "failed_pick", "failed_delivery", "address_issue", "other"]
    node_id: Text | None = None
    detail: Text | None = None


# --- inventory ---------------------------------------------------------------------------
class InventorySnapshot(Data):
    system: System
    location_id: Key
    sku: Key
    on_hand: SignedInt
    reserved: SignedInt = 0


class InventoryAdjusted(Data):
    system: System
    location_id: Key
    sku: Key
    delta: SignedInt
    reason: Literal["cycle_count", "damage", "shrink", "receipt", "sale", "return", "transfer", "manual"]


# --- inbound, transfers, purchase orders -------------------------------------------------
class SkuQty(Data):
    sku: Key
    qty: Quantity


class PoUpdated(Data):
    po_id: Key
    supplier_id: Key
    sku: Key
    qty: Quantity
    expected_at: Timestamp
    status: Literal["open", "confirmed", "changed", "cancelled", "received"] | None = None


class TransferRequested(Data):
    transfer_id: Key
    from_location: Key
    to_location: Key
    sku: Key
    qty: Quantity
    reason: Text | None = None


class ShipmentAsn(Data):
    shipment_id: Key
    to_location: Key
    expected_at: Timestamp
    lines: list[SkuQty] | None = None
    po_id: Text | None = None
    transfer_id: Text | None = None


class ShipmentReceived(Data):
    shipment_id: Key
    location_id: Key
    lines: list[SkuQty] | None = None


# --- returns -----------------------------------------------------------------------------
class ReturnReceived(Data):
    return_id: Key
    sku: Key
    qty: Quantity
    location_id: Key
    order_id: Text | None = None
    reason_code: Text | None = None


class ReturnRestocked(Data):
    return_id: Key
    location_id: Key
    sku: Key
    qty: Quantity


class ReturnRefunded(Data):
    return_id: Key
    amount: Number | None = None


# --- integration telemetry ---------------------------------------------------------------
class IntegrationCall(Data):
    interface: Key
    source_system: Key
    target_system: Key
    status: Literal["ok", "error", "timeout"]
    latency_ms: Annotated[Number, Field(ge=0)]
    http_status: SignedInt | None = None
    error_code: Text | None = None
    correlation_id: Text | None = None
    attempt: Annotated[int, Strict(), Field(ge=1)] | None = None


EVENT_TYPES: dict[str, type[Data]] = {
    "retail.location.upserted": LocationUpserted,
    "retail.product.upserted": ProductUpserted,
    "retail.order.created": OrderCreated,
    "retail.order.routed": OrderRouted,
    "retail.order.rerouted": OrderRerouted,
    "retail.order.picked": OrderAtNode,
    "retail.order.packed": OrderAtNode,
    "retail.order.shipped": OrderShipped,
    "retail.order.delivered": OrderDelivered,
    "retail.order.cancelled": OrderCancelled,
    "retail.order.exception": OrderException,
    "retail.inventory.snapshot": InventorySnapshot,
    "retail.inventory.adjusted": InventoryAdjusted,
    "retail.po.updated": PoUpdated,
    "retail.transfer.requested": TransferRequested,
    "retail.shipment.asn": ShipmentAsn,
    "retail.shipment.received": ShipmentReceived,
    "retail.return.received": ReturnReceived,
    "retail.return.restocked": ReturnRestocked,
    "retail.return.refunded": ReturnRefunded,
    "retail.integration.call": IntegrationCall,
}

TIMESTAMP_FIELDS: dict[str, tuple[str, ...]] = {
    "retail.order.created": ("promised_by",),
    "retail.po.updated": ("expected_at",),
    "retail.shipment.asn": ("expected_at",),
}


class Envelope(BaseModel):
    """The CloudEvents 1.0 envelope; `data` is typed per event type by `envelope_model`."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"]
    id: Key
    source: Key
    type: Key
    time: Timestamp
    subject: Text | None = None
    datacontenttype: Text | None = None
    dataschema: Text | None = None


@cache
def envelope_model(event_type: str) -> type[Envelope]:
    """The envelope model whose `data` is the model of `event_type` (KeyError if unknown)."""
    data_model = EVENT_TYPES[event_type]
    return create_model(f"Event_{data_model.__name__}", __base__=Envelope, data=(data_model, ...))
