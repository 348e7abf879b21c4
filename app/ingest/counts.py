"""The counts every ingest reports and records."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class IngestCounts:
    """`received = accepted + duplicate + quarantined`; `quarantined` includes `conflict`."""

    received: int = 0
    accepted: int = 0
    duplicate: int = 0
    conflict: int = 0
    quarantined: int = 0

    def add(self, other: IngestCounts) -> None:
        self.received += other.received
        self.accepted += other.accepted
        self.duplicate += other.duplicate
        self.conflict += other.conflict
        self.quarantined += other.quarantined

    @property
    def balanced(self) -> bool:
        return self.received == self.accepted + self.duplicate + self.quarantined

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def summary(self) -> str:
        return (
            f"received {self.received:,}, accepted {self.accepted:,}, duplicate {self.duplicate:,}, "
            f"quarantined {self.quarantined:,} (of which conflict {self.conflict:,})"
        )
