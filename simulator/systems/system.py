"""What every simulated system offers the publisher."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy.engine import Connection


class Emission(Protocol):
    """One canonical event the world emitted for a system (`simulator.world.Emitted`)."""

    @property
    def system(self) -> str: ...

    @property
    def event(self) -> dict[str, Any]: ...

    @property
    def publish_at(self) -> datetime: ...


class Published(NamedTuple):
    """A native record and the (simulated) time its system made it available."""

    at: datetime
    record: Any


class System(Protocol):
    name: str

    def encode(self, event: dict[str, Any], at: datetime) -> Any:
        """The native record for a canonical event, published at `at`."""
        ...

    def break_record(self, record: Any, rng: random.Random) -> Any:
        """A copy of a native record with one thing wrong (the `malformed` fault)."""
        ...

    def write(self, conn: Connection, items: list[Published]) -> None:
        """Make records available, in the order given (publish order)."""
        ...

    def tick(self, until: datetime) -> None:
        """The simulated clock reached `until` (close files whose window ended)."""
        ...
