"""From an exception to its entity's timeline: the detectors name entities their own way
(sql/detectors), the Entity detail page wants kind and key (app/ui/links.py)."""

from __future__ import annotations

from app.ui.links import exception_entity


def test_a_position_exception_opens_the_position_whichever_way_its_detector_names_it():
    # inventory_variance: location|sku|system; negative and stale: system|location|sku
    assert exception_entity("position", "DC-EAST|SKU-00017|wms") == ("position", "SKU-00017@DC-EAST")
    assert exception_entity("position", "pos|STORE-0042|SKU-00017") == ("position", "SKU-00017@STORE-0042")


def test_a_delivery_exception_opens_its_interface_and_orders_open_as_themselves():
    assert exception_entity("delivery", "oms.wms.create_pick|ORD-1") == ("interface", "oms.wms.create_pick")
    assert exception_entity("order", "ORD-1") == ("order", "ORD-1")
    assert exception_entity("position", "not-a-position") is None
