"""The simulator as a service: the world, its systems, the HTTP server and the loop.

    sim = Simulator(database_url, drop_dir, port=0, config=SimConfig(stores=20, skus=200))
    sim.start()                 # schemas, world, server; sim.base_url
    sim.backfill(days=14)       # as fast as possible up to the wall clock
    sim.run_live(stop_event)    # then at `config.speed` until the event is set,
    sim.start_live()            #   or the same in a background thread
    sim.stop()                  # the live thread and the server

`step(until)` moves the simulated clock by hand (tests, `ctower demo`). In live mode the
simulated clock never passes the wall clock unless `speed` > 1. The clock is injectable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import orjson
from sqlalchemy.engine import Connection

from app.db.engine import get_engine
from simulator.faults import Fault, FaultBoard
from simulator.server import SimServer
from simulator.storage import ensure_schema, sim_sql
from simulator.systems import erp, marketplace, middleware, oms, pos, wms
from simulator.systems.publisher import Publisher
from simulator.systems.system import Emission, System

Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    return datetime.now(UTC)


class WorldLike(Protocol):
    """`simulator.world.World`, as the service uses it."""

    @property
    def now(self) -> datetime: ...

    def advance(self, until: datetime) -> Iterable[Emission]: ...

    def apply(self, command: dict[str, Any]) -> list[Any]: ...


@dataclass(frozen=True)
class SimConfig:
    stores: int = 300
    dcs: int = 2
    skus: int = 2000
    seed: int = 7
    backfill_days: float = 0.0
    speed: float = 1.0  # simulated seconds per wall second in live mode
    faults: tuple[Fault, ...] = ()
    chunk: timedelta = timedelta(hours=1)  # simulated time per write transaction
    tick_seconds: float = 1.0  # wall seconds between live steps
    extra: dict[str, Any] = field(default_factory=dict)  # passed on to EstateConfig


def build_world(config: SimConfig, start: datetime) -> WorldLike:
    from simulator.estate import Estate, EstateConfig
    from simulator.world import World

    estate = Estate.build(
        EstateConfig(stores=config.stores, dcs=config.dcs, skus=config.skus, seed=config.seed, **config.extra)
    )
    world: WorldLike = World(estate, start, seed=config.seed)
    return world


class CommandRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Simulator:
    def __init__(
        self,
        database_url: str | None,
        drop_dir: Path | str,
        port: int = 0,
        config: SimConfig | None = None,
        *,
        clock: Clock = wall_clock,
        world: WorldLike | None = None,
        start_at: datetime | None = None,
        serve: bool = True,
    ) -> None:
        self.config = config or SimConfig()
        self.drop_dir = Path(drop_dir)
        self.port, self.clock, self.serve = port, clock, serve
        self.engine = get_engine(database_url)
        self.database_url = self.engine.url.render_as_string(hide_password=False)
        self.faults = FaultBoard(self.config.faults, seed=self.config.seed)
        systems: dict[str, System] = {
            "oms": oms.system(),
            "wms": wms.system(),
            "middleware": middleware.system(self.faults),
            "erp": erp.system(),
            "pos": pos.system(self.drop_dir, self.faults),
            "marketplace": marketplace.system(self.drop_dir, self.faults),
        }
        self.publisher = Publisher(systems, self.faults)
        self._world = world
        self._start_at = start_at
        self._lock = threading.RLock()
        self._server: SimServer | None = None
        self._live: tuple[threading.Event, threading.Thread] | None = None
        self._schema_ready = False

    # --- lifecycle ---------------------------------------------------------------------

    @property
    def world(self) -> WorldLike:
        if self._world is None:
            start = self._start_at
            if start is None:  # from the hour before the backfill days
                start = self.clock() - timedelta(days=self.config.backfill_days)
                start = start.replace(minute=0, second=0, microsecond=0)
            self._world = build_world(self.config, start)
        return self._world

    @property
    def now(self) -> datetime:
        return self.world.now

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator's server is not running; call start() first")
        return self._server.url

    def prepare(self) -> None:
        if not self._schema_ready:
            ensure_schema(self.engine)
            self._schema_ready = True
        self.drop_dir.mkdir(parents=True, exist_ok=True)

    def start(self) -> Simulator:
        self.prepare()
        self.world  # noqa: B018  (build it now: a bad configuration fails at start)
        if self.serve and self._server is None:
            self._server = SimServer(self, port=self.port)
            self._server.start()
        return self

    def start_live(self) -> None:
        """Run the live loop in a background thread (stopped by `stop()`), e.g. for `ctower demo`."""
        if self._live is None:
            stop = threading.Event()
            thread = threading.Thread(target=self.run_live, args=(stop,), name="sim-live", daemon=True)
            thread.start()
            self._live = (stop, thread)

    def stop(self) -> None:
        if self._live is not None:
            stop, thread = self._live
            stop.set()
            thread.join(timeout=30)
            self._live = None
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the clock ---------------------------------------------------------------------

    def step(self, until: datetime) -> int:
        """Move the simulated clock to `until` (whole seconds), publishing what falls due;
        the records published."""
        until = until.replace(microsecond=0)
        self.prepare()
        published = 0
        while True:
            with self._lock:  # a chunk at a time: commands get in between
                if self.world.now >= until:
                    return published
                at = min(self.world.now + self.config.chunk, until)
                self.publisher.push(self.world.advance(at))
                with self.engine.begin() as conn:
                    published += self.publisher.publish(conn, at)
                    self._save_state(conn)
                self.faults.expire(at)

    def backfill(self, days: float | None = None) -> int:
        """Run from the world's start (now - `days` when not yet built) to the wall clock, at full speed."""
        if days is not None and self._world is None and self._start_at is None:
            self._start_at = self.clock() - timedelta(days=days)
        return self.step(self.clock())

    def run_live(self, stop: threading.Event, on_step: Callable[[int], None] | None = None) -> None:
        """Follow the wall clock at `config.speed` until `stop` is set."""
        wall0, sim0 = self.clock(), self.world.now
        speed = self.config.speed
        while not stop.is_set():
            wall = self.clock()
            target = sim0 + (wall - wall0) * speed
            if speed <= 1:
                target = min(target, wall)
            if speed >= 1:
                target = max(target, wall)  # behind after a long backfill: catch up, then follow
            if target > self.world.now:
                n = self.step(target)
                if on_step:
                    on_step(n)
            stop.wait(self.config.tick_seconds)

    def _save_state(self, conn: Connection) -> None:
        value = {"now": self.world.now.isoformat(), "seed": self.config.seed, "pending": len(self.publisher)}
        conn.execute(sim_sql("state_put"), {"key": "clock", "value": orjson.dumps(value).decode()})

    # --- commands ----------------------------------------------------------------------

    def apply_command(self, system: str, body: Any) -> tuple[int, dict[str, Any]]:
        """Apply a command once: (HTTP status, answer). Its events go out through the feeds."""
        if not isinstance(body, dict):
            return 422, {"status": "rejected", "reason": "expected a JSON object with command_id and kind"}
        command_id, kind = body.get("command_id"), body.get("kind")
        if not isinstance(command_id, str) or not command_id.strip():
            return 422, {"status": "rejected", "reason": "command_id is missing or not text"}
        if not isinstance(kind, str) or not kind:
            return 422, {"status": "rejected", "reason": "kind is missing or not text"}
        self.prepare()
        with self._lock:
            try:
                with self.engine.begin() as conn:
                    params = {
                        "command_id": command_id,
                        "system": system,
                        "kind": kind,
                        "sim_time": self.world.now,
                        "body": orjson.dumps(body).decode(),
                    }
                    if conn.execute(sim_sql("command_record"), params).first() is None:
                        return 409, {
                            "status": "duplicate",
                            "reason": f"command {command_id} was already applied",
                        }
                    try:
                        emitted = self.world.apply(body)
                    except ValueError as exc:
                        raise CommandRejected(
                            str(exc).strip().splitlines()[0] if str(exc) else kind
                        ) from None
                    self.publisher.push(emitted)
                    self.publisher.publish(conn, self.world.now)
                    conn.execute(
                        sim_sql("command_events"), {"command_id": command_id, "events": len(emitted)}
                    )
            except CommandRejected as exc:
                return 422, {"status": "rejected", "reason": exc.reason}
        return 202, {"status": "accepted", "command_id": command_id, "events": len(emitted)}

    # --- status ------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            counts = dict(conn.execute(sim_sql("feed_counts")).mappings().one())
        return {
            "now": self.world.now.isoformat(),
            "pending": len(self.publisher),
            "published": dict(self.publisher.counts),
            "feeds": counts,
            "drop_dir": str(self.drop_dir),
            "faults": [f.as_dict() for f in self.faults.list()],
        }
