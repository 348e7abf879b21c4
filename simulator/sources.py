"""The demo's sources: how the control tower collects the simulated estate.

`demo_sources(base_url, drop_dir, database_url)` gives one source per feed of each system
(OMS, WMS and middleware over HTTP, every ERP table over SQL, POS and marketplace file
drops), each with its `collectors.mappings.sim_*` mapping. `sources_toml(...)` writes the
same as a sources file for `ctower collect --config`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from collectors.base import SourceConfig
from collectors.mappings.sim_erp import MAPPINGS
from collectors.mappings.sim_pos import DELIMITER
from simulator.systems.files import MARKER

ERP_SCHEDULES = {"stock_levels": 30.0, "stock_movements": 30.0, "purchase_orders": 60.0}
HTTP_PAGE_SIZE = 5000
ERP_BATCH_SIZE = 5000


def _cursor_api(system: str, url: str, every: float) -> SourceConfig:
    """A system's HTTP feed with cursor paging (OMS, middleware), mapped by sim_<system>."""
    return SourceConfig(
        name=system,
        kind="http_api",
        schedule_seconds=every,
        system=system,
        mapping=f"collectors.mappings.sim_{system}:to_events",
        options={
            "url": url,
            "style": "cursor",
            "page_size": HTTP_PAGE_SIZE,
            "items_field": "items",
            "next_field": "next_cursor",
            "cursor_param": "cursor",
            "limit_param": "limit",
        },
    )


def demo_sources(base_url: str, drop_dir: Path | str, database_url: str | None = None) -> list[SourceConfig]:
    """The six systems of the demo estate as sources (ERP: one source a table).

    `database_url` is where the ERP tables live; None (or the control tower's own
    database) is written as "${DATABASE_URL}".
    """
    base = base_url.rstrip("/")
    drop = Path(drop_dir)
    sql_url = database_url or "${DATABASE_URL}"
    sources = [
        _cursor_api("oms", f"{base}/oms/api/v2/order-events", 10.0),
        SourceConfig(
            name="wms",
            kind="http_api",
            schedule_seconds=10.0,
            system="wms",
            mapping="collectors.mappings.sim_wms:to_events",
            options={
                "url": f"{base}/wms/v1/transactions",
                "style": "page",
                "page_size": HTTP_PAGE_SIZE,
                "since_param": "since_id",
                "page_param": "page",
                "size_param": "per_page",
                "items_field": "data",
                "pages_field": "total_pages",
                "id_field": "id",
            },
        ),
        _cursor_api("middleware", f"{base}/middleware/calls", 15.0),
    ]
    for table, function in MAPPINGS.items():
        sources.append(
            SourceConfig(
                name=f"erp-{table.replace('_', '-')}",
                kind="sql_table",
                schedule_seconds=ERP_SCHEDULES.get(table, 60.0),
                system="erp",
                mapping=f"collectors.mappings.sim_erp:{function}",
                options={
                    "url": sql_url,
                    "table": f"erp.{table}",
                    "cursor_column": "change_seq",
                    "key_column": "change_seq",
                    "batch_size": ERP_BATCH_SIZE,
                },
            )
        )
    sources += [
        SourceConfig(
            name="pos",
            kind="file_drop",
            schedule_seconds=60.0,
            system="pos",
            mapping="collectors.mappings.sim_pos:to_events",
            options={
                "path": str(drop / "pos"),
                "pattern": "store-*.csv",
                "format": "csv",
                "delimiter": DELIMITER,
                "ready_marker": MARKER,
                "archive": "processed",
            },
        ),
        SourceConfig(
            name="marketplace",
            kind="file_drop",
            schedule_seconds=30.0,
            system="marketplace",
            mapping="collectors.mappings.sim_marketplace:to_events",
            options={
                "path": str(drop / "marketplace"),
                "pattern": "*.jsonl",
                "format": "jsonl",
                "ready_marker": MARKER,
                "archive": "processed",
            },
        ),
    ]
    return sources


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def sources_toml(sources: list[SourceConfig]) -> str:
    """A sources file (collectors/config.py) for these sources."""
    blocks = []
    for s in sources:
        lines = [
            "[[source]]",
            f"name = {_toml_value(s.name)}",
            f"kind = {_toml_value(s.kind)}",
            f"schedule = {_toml_value(f'{s.schedule_seconds:g}s')}",
            f"enabled = {_toml_value(s.enabled)}",
            f"system = {_toml_value(s.system or s.name)}",
            f"mapping = {_toml_value(s.mapping)}",
            "[source.options]",
            *(f"{k} = {_toml_value(v)}" for k, v in s.options.items()),
        ]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def write_sources_toml(path: Path | str, base_url: str, drop_dir: Path | str) -> Path:
    """Write the demo sources to `path` (the ERP read from "${DATABASE_URL}")."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(sources_toml(demo_sources(base_url, drop_dir)), encoding="utf-8")
    return target
