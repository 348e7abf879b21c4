-- erp.purchase_orders: one row per po_number and material, changed in place (a change moves it up change_seq).
INSERT INTO erp.purchase_orders (doc_no, po_number, material, vendor, order_qty, delivery_date, status_code, changed_at, attrs)
SELECT doc_no, po_number, material, vendor, order_qty, delivery_date, status_code, changed_at, attrs FROM erp_stage_purchase_orders
ON CONFLICT (po_number, material) DO UPDATE SET
    doc_no = EXCLUDED.doc_no,
    vendor = EXCLUDED.vendor,
    order_qty = EXCLUDED.order_qty,
    delivery_date = EXCLUDED.delivery_date,
    status_code = EXCLUDED.status_code,
    changed_at = EXCLUDED.changed_at,
    attrs = EXCLUDED.attrs,
    change_seq = nextval('erp.change_seq')
