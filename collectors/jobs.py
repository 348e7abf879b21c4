"""The one list of scheduled jobs, their functions, and the scheduler that runs them.

Jobs (see `scheduled_jobs`), each an importable function with max_instances=1,
coalesce=True and a misfire grace time:

- `collect:<source>`: `collectors.jobs:collect_source`, one per enabled, unpaused source,
  every `schedule_seconds`, first at start; after a run that stored events the exception
  detectors run;
- `detect-exceptions`: `collectors.jobs:detect_job`, every `scheduler_detect_seconds`;
- `outbox-dispatch`: `collectors.jobs:dispatch_outbox`, every `outbox_dispatch_seconds`: sends
  the manual actions' commands and confirms them (app/outbox);
- `past-figures`: `collectors.jobs:warm_past_figures`, every `past_figures_seconds`:
  computes the live Overview's previous windows (the default 7 days, whole estate) of this
  quarter hour and the next, and keeps them (metrics.past), so no viewer waits for the
  trends; forgets figures not computed for a day.

Only the thread running `run_scheduler` changes the scheduler: every
`scheduler_sync_seconds` it re-reads the sources table and adds, removes and reschedules the
collect jobs (`sync_sources`), and it brings the detectors forward when a collection asks
(`Runtime.detect_wanted`). A job never calls the scheduler itself: APScheduler's
`shutdown(wait=True)` holds the job store lock while it waits for the running jobs, so a job
reaching for that lock at a stop would wait for ever (it did: a stop during a collection
that stored events hung).

A stop does not wait for a recomputation: the detectors and the past figures read through
an `Interruptible` engine whose statements in flight are cancelled at the stop (their
transaction rolls back; they run again at the next start). Collections end at their next
page (collectors/runner.py), the outbox dispatcher finishes its row.

Several schedulers may run against one database: each run holds its source's advisory
lock (collectors/runner.py), so a source is never collected twice at once; the detectors
take a lock of their own the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

from app.settings import Settings, load_settings
from collectors.base import Context, SourceConfig
from collectors.config import load_sources
from collectors.health import RunResult
from collectors.runner import run_once, source_lock

log = logging.getLogger("ctower.scheduler")

COLLECT_PREFIX = "collect:"
DETECT_JOB = "detect-exceptions"
OUTBOX_JOB = "outbox-dispatch"
PAST_JOB = "past-figures"
HOUSEKEEPING = "housekeeping"  # the executor of the jobs that are not collections
DETECTORS_LOCK = "*detectors"  # not a possible source name, so never a source's lock
JOB_OPTIONS: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 30}


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: its id, importable function, interval and arguments."""

    id: str
    func: str
    seconds: float
    args: tuple[Any, ...] = ()
    run_at_start: bool = False
    executor: str = "default"  # collections; HOUSEKEEPING: the rest, never queued behind them


class Interruptible:
    """An engine of its own for work that is safe to abandon (it only recomputes what the
    next run computes again): `cancel()` cancels every statement in flight on it, from any
    thread (psycopg's Connection.cancel_safe)."""

    def __init__(self, engine: Engine, size: int = 4) -> None:  # the detectors hold up to 3
        self.engine = create_engine(engine.url, pool_pre_ping=True, pool_size=size, max_overflow=size)
        self._out: set[Any] = set()  # the DBAPI connections checked out now
        self._lock = threading.Lock()
        event.listen(self.engine, "checkout", self._checked_out)
        event.listen(self.engine, "checkin", self._checked_in)

    def _checked_out(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        with self._lock:
            self._out.add(dbapi_connection)

    def _checked_in(self, dbapi_connection: Any, _record: Any) -> None:
        with self._lock:
            self._out.discard(dbapi_connection)

    def cancel(self) -> int:
        """Cancel the statements running on this engine's connections; how many connections
        were in use."""
        with self._lock:
            busy = list(self._out)
        for connection in busy:
            try:
                connection.cancel_safe(timeout=5)
            except Exception:  # closed meanwhile, or the server is gone: nothing to cancel
                log.debug("could not cancel a statement", exc_info=True)
        return len(busy)

    def dispose(self) -> None:
        self.engine.dispose()


@dataclass
class Runtime:
    """What the jobs of one scheduler share (passed to each job; the job store is in memory)."""

    engine: Engine
    context: Context
    names: tuple[str, ...] | None = None  # only these sources (ctower collect NAME...)
    scheduler: BaseScheduler | None = None
    settings: Settings = field(default_factory=load_settings)
    last_detect: float = float("-inf")  # time.monotonic() of this process's latest detector run
    detect_wanted: threading.Event = field(default_factory=threading.Event)  # run the detectors now
    stopping: threading.Event = field(default_factory=threading.Event)  # runs end at their next page
    interruptible: Interruptible | None = None  # the recomputations' engine (run_scheduler's)

    @property
    def recompute_engine(self) -> Engine:
        """The engine of the detectors and the past figures: cancelled at a stop."""
        return self.interruptible.engine if self.interruptible is not None else self.engine


def scheduled_jobs(sources: Sequence[SourceConfig], settings: Settings) -> list[JobSpec]:
    """THE list of jobs for these sources."""
    jobs = [
        JobSpec(
            f"{COLLECT_PREFIX}{s.name}",
            "collectors.jobs:collect_source",
            s.schedule_seconds,
            (s.name,),
            run_at_start=True,
        )
        for s in sources
    ]
    jobs.append(
        JobSpec(
            DETECT_JOB, "collectors.jobs:detect_job", settings.scheduler_detect_seconds, executor=HOUSEKEEPING
        )
    )
    jobs.append(
        JobSpec(
            OUTBOX_JOB,
            "collectors.jobs:dispatch_outbox",
            settings.outbox_dispatch_seconds,
            executor=HOUSEKEEPING,
        )
    )
    jobs.append(
        JobSpec(
            PAST_JOB,
            "collectors.jobs:warm_past_figures",
            settings.past_figures_seconds,
            executor=HOUSEKEEPING,
        )
    )
    return jobs


def default_context(engine: Engine, settings: Settings | None = None) -> Context:
    """The context of a real run: the wall clock, the stdlib HTTP client, this database."""
    settings = settings or load_settings()
    return Context(
        clock=lambda: datetime.now(UTC),
        database_url=engine.url.render_as_string(hide_password=False),
        data_dir=settings.data_dir,
    )


# --- job functions ----------------------------------------------------------------------
def detect_exceptions(engine: Engine, as_of: datetime) -> dict[str, int] | None:
    """Run the exception detectors as of `as_of` over the 7 days before it, with the stored
    policies; None when another process is running them or the queue is ahead of `as_of`."""
    from metrics import policies as stored_policies
    from metrics.exception_queue import QueueReplayError, run_detectors
    from metrics.params import Window

    with source_lock(engine, DETECTORS_LOCK) as taken:
        if not taken:
            return None
        with engine.connect() as conn:
            policies = stored_policies.load(conn)
        try:
            return run_detectors(engine, Window.of(as_of=as_of), policies)
        except QueueReplayError as exc:
            log.info("exception detectors not run: %s", exc)
            return None


def _failed(runtime: Runtime, job: str) -> None:
    """Log a job that raised; one cut short by a stop (its statement cancelled) did not fail."""
    if runtime.stopping.is_set():
        log.info("%s: stopped with the scheduler; run again at its next start", job)
    else:
        log.exception("%s failed", job)


def detect_job(runtime: Runtime) -> dict[str, int] | None:
    runtime.last_detect = time.monotonic()
    try:
        return detect_exceptions(runtime.recompute_engine, runtime.context.clock())
    except Exception:
        _failed(runtime, "the exception detectors")
        return None


def collect_source(name: str, runtime: Runtime) -> RunResult | None:
    """Collect one registered source once (its configuration read afresh), then detect."""
    found = load_sources(runtime.engine, [name])
    if not found:
        log.warning("source %s is no longer registered; not collected", name)
        return None
    result = run_once(runtime.engine, found[0], runtime.context, stop=runtime.stopping)
    # new events: detect now, unless the detectors ran within their own interval (a
    # backlog collected every 10 s would otherwise keep them running back to back)
    since_detect = time.monotonic() - runtime.last_detect
    if result.accepted and since_detect >= runtime.settings.scheduler_detect_seconds:
        _detect_soon(runtime)
    return result


def _detect_soon(runtime: Runtime) -> None:
    """Run the detectors now: in a scheduler, as their own job, brought forward by the
    scheduler's loop (this source's next collection must not wait for them, and a job does
    not touch the scheduler); without one (a single collection), here."""
    if runtime.scheduler is None:
        detect_job(runtime)
    else:
        runtime.last_detect = time.monotonic()  # asked for: not asked again meanwhile
        runtime.detect_wanted.set()


def dispatch_outbox(runtime: Runtime) -> dict[str, int] | None:
    """Send the outbox's due commands and confirm what came back (app/outbox/dispatcher.py)."""
    from app.outbox.dispatcher import dispatch_once

    try:
        return dispatch_once(runtime.engine, settings=runtime.settings)
    except Exception:
        _failed(runtime, "the outbox dispatcher")
        return None


def warm_past_figures(runtime: Runtime) -> int | None:
    """Compute and keep the live Overview's next previous windows (metrics.past.warm), and
    forget the figures nobody needed for a day; the number of windows made ready."""
    from metrics import past
    from metrics.params import DEFAULT_WINDOW

    now = runtime.context.clock()
    try:
        ready = past.warm(runtime.recompute_engine, now, (DEFAULT_WINDOW,))
        past.prune(runtime.recompute_engine, now)
    except Exception:
        _failed(runtime, "the past figures")
        return None
    return ready


def sync_sources(runtime: Runtime) -> None:
    """Make the scheduler's jobs those of the sources table: add, remove, reschedule.
    Called by the thread that runs the scheduler, never from a job (see the module's note)."""
    scheduler = runtime.scheduler
    assert scheduler is not None, "sync_sources needs the runtime's scheduler"
    sources = load_sources(runtime.engine, runtime.names, runnable_only=True)
    wanted = {spec.id: spec for spec in scheduled_jobs(sources, runtime.settings)}
    current = {job.id: job for job in scheduler.get_jobs()}
    for job_id, job in current.items():
        if job_id not in wanted:
            job.remove()
            log.info("%s: unscheduled", job_id)
    for job_id, spec in wanted.items():
        job = current.get(job_id)
        if job is None:
            scheduler.add_job(
                spec.func,
                IntervalTrigger(seconds=spec.seconds),
                args=spec.args,
                kwargs={"runtime": runtime},
                id=spec.id,
                name=spec.id,
                executor=spec.executor,
                **({"next_run_time": datetime.now(UTC)} if spec.run_at_start else {}),
                **JOB_OPTIONS,
            )
            log.info("%s: scheduled every %g s", job_id, spec.seconds)
        elif job.trigger.interval.total_seconds() != spec.seconds:
            job.reschedule(IntervalTrigger(seconds=spec.seconds))  # next run: one interval on
            log.info("%s: rescheduled every %g s", job_id, spec.seconds)


def bring_detectors_forward(runtime: Runtime) -> bool:
    """If a collection asked for the detectors, make their job due now; whether it was asked.
    Called by the thread that runs the scheduler, never from a job (see the module's note)."""
    if not runtime.detect_wanted.is_set():
        return False
    runtime.detect_wanted.clear()
    assert runtime.scheduler is not None, "the detectors are brought forward in a scheduler"
    runtime.scheduler.modify_job(DETECT_JOB, next_run_time=datetime.now(UTC))
    return True


def build_scheduler(runtime: Runtime) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        executors={  # a backlog of collections never holds up an approved action or the detectors
            "default": ThreadPoolExecutor(runtime.settings.scheduler_workers),
            HOUSEKEEPING: ThreadPoolExecutor(3),  # one each: detectors, outbox, past figures
        },
        job_defaults=JOB_OPTIONS,
        timezone=UTC,
    )
    runtime.scheduler = scheduler
    return scheduler


def run_scheduler(
    engine: Engine,
    context: Context,
    stop_event: threading.Event,
    *,
    names: Sequence[str] | None = None,
    settings: Settings | None = None,
) -> None:
    """Run the jobs until `stop_event` is set (or Ctrl-C), then stop, letting running runs end.

    Call it in a thread or a process of its own; `names` limits it to those sources. This
    thread alone changes the scheduler: it follows the sources table and brings the
    detectors forward when a collection asks.
    """
    runtime = Runtime(engine, context, tuple(names) if names is not None else None)
    if settings is not None:
        runtime.settings = settings
    runtime.interruptible = Interruptible(engine)
    scheduler = build_scheduler(runtime)
    scheduler.start()
    try:
        sync_sources(runtime)  # a database that cannot be read at start stops the start
        next_sync = time.monotonic() + runtime.settings.scheduler_sync_seconds
        while not stop_event.wait(0.5):
            bring_detectors_forward(runtime)
            if time.monotonic() >= next_sync:
                next_sync = time.monotonic() + runtime.settings.scheduler_sync_seconds
                try:
                    sync_sources(runtime)
                except Exception:
                    log.exception("the sources table could not be read; the jobs stay as they were")
    finally:
        runtime.stopping.set()
        log.info("stopping: running collections end at their next page or retry")
        # the detectors and the past figures are not waited for: their statements are
        # cancelled until the shutdown (which waits for the running jobs) is over
        stopper = threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, name="ctower-stop")
        stopper.start()
        while stopper.is_alive():
            runtime.interruptible.cancel()
            stopper.join(0.5)
        runtime.interruptible.dispose()
        log.info("scheduler stopped")
