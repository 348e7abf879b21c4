-- The simulator's own storage (not a ctower migration): the native records its systems
-- publish. Schema `sim`: the API feeds in publish order, commands and state.
-- Schema `erp`: the ERP's tables, each with a change sequence for incremental reads.
CREATE SCHEMA IF NOT EXISTS sim;
CREATE SCHEMA IF NOT EXISTS erp;

CREATE TABLE IF NOT EXISTS sim.oms_events (
    seq bigserial PRIMARY KEY,
    published_at timestamptz NOT NULL,
    body jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS sim.wms_transactions (
    seq bigserial PRIMARY KEY,
    published_at timestamptz NOT NULL,
    body jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS sim.mw_calls (
    seq bigserial PRIMARY KEY,
    published_at timestamptz NOT NULL,
    body jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS sim.commands (
    command_id text PRIMARY KEY,
    system text NOT NULL,
    kind text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    sim_time timestamptz,
    body jsonb NOT NULL,
    events integer NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sim.state (
    key text PRIMARY KEY,
    value jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE IF NOT EXISTS erp.change_seq;

CREATE TABLE IF NOT EXISTS erp.stock_levels (
    plant text NOT NULL,
    material text NOT NULL,
    unrestricted_qty bigint,
    reserved_qty bigint,
    counted_at timestamptz,
    doc_no text NOT NULL,
    attrs jsonb,
    change_seq bigint NOT NULL DEFAULT nextval('erp.change_seq'),
    PRIMARY KEY (plant, material)
);
CREATE TABLE IF NOT EXISTS erp.stock_movements (
    doc_no text PRIMARY KEY,
    plant text,
    material text,
    qty_change bigint,
    movement_type text,
    posted_at timestamptz,
    attrs jsonb,
    change_seq bigint NOT NULL DEFAULT nextval('erp.change_seq')
);
CREATE TABLE IF NOT EXISTS erp.purchase_orders (
    po_number text NOT NULL,
    material text NOT NULL,
    vendor text,
    order_qty bigint,
    delivery_date timestamptz,
    status_code text,
    changed_at timestamptz,
    doc_no text NOT NULL,
    attrs jsonb,
    change_seq bigint NOT NULL DEFAULT nextval('erp.change_seq'),
    PRIMARY KEY (po_number, material)
);
CREATE TABLE IF NOT EXISTS erp.inbound_deliveries (
    doc_no text PRIMARY KEY,
    delivery_no text,
    plant text,
    eta timestamptz,
    items jsonb,
    po_number text,
    transfer_no text,
    created_at timestamptz,
    attrs jsonb,
    change_seq bigint NOT NULL DEFAULT nextval('erp.change_seq')
);
CREATE TABLE IF NOT EXISTS erp.goods_receipts (
    doc_no text PRIMARY KEY,
    delivery_no text,
    plant text,
    items jsonb,
    posted_at timestamptz,
    attrs jsonb,
    change_seq bigint NOT NULL DEFAULT nextval('erp.change_seq')
);
CREATE TABLE IF NOT EXISTS erp.materials (
    material text PRIMARY KEY,
    std_cost numeric,
    description text,
    mat_group text,
    list_price numeric,
    changed_at timestamptz,
    doc_no text NOT NULL,
    attrs jsonb,
    change_seq bigint NOT NULL DEFAULT nextval('erp.change_seq')
);
CREATE TABLE IF NOT EXISTS erp.plants (
    plant text PRIMARY KEY,
    plant_type text,
    region text,
    name1 text,
    capacity_per_day bigint,
    changed_at timestamptz,
    doc_no text NOT NULL,
    attrs jsonb,
    change_seq bigint NOT NULL DEFAULT nextval('erp.change_seq')
);
CREATE TABLE IF NOT EXISTS erp.documents (
    doc_no text PRIMARY KEY,
    doc_type text,
    posted_at timestamptz,
    attrs jsonb,
    change_seq bigint NOT NULL DEFAULT nextval('erp.change_seq')
);

CREATE INDEX IF NOT EXISTS stock_levels_change_seq ON erp.stock_levels (change_seq);
CREATE INDEX IF NOT EXISTS stock_movements_change_seq ON erp.stock_movements (change_seq);
CREATE INDEX IF NOT EXISTS purchase_orders_change_seq ON erp.purchase_orders (change_seq);
CREATE INDEX IF NOT EXISTS inbound_deliveries_change_seq ON erp.inbound_deliveries (change_seq);
CREATE INDEX IF NOT EXISTS goods_receipts_change_seq ON erp.goods_receipts (change_seq);
CREATE INDEX IF NOT EXISTS materials_change_seq ON erp.materials (change_seq);
CREATE INDEX IF NOT EXISTS plants_change_seq ON erp.plants (change_seq);
CREATE INDEX IF NOT EXISTS documents_change_seq ON erp.documents (change_seq);
