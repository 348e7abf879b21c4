"""OCEL 2.0 events -> canonical events (contracts/EVENTS.md), for the `ocel` collector kind.

Two kinds of log are read:

1. A log `ctower export ocel` wrote (event types are canonical types, `retail.*`): each
   OCEL event is one canonical event again, with its source, id and subject from the
   attributes `ce_source`, `ce_id`, `ce_subject`, and its data from the other attributes
   (the ones named in `ce_json` hold JSON text: order lines).
2. Any other log, by its activities (`ACTIVITIES`, changeable per source with the option
   `activities`) and object types (`OBJECT_TYPES`, option `object_types`). The defaults
   fit the standard's "Order Management" log:

   | OCEL event type    | canonical event                          | one per                    |
   |--------------------|------------------------------------------|----------------------------|
   | place order        | retail.order.created                     | order                      |
   | confirm order      | retail.order.routed (node: option node)  | order                      |
   | pick item          | retail.order.picked                      | item (its order)           |
   | item out of stock  | retail.order.exception kind backorder    | item (its order)           |
   | create package     | retail.order.packed, shipment_id=package | order with items in it     |
   | send package       | retail.order.shipped, shipment_id        | order with items in it     |
   | package delivered  | retail.order.delivered, shipment_id      | order with items in it     |
   | failed delivery    | retail.order.exception failed_delivery   | order with items in it     |
   | pay order          | field `paid_at` of the order's created event          |       |
   | payment reminder   | field `payment_reminders` (times) of the created event |       |
   | reorder item       | field `reordered_at` of the item's out-of-stock exception |   |

   Objects: orders -> `order_id`; packages -> `shipment_id`; products -> `sku` (an item's
   product, by its "is a" relationship); items -> `item_id` (extra) and the order's lines
   (one line per product, qty = its items, unit_price = the item's price); customers ->
   `customer_id` (extra); employees -> extra fields named by the qualifier
   (`sales_person`, `picker`, `packer`, `shipper`, `forwarder`). The order's price
   attribute is kept as `order_value`.
   The log has no channel, node or promise: the options `channel` (web), `node`
   (OCEL-DC) and `promise_days` (14, promised_by = placed + 14 days) stand in.

A record that cannot map (an activity in neither table, an order event with no order,
an item in no order) is quarantined with the reason; an event of a "field" activity
gives no event of its own (its time is on the event named above), and is counted as
`attached`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from collectors.base import Unmappable
from collectors.ocel.log import OcelEvent, OcelLog, utc_text

CANONICAL_PREFIX = "retail."
# activity -> canonical type, or "attach:<field>" (kept as a field of another event)
ACTIVITIES: dict[str, str] = {
    "place order": "retail.order.created",
    "confirm order": "retail.order.routed",
    "pick item": "retail.order.picked",
    "item out of stock": "retail.order.exception:backorder",
    "create package": "retail.order.packed",
    "send package": "retail.order.shipped",
    "package delivered": "retail.order.delivered",
    "failed delivery": "retail.order.exception:failed_delivery",
    "pay order": "attach:paid_at",
    "payment reminder": "attach:payment_reminders",
    "reorder item": "attach:reordered_at",
}
# OCEL object type -> what it is to the control tower
OBJECT_TYPES: dict[str, str] = {
    "orders": "order",
    "items": "item",
    "packages": "package",
    "products": "product",
    "customers": "customer",
    "employees": "employee",
}
EMPLOYEE_FIELDS = {
    "sales person": "sales_person",
    "employee": "employee",
    "packer": "packer",
    "shipper": "shipper",
    "forwarder": "forwarder",
}


@dataclass(frozen=True)
class Options:
    source: str  # the canonical `source` of the events
    channel: str = "web"
    node: str = "OCEL-DC"
    promise_days: float = 14.0
    activities: dict[str, str] = field(default_factory=lambda: dict(ACTIVITIES))
    object_types: dict[str, str] = field(default_factory=lambda: dict(OBJECT_TYPES))


def prepare(log: OcelLog, options: Options) -> list[dict[str, Any]]:
    """One record per OCEL event, in (time, id) order, each holding what its mapping needs
    from the objects (orders of an item or package, products, prices); plain JSON."""
    roles = options.object_types
    role_of = {oid: roles.get(o.type, "") for oid, o in log.objects.items()}
    order_of_item: dict[str, str] = {}
    product_of_item: dict[str, str] = {}
    for oid, obj in log.objects.items():
        if role_of[oid] == "order":
            for target, _q in obj.relationships:
                if role_of.get(target) == "item":
                    order_of_item.setdefault(target, oid)
        elif role_of[oid] == "item":
            for target, _q in obj.relationships:
                if role_of.get(target) == "product":
                    product_of_item.setdefault(oid, target)
    # the "field" activities, gathered onto the events that keep them
    attached: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)  # (kind, key) -> fields
    for event in log.events:
        target = options.activities.get(event.type, "")
        if not target.startswith("attach:"):
            continue
        name = target.removeprefix("attach:")
        orders = [t for t, _q in event.relationships if role_of.get(t) == "order"]
        items = [t for t, _q in event.relationships if role_of.get(t) == "item"]
        key = ("order", orders[0]) if orders else ("item", items[0]) if items else None
        if key is None:
            continue  # its own record is quarantined: nothing to attach it to
        fields = attached[key]
        when = utc_text(event.time)
        if name.endswith("s"):  # a plural name collects every time
            fields.setdefault(name, []).append(when)
        else:
            fields.setdefault(name, when)

    records = []
    for event in sorted(log.events, key=lambda e: (e.time, e.id)):
        records.append(_record(event, log, options, role_of, order_of_item, product_of_item, attached))
    return records


def _record(
    event: OcelEvent,
    log: OcelLog,
    options: Options,
    role_of: dict[str, str],
    order_of_item: dict[str, str],
    product_of_item: dict[str, str],
    attached: dict[tuple[str, str], dict[str, Any]],
) -> dict[str, Any]:
    related: dict[str, list[str]] = defaultdict(list)
    people: dict[str, str] = {}
    for target, qualifier in event.relationships:
        role = role_of.get(target, "")
        if role == "employee":
            people[EMPLOYEE_FIELDS.get(qualifier, qualifier.replace(" ", "_") or "employee")] = target
        elif role and target not in related[role]:
            related[role].append(target)
    items = sorted(related.get("item", []))
    orders = sorted(set(related.get("order", [])) | {order_of_item[i] for i in items if i in order_of_item})
    record: dict[str, Any] = {
        "ocel_id": event.id,
        "ocel_type": event.type,
        "time": event.time,
        "attributes": event.attributes,
        "orders": orders,
        "items": [
            {
                "item": i,
                "order": order_of_item.get(i),
                "product": product_of_item.get(i),
                "price": _price(log, i),
            }
            for i in items
        ],
        "packages": sorted(related.get("package", [])),
        "customers": sorted(related.get("customer", [])),
        "people": people,
    }
    target = options.activities.get(event.type, "")
    if target == "retail.order.created" and orders:
        record["order_value"] = _price(log, orders[0])
        record["attached"] = attached.get(("order", orders[0]), {})
    elif target.startswith("retail.order.exception") and len(items) == 1:
        record["attached"] = attached.get(("item", items[0]), {})
    return record


def _price(log: OcelLog, object_id: str) -> float | None:
    """The object's first price, as a number (undeclared attributes may be text)."""
    obj = log.objects.get(object_id)
    value = obj.attribute("price") if obj is not None else None
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def to_events(record: dict[str, Any], options: Options) -> list[dict[str, Any]]:
    """The canonical events of one prepared record (see the module's table)."""
    kind = record["ocel_type"]
    if kind.startswith(CANONICAL_PREFIX):
        return [_passthrough(record, options)]
    target = options.activities.get(kind)
    if target is None:
        raise Unmappable(
            f"OCEL event type {kind!r} has no canonical counterpart "
            "(add it to the source's option 'activities')"
        )
    if target.startswith("attach:"):
        owner = "item" if target == "attach:reordered_at" else "order"
        has_owner = record["items"] if owner == "item" else record["orders"]
        if not has_owner:
            raise Unmappable(f"OCEL event {record['ocel_id']} ({kind}): no {owner} to keep it on")
        return []
    canonical, _, exception_kind = target.partition(":")
    orders = record["orders"]
    if not orders:
        raise Unmappable(f"OCEL event {record['ocel_id']} ({kind}): relates to no order")
    events = []
    for order in orders:
        data = _data(canonical, order, record, options)
        if exception_kind:
            data["kind"] = exception_kind
        event_id = record["ocel_id"] if len(orders) == 1 else f"{record['ocel_id']}:{order}"
        events.append(
            {
                "specversion": "1.0",
                "id": event_id,
                "source": options.source,
                "type": canonical,
                "time": record["time"],
                "subject": order,
                "data": data,
            }
        )
    return events


def _data(canonical: str, order: str, record: dict[str, Any], options: Options) -> dict[str, Any]:
    data: dict[str, Any] = {"order_id": order}
    items = [i for i in record["items"] if i["order"] == order]
    if canonical == "retail.order.created":
        placed = datetime.fromisoformat(record["time"])
        data["channel"] = options.channel
        data["promised_by"] = utc_text((placed + timedelta(days=options.promise_days)).isoformat())
        data["lines"] = _lines(items)
        if not data["lines"]:
            raise Unmappable(f"OCEL event {record['ocel_id']} (place order): the order has no items")
        if record["customers"]:
            data["customer_id"] = record["customers"][0]
        if record.get("order_value") is not None:
            data["order_value"] = record["order_value"]
    elif canonical != "retail.order.delivered":
        data["node_id"] = options.node
    if canonical == "retail.order.exception":
        data["detail"] = f"OCEL: {record['ocel_type']}"
    if len(items) == 1 and canonical in ("retail.order.picked", "retail.order.exception"):
        data["item_id"] = items[0]["item"]
        if items[0]["product"]:
            data["sku"] = items[0]["product"]
    elif items and canonical != "retail.order.created":
        data["items"] = len(items)
    if record["packages"]:
        data["shipment_id"] = record["packages"][0]
    data.update(record["people"])
    data.update(record.get("attached") or {})
    for name, value in record["attributes"].items():
        data.setdefault(f"ocel_{name}", value)
    return data


def _lines(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    qty: Counter[str] = Counter()
    price: dict[str, Any] = {}
    for item in items:
        product = item["product"] or item["item"]
        qty[product] += 1
        if item["price"] is not None:
            price.setdefault(product, item["price"])
    lines = []
    for sku in sorted(qty):
        line: dict[str, Any] = {"sku": sku, "qty": qty[sku]}
        if sku in price:
            line["unit_price"] = price[sku]
        lines.append(line)
    return lines


def _passthrough(record: dict[str, Any], options: Options) -> dict[str, Any]:
    attributes = dict(record["attributes"])
    source = attributes.pop("ce_source", None) or options.source
    event_id = attributes.pop("ce_id", None) or record["ocel_id"]
    subject = attributes.pop("ce_subject", None)
    json_fields = set((attributes.pop("ce_json", None) or "").split())
    data: dict[str, Any] = {}
    for name, value in attributes.items():
        if name in json_fields and isinstance(value, str):
            try:
                data[name] = orjson.loads(value)
            except orjson.JSONDecodeError:
                raise Unmappable(f"OCEL event {record['ocel_id']}: attribute {name!r} is not JSON") from None
        else:
            data[name] = value
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": record["ocel_type"],
        "time": record["time"],
        "data": data,
    }
    if subject:
        event["subject"] = subject
    return event
