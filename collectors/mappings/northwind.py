"""Northwind (the Microsoft sample database, SQLite port) to canonical events.

Used by collectors/examples/northwind.toml. Northwind's dates carry no offset ("2016-07-04"):
they are read as UTC. Its products have a list price but no cost: the price stands in for
the cost. The warehouse is one fixed node, `NW-WAREHOUSE`; the carrier is the shipper's name.

- `orders(row)`: a row of Orders with its lines aggregated (column `Lines`, a JSON array of
  {ProductID, Quantity, UnitPrice, Discount}) and the shipper's name (`Carrier`) ->
  retail.order.created, and retail.order.shipped when `ShippedDate` is set;
- `products(row)`: a row of Products with `CategoryName` -> retail.product.upserted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import orjson

from collectors.base import Unmappable

SOURCE = "erp/northwind"
WAREHOUSE = "NW-WAREHOUSE"
TIMEZONE = UTC
CATALOGUE_TIME = "2016-07-01T00:00:00+00:00"  # before the first order: products have no dates


def timestamp(value: Any, field: str) -> str:
    """An RFC 3339 timestamp from a Northwind date or datetime (read in TIMEZONE)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise Unmappable(f"{field}: {value!r} is not a date") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise Unmappable(f"{field} is missing")
    if value.tzinfo is None:
        value = value.replace(tzinfo=TIMEZONE)
    return value.isoformat()


def sku(product_id: Any) -> str:
    return f"NW-{product_id}"


def order_id(row: dict[str, Any]) -> str:
    if row.get("OrderID") is None:
        raise Unmappable("OrderID is missing")
    return f"NW-{row['OrderID']}"


def _lines(raw: Any) -> list[dict[str, Any]]:
    try:
        lines = orjson.loads(raw) if isinstance(raw, str | bytes) else raw
    except orjson.JSONDecodeError:
        raise Unmappable("Lines is not a JSON array") from None
    if not isinstance(lines, list) or not lines:
        raise Unmappable("the order has no lines")
    return [
        {
            "sku": sku(line["ProductID"]),
            "qty": line["Quantity"],
            "unit_price": line["UnitPrice"],
            "discount": line.get("Discount", 0),
        }
        for line in sorted(lines, key=lambda line: line["ProductID"])  # one order: same content twice
    ]


def orders(row: dict[str, Any]) -> list[dict[str, Any]]:
    """An order row -> created, and shipped once it has a ShippedDate."""
    oid = order_id(row)
    created: dict[str, Any] = {
        "specversion": "1.0",
        "id": f"order-{row['OrderID']}-created",
        "source": SOURCE,
        "type": "retail.order.created",
        "time": timestamp(row.get("OrderDate"), "OrderDate"),
        "subject": oid,
        "data": {
            "order_id": oid,
            "channel": "phone",
            "promised_by": timestamp(row.get("RequiredDate"), "RequiredDate"),
            "lines": _lines(row.get("Lines")),
            "ship_to_region": row.get("ShipRegion"),
        },
    }
    events = [created]
    if row.get("ShippedDate"):
        events.append(
            {
                "specversion": "1.0",
                "id": f"order-{row['OrderID']}-shipped",
                "source": SOURCE,
                "type": "retail.order.shipped",
                "time": timestamp(row["ShippedDate"], "ShippedDate"),
                "subject": oid,
                "data": {
                    "order_id": oid,
                    "node_id": WAREHOUSE,
                    "shipment_id": f"{oid}-1",
                    "carrier": row.get("Carrier") or f"shipper-{row.get('ShipVia')}",
                },
            }
        )
    return events


def products(row: dict[str, Any]) -> list[dict[str, Any]]:
    """A product row -> retail.product.upserted (the list price stands in for the cost)."""
    if row.get("ProductID") is None:
        raise Unmappable("ProductID is missing")
    price = row.get("UnitPrice")
    if not isinstance(price, int | float) or isinstance(price, bool):
        raise Unmappable(f"UnitPrice {price!r} is not a number")
    return [
        {
            "specversion": "1.0",
            "id": f"product-{row['ProductID']}",
            "source": SOURCE,
            "type": "retail.product.upserted",
            "time": CATALOGUE_TIME,
            "subject": sku(row["ProductID"]),
            "data": {
                "sku": sku(row["ProductID"]),
                "unit_cost": float(price),
                "unit_price": float(price),
                "name": row.get("ProductName"),
                "category": row.get("CategoryName"),
            },
        }
    ]
