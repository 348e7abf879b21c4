"""Where each system takes commands, on the base URL CTOWER_COMMANDS_URL (the simulator's
paths: simulator/server.py COMMAND_PATHS). Systems without a command API of their own
(ERP, store POS, middleware) take them on the control endpoint."""

from __future__ import annotations

ENDPOINTS = {
    "oms": "/oms/api/v2/commands",
    "wms": "/wms/v1/commands",
    "erp": "/control/commands",
    "pos": "/control/commands",
    "middleware": "/control/commands",
}


def endpoint_of(system: str) -> str:
    try:
        return ENDPOINTS[system]
    except KeyError:
        raise ValueError(f"no command endpoint for system {system!r}") from None
