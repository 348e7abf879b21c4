"""Integration calls between the systems, as the middleware logs them.

Each business step that crosses systems is one governed interface call with a lognormal
latency and a small error and timeout rate. A failed call is retried (attempt 2, 3) after
a back-off; a call that fails three times is a *failed delivery*, kept until the nightly
resubmission or a manual retry (`World.apply`). Once a day, one interface may suffer an
hour-long error burst: the business fault the integration dashboards must show.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from simulator.kernel import DAY, HOUR, Kernel

OnOk = Callable[[], None] | None

INTERFACES: dict[str, tuple[str, str, float]] = {
    # interface: (source system, target system, median latency ms)
    "marketplace.oms.order_in": ("marketplace", "oms", 250.0),
    "oms.wms.create_pick": ("oms", "wms", 180.0),
    "oms.store.create_pick": ("oms", "pos", 320.0),
    "wms.oms.ship_confirm": ("wms", "oms", 120.0),
    "oms.carrier.book": ("oms", "carrier", 450.0),
    "oms.marketplace.ship_notify": ("oms", "marketplace", 300.0),
    "wms.erp.movements": ("wms", "erp", 1500.0),
    "pos.erp.sales_upload": ("pos", "erp", 2500.0),
    "erp.oms.stock_feed": ("erp", "oms", 8000.0),
    "erp.supplier.po_send": ("erp", "supplier", 900.0),
}
BURST_INTERFACES = (
    "oms.wms.create_pick",
    "oms.carrier.book",
    "wms.oms.ship_confirm",
    "marketplace.oms.order_in",
)
ERROR_RATE = 0.008
TIMEOUT_RATE = 0.004
BURST_FAILURE_RATE = 0.45
BURST_DAY_SHARE = 0.4
TIMEOUT_MS = 30000.0
MAX_AUTOMATIC_ATTEMPTS = 3


@dataclass
class FailedDelivery:
    interface: str
    correlation_id: str
    attempt: int
    failed_at: int
    on_ok: OnOk


class Middleware:
    def __init__(self, kernel: Kernel) -> None:
        self.k = kernel
        self.failed: dict[tuple[str, str], FailedDelivery] = {}
        self.burst: tuple[str, int, int] | None = None  # interface, from, until
        self._sigma = 0.55
        self._mu = {name: math.log(median) for name, (_, _, median) in INTERFACES.items()}

    def call(self, interface: str, correlation_id: str, on_ok: OnOk = None, attempt: int = 1) -> bool:
        """Log one call now; retry it later if it fails. Returns whether this attempt succeeded."""
        rng = self.k.rng
        failure = ERROR_RATE + TIMEOUT_RATE
        burst = self.burst
        if burst is not None and burst[0] == interface and burst[1] <= self.k.now < burst[2]:
            failure = BURST_FAILURE_RATE
        roll = rng.random()
        if roll >= failure:
            self._log(interface, correlation_id, "ok", attempt)
            if on_ok is not None:
                on_ok()
            return True
        status = "timeout" if roll < failure * TIMEOUT_RATE / (ERROR_RATE + TIMEOUT_RATE) else "error"
        self._log(interface, correlation_id, status, attempt)
        if attempt < MAX_AUTOMATIC_ATTEMPTS:
            self.k.after(
                30 * attempt + rng.random() * 90 * attempt,
                self._retry,
                (interface, correlation_id, on_ok, attempt + 1),
            )
        else:
            self.failed[(interface, correlation_id)] = FailedDelivery(
                interface, correlation_id, attempt, self.k.now, on_ok
            )
        return False

    def _retry(self, arg: tuple[str, str, OnOk, int]) -> None:
        self.call(*arg)

    def resubmit(self, interface: str, correlation_id: str) -> None:
        """Deliver a failed call again by hand (or by the nightly job): it goes through."""
        failed = self.failed.pop((interface, correlation_id))
        self._log(interface, correlation_id, "ok", failed.attempt + 1)
        if failed.on_ok is not None:
            failed.on_ok()

    def nightly(self) -> None:
        """Resubmit deliveries that failed more than 12 hours ago; decide today's error burst."""
        cutoff = self.k.now - 12 * HOUR
        for key in [key for key, failed in self.failed.items() if failed.failed_at < cutoff]:
            self.resubmit(*key)
        rng = self.k.rng
        if rng.random() < BURST_DAY_SHARE:
            start = self.k.now - self.k.now % DAY + (8 + rng.randrange(12)) * HOUR
            self.burst = (BURST_INTERFACES[rng.randrange(len(BURST_INTERFACES))], start, start + HOUR)
        else:
            self.burst = None

    def _log(self, interface: str, correlation_id: str, status: str, attempt: int) -> None:
        source, target, _ = INTERFACES[interface]
        rng = self.k.rng
        if status == "timeout":
            latency, http, code = TIMEOUT_MS + rng.random() * 500, 504, "TIMEOUT"
        else:
            latency = rng.lognormvariate(self._mu[interface], self._sigma)
            if status == "ok":
                http, code = 200, None
            else:
                http = (500, 502, 503)[rng.randrange(3)]
                code = "UPSTREAM_ERROR" if http != 503 else "SERVICE_UNAVAILABLE"
                latency *= 2
        data = {
            "interface": interface,
            "source_system": source,
            "target_system": target,
            "status": status,
            "latency_ms": round(latency, 1),
            "http_status": http,
            "correlation_id": correlation_id,
            "attempt": attempt,
        }
        if code is not None:
            data["error_code"] = code
        self.k.emit("middleware", "middleware", "retail.integration.call", correlation_id, data)
