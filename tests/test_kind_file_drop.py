"""The file_drop kind: CSV and JSON Lines files dropped in a folder, mapped declaratively.

Every run goes through the real runner (collectors.runner.run_once) into a fresh store;
only the clock is fake (a file's age is judged by it, so tests set modification times).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from collectors import file_drop
from collectors.base import Collector, Context, Page, SourceConfig, SourceError
from collectors.health import RunResult
from collectors.runner import Retry, read_cursor, run_once

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HEADER = "store,sku,on_hand,counted_at\n"

# a POS stock count a row: one retail.inventory.snapshot each
MAPPING: dict[str, Any] = {
    "source": "pos/{store|lower}",
    "timezone": "Europe/Berlin",
    "events": [
        {
            "type": "retail.inventory.snapshot",
            "id": "{store}-{sku}-{counted_at}",
            "time": {"field": "counted_at", "format": "%Y-%m-%d %H:%M"},
            "subject": "{sku}@{store}",
            "data": {
                "system": "pos",
                "location_id": "{store}",
                "sku": "{sku}",
                "on_hand": {"field": "on_hand", "type": "int"},
            },
        }
    ],
}


@dataclass
class FakeClock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def context(database_url: str, clock: FakeClock) -> Context:
    return Context(clock=clock, database_url=database_url)


@pytest.fixture
def drop_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "pos-drop"
    folder.mkdir()
    return folder


def pos_source(folder: Path, **options: Any) -> SourceConfig:
    return SourceConfig(
        name="pos-counts", kind="file_drop", options={"path": str(folder), **options}, mapping=MAPPING
    )


def count_rows(n: int, start: int = 0, store: str = "STORE-0042") -> str:
    return "".join(f"{store},SKU-{i:03d},{i},2026-11-20 09:{i % 60:02d}\n" for i in range(start, start + n))


def drop(folder: Path, name: str, text: str, *, age: float = 60.0, clock: FakeClock | None = None) -> Path:
    """Write a file last modified `age` seconds before the (fake) clock's now."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    set_age(path, age, clock or FakeClock())
    return path


def set_age(path: Path, age: float, clock: FakeClock) -> None:
    stamp = clock.now.timestamp() - age
    os.utime(path, (stamp, stamp))


def collect(engine: Engine, source: SourceConfig, context: Context, **kwargs: Any) -> RunResult:
    return run_once(engine, source, context, retry=Retry(attempts=1), sleep=lambda s: None, **kwargs)


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def stored(engine: Engine) -> int:
    return int(scalar(engine, "SELECT count(*) FROM events WHERE type = 'retail.inventory.snapshot'"))


def test_a_dropped_csv_file_is_stored_recorded_with_its_hash_and_archived(
    engine: Engine, context: Context, drop_folder: Path
) -> None:
    path = drop(drop_folder, "counts-0001.csv", HEADER + count_rows(3))
    size = path.stat().st_size

    result = collect(engine, pos_source(drop_folder), context)

    assert (result.status, result.read, result.accepted, result.quarantined) == ("ok", 3, 3, 0)
    with engine.connect() as conn:
        event = conn.execute(sa.text("SELECT source, id, time, data FROM events WHERE sku = 'SKU-002'")).one()
        collected = conn.execute(sa.text("SELECT * FROM collected_files")).one()
    assert event.source == "pos/store-0042"
    assert event.id == "STORE-0042-SKU-002-2026-11-20 09:02"
    assert event.time == datetime(2026, 11, 20, 8, 2, tzinfo=UTC)  # 09:02 in Berlin is 08:02 UTC
    assert event.data == {"system": "pos", "location_id": "STORE-0042", "sku": "SKU-002", "on_hand": 2}
    assert (collected.source, collected.name, collected.size, collected.rows) == (
        "pos-counts", "counts-0001.csv", size, 3,
    )  # fmt: skip
    assert len(collected.sha256) == 64
    assert collected.collected_at == START
    assert collected.run_id == result.run_id and collected.batch_id is not None
    assert not path.exists()
    assert (drop_folder / "processed" / "counts-0001.csv").read_text() == HEADER + count_rows(3)
    assert read_cursor(engine, "pos-counts") == {
        "file": "counts-0001.csv", "sha256": collected.sha256, "row": 3, "done": True,
    }  # fmt: skip


def test_json_lines_semicolon_and_latin1_files_are_read_as_configured(
    engine: Engine, context: Context, drop_folder: Path
) -> None:
    drop(
        drop_folder,
        "a.jsonl",
        '{"store": "S1", "sku": "K1", "on_hand": 5, "counted_at": "2026-11-20 10:00"}\n\n',
    )
    latin1 = drop_folder / "b.txt"
    latin1.write_bytes("store;sku;on_hand;counted_at\nS2;Käse;-2;2026-11-20 10:00\n".encode("latin-1"))
    set_age(latin1, 60, FakeClock())

    jsonl = collect(engine, pos_source(drop_folder, pattern="*.jsonl"), context)
    latin = collect(
        engine,
        replace(pos_source(drop_folder, pattern="*.txt", delimiter=";", encoding="latin-1", format="csv"),
                name="pos-latin"),
        context,
    )  # fmt: skip

    assert (jsonl.read, jsonl.accepted, latin.read, latin.accepted) == (1, 1, 1, 1)
    assert scalar(engine, "SELECT data->>'on_hand' FROM events WHERE sku = 'K1'") == "5"
    assert scalar(engine, "SELECT data->>'on_hand' FROM events WHERE sku = 'Käse'") == "-2"


def test_a_file_is_not_read_before_its_ready_marker_appears(
    engine: Engine, context: Context, drop_folder: Path
) -> None:
    path = drop(drop_folder, "counts.csv", HEADER + count_rows(2))
    source = pos_source(drop_folder, ready_marker=".ok")

    waiting = collect(engine, source, context)
    left_waiting = path.exists()
    (drop_folder / "counts.csv.ok").touch()
    ready = collect(engine, source, context)

    assert waiting.read == 0 and left_waiting
    assert ready.accepted == 2 and stored(engine) == 2
    assert not path.exists()
    assert sorted(p.name for p in (drop_folder / "processed").iterdir()) == ["counts.csv", "counts.csv.ok"]


def test_a_file_still_being_written_is_read_only_once_it_has_settled(
    engine: Engine, context: Context, clock: FakeClock, drop_folder: Path
) -> None:
    source = pos_source(drop_folder, settle_seconds=2)
    path = drop(drop_folder, "counts.csv", HEADER + count_rows(2), age=0, clock=clock)

    just_written = collect(engine, source, context)
    clock.advance(1.5)
    with path.open("a", encoding="utf-8") as handle:  # the writer goes on
        handle.write(count_rows(3, start=2))
    set_age(path, 0, clock)
    clock.advance(1.9)
    still_recent = collect(engine, source, context)
    clock.advance(0.2)  # 2.1 s since the last write
    settled = collect(engine, source, context)

    assert (just_written.read, still_recent.read) == (0, 0)
    assert (settled.read, settled.accepted) == (5, 5)
    assert stored(engine) == 5


def test_a_malformed_row_is_quarantined_with_its_line_number_and_the_rest_stored(
    engine: Engine, context: Context, drop_folder: Path
) -> None:
    drop(
        drop_folder,
        "counts.csv",
        HEADER
        + "STORE-0042,SKU-001,1,2026-11-20 09:01\n"
        + "STORE-0042,SKU-002,2026-11-20 09:02\n"  # line 3: a column short
        + "\n"
        + 'STORE-0042,"SKU-\n004",lots,2026-11-20 09:04\n'  # lines 5-6: not a number
        + "STORE-0042,SKU-007,7,2026-11-20 09:07\n",
    )
    drop(
        drop_folder,
        "more.jsonl",
        '{"store": "S1", "sku": "K1", "on_hand": 1, "counted_at": "2026-11-20 10:00"}\n{oops\n[1]\n',
    )

    csv_run = collect(engine, pos_source(drop_folder), context)
    jsonl_run = collect(engine, replace(pos_source(drop_folder, pattern="*.jsonl"), name="pos-j"), context)

    assert (csv_run.read, csv_run.accepted, csv_run.quarantined) == (4, 2, 2)
    assert (jsonl_run.read, jsonl_run.accepted, jsonl_run.quarantined) == (3, 1, 2)
    with engine.connect() as conn:
        quarantined = conn.execute(
            sa.text("SELECT source, reason, raw FROM quarantine ORDER BY quarantine_id")
        ).all()
    # the JSON parser's own words follow "not valid JSON": they are its to change
    assert [(q.source, q.reason.split(" (unexpected")[0], q.raw) for q in quarantined] == [
        ("pos-counts", "mapping: line 3: expected 4 columns, found 3", "STORE-0042,SKU-002,2026-11-20 09:02"),
        (
            "pos-counts",
            "mapping: retail.inventory.snapshot: field 'on_hand' = 'lots' is not an integer",
            '{"store":"STORE-0042","sku":"SKU-\\n004","on_hand":"lots","counted_at":"2026-11-20 09:04"}',
        ),
        ("pos-j", "mapping: line 2: not valid JSON", "{oops"),
        ("pos-j", "mapping: line 3: not a JSON object (a list)", "[1]"),
    ]


def test_a_file_dropped_again_unchanged_adds_nothing_and_a_changed_one_is_read_as_new(
    engine: Engine, context: Context, drop_folder: Path
) -> None:
    source = pos_source(drop_folder)
    drop(drop_folder, "counts.csv", HEADER + count_rows(3))
    first = collect(engine, source, context)

    again = drop(drop_folder, "counts.csv", HEADER + count_rows(3))
    second = collect(engine, source, context)
    drop(drop_folder, "counts.csv", HEADER + count_rows(4))  # the same name, one more row
    third = collect(engine, source, context)

    assert (first.accepted, second.read, second.accepted) == (3, 0, 0)
    assert not again.exists()  # skipped, and put away
    assert (third.read, third.accepted, third.duplicate) == (4, 1, 3)
    assert stored(engine) == 4
    assert scalar(engine, "SELECT count(*) FROM collected_files WHERE name = 'counts.csv'") == 2
    archived = sorted(p.name for p in (drop_folder / "processed").iterdir())
    assert archived[0] == "counts.csv" and archived[1].startswith("counts.csv.") and len(archived) == 2


class CrashOnSecondPage:
    """The file_drop collector whose second page's transaction fails (the process dies)."""

    def __init__(self, inner: Collector) -> None:
        self.inner = inner
        self.pages = 0
        self.fetch = inner.fetch
        self.to_events = inner.to_events

    def settle(self, conn: Connection, page: Page) -> None:
        self.pages += 1
        if self.pages == 2:
            raise RuntimeError("power cut")
        self.inner.settle(conn, page)  # type: ignore[attr-defined]

    def done(self, page: Page) -> None:
        self.inner.done(page)  # type: ignore[attr-defined]


def build(source: SourceConfig, context: Context) -> Collector:
    """`kind = "tests.test_kind_file_drop"`: file_drop, crashing on its second page."""
    return CrashOnSecondPage(file_drop.build(source, context))


def test_a_big_file_is_read_in_pages_and_a_crash_mid_file_resumes_at_the_next_row(
    engine: Engine, context: Context, drop_folder: Path
) -> None:
    path = drop(drop_folder, "big.csv", HEADER + count_rows(10))
    source = pos_source(drop_folder, max_rows_per_page=4)

    crashed = collect(engine, replace(source, kind="tests.test_kind_file_drop"), context, group_records=1)
    after_crash = (stored(engine), read_cursor(engine, "pos-counts"))
    one_page = collect(engine, source, context, max_pages=1, group_records=1)
    after_one_page = (stored(engine), read_cursor(engine, "pos-counts")["row"])
    rest = collect(engine, source, context)

    assert crashed.status == "failed" and "power cut" in (crashed.error or "")
    assert after_crash[0] == 4 and after_crash[1]["row"] == 4 and "done" not in after_crash[1]
    assert (one_page.read, one_page.accepted, after_one_page) == (4, 4, (8, 8))
    assert (rest.read, rest.accepted, rest.duplicate) == (2, 2, 0)
    assert stored(engine) == 10
    assert scalar(engine, "SELECT rows FROM collected_files") == 10
    assert not path.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"patern": "*.csv"}, "source pos-counts: option 'patern': not an option of file_drop"),
        ({"delimiter": ";;"}, "source pos-counts: option 'delimiter'"),
        ({"encoding": "klingon"}, "source pos-counts: option 'encoding': unknown encoding 'klingon'"),
        ({"pattern": "../*.csv"}, "source pos-counts: option 'pattern': must be a file name pattern"),
        ({"max_rows_per_page": 0}, "source pos-counts: option 'max_rows_per_page'"),
    ],
)
def test_a_bad_option_fails_with_one_line_naming_it(
    context: Context, drop_folder: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(SourceError) as caught:
        file_drop.build(pos_source(drop_folder, **options), context)

    assert str(caught.value).startswith(message)


def test_a_missing_drop_folder_fails_the_run_with_a_clear_error(
    engine: Engine, context: Context, tmp_path: Path
) -> None:
    result = collect(engine, pos_source(tmp_path / "nowhere"), context)

    assert result.status == "failed"
    assert result.error == f"source pos-counts: the drop folder {tmp_path / 'nowhere'} does not exist"


def test_a_file_with_only_its_header_is_recorded_as_collected_with_no_rows(
    engine: Engine, context: Context, drop_folder: Path
) -> None:
    drop(drop_folder, "quiet-day.csv", HEADER)

    result = collect(engine, pos_source(drop_folder), context)

    assert (result.status, result.read, result.accepted) == ("ok", 0, 0)
    assert scalar(engine, "SELECT rows FROM collected_files WHERE name = 'quiet-day.csv'") == 0
    assert (drop_folder / "processed" / "quiet-day.csv").is_file()


def test_with_archive_off_collected_files_stay_in_place_and_are_not_read_again(
    engine: Engine, context: Context, drop_folder: Path
) -> None:
    path = drop(drop_folder, "counts.csv", HEADER + count_rows(2))
    source = pos_source(drop_folder, archive=False)

    first = collect(engine, source, context)
    second = collect(engine, source, context)

    assert (first.accepted, second.read) == (2, 0)
    assert path.is_file() and not (drop_folder / "processed").exists()


def test_a_file_whose_header_names_a_column_twice_has_every_row_quarantined(
    engine: Engine, context: Context, drop_folder: Path
) -> None:
    drop(drop_folder, "counts.csv", "store,sku,sku,counted_at\n" + count_rows(2))

    result = collect(engine, pos_source(drop_folder), context)

    assert (result.read, result.accepted, result.quarantined) == (2, 0, 2)
    assert scalar(engine, "SELECT min(reason) FROM quarantine") == (
        "mapping: line 2: the header (line 1) is unusable: column 'sku' appears twice"
    )
