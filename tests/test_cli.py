"""The `ctower` command line, run for real in a subprocess against this test's database."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from tests.builders import event, jsonl

UNREACHABLE = "postgresql://nobody@127.0.0.1:1/none"
COUNT_KEYS = {"received", "accepted", "duplicate", "conflict", "quarantined"}


def error_line(result) -> str:  # type: ignore[no-untyped-def]
    """The one line a failed command writes to stderr ("ctower: error: ...").

    argparse names a subcommand in its usage errors ("ctower ingest: error: ..."); that
    difference has a test of its own below, so the other tests accept both.
    """
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert re.match(r"ctower( [a-z]+)?: error: ", lines[0]), lines[0]
    return lines[0]


def count(query, table: str) -> int:  # type: ignore[no-untyped-def]
    return query(f"SELECT count(*) AS n FROM {table}")[0].n  # noqa: S608  (a table name of ours)


@pytest.fixture
def two_events(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "monday.jsonl"
    path.write_bytes(jsonl(event(), event(id="oms-2")))
    return path


# --- ingest: the happy paths ----------------------------------------------------------------
def test_ingest_prints_a_summary_per_file_and_a_total(ctower, query, tmp_path, two_events):
    tuesday = tmp_path / "tuesday.jsonl"
    tuesday.write_bytes(jsonl(event(), "not json"))

    result = ctower("ingest", str(two_events), str(tuesday))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{two_events}: received 2, accepted 2")
    assert lines[1].startswith(f"{tuesday}: received 2, accepted 0, duplicate 1")
    assert lines[2].startswith("total: received 4, accepted 2, duplicate 1, quarantined 1")
    assert count(query, "events") == 2


def test_ingest_json_prints_exactly_the_counts_object(ctower, two_events):
    result = ctower("ingest", str(two_events), "--json")

    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1
    counts = json.loads(result.stdout)
    assert counts == {"received": 2, "accepted": 2, "duplicate": 0, "conflict": 0, "quarantined": 0}
    assert set(counts) == COUNT_KEYS


def test_ingest_exits_zero_when_some_records_are_quarantined(ctower, query, tmp_path):
    path = tmp_path / "mixed.jsonl"
    conflicting = event(
        data={"order_id": "ORD-000123", "from_node": "STORE-0042", "to_node": "DC-EAST", "reason": "cost"}
    )
    path.write_bytes(jsonl(event(), "not json", conflicting, event(id="oms-2", time="2026-11-20T14:03:11")))

    result = ctower("ingest", str(path), "--json")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "received": 4,
        "accepted": 1,
        "duplicate": 0,
        "conflict": 1,
        "quarantined": 3,
    }
    assert count(query, "quarantine") == 3


def test_ingest_reads_standard_input_given_a_dash(ctower, query):
    result = ctower("ingest", "-", "--json", input=jsonl(event(), event(id="oms-2"), event()))

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["accepted"] == 2
    assert [r.origin for r in query("SELECT DISTINCT origin FROM ingest_batches")] == ["-"]


def test_ingest_reads_a_gzip_file(ctower, query, tmp_path):
    path = tmp_path / "monday.jsonl.gz"
    path.write_bytes(gzip.compress(jsonl(event(), event(id="oms-2"))))

    result = ctower("ingest", str(path), "--json")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["accepted"] == 2


def test_the_source_flag_is_recorded_on_batches_and_quarantine(ctower, query, tmp_path):
    path = tmp_path / "pos.jsonl"
    path.write_bytes(jsonl(event(source="pos/store-0042"), "garbled,,,"))

    result = ctower("ingest", str(path), "--source", "pos/store-0042")

    assert result.returncode == 0, result.stderr
    assert [r.source_label for r in query("SELECT source_label FROM ingest_batches")] == ["pos/store-0042"]
    [bad] = query("SELECT source, origin, record_no FROM quarantine")
    assert (bad.source, bad.origin, bad.record_no) == ("pos/store-0042", str(path), 2)


def test_the_batch_size_setting_sizes_transactions_and_the_flag_overrides_it(ctower, query, tmp_path):
    path = tmp_path / "five.jsonl"
    path.write_bytes(jsonl(*(event(id=f"oms-{i}") for i in range(5))))

    from_setting = ctower("ingest", str(path), env={"CTOWER_INGEST_BATCH_SIZE": "2"})
    from_flag = ctower("ingest", str(path), "--batch-size", "4", env={"CTOWER_INGEST_BATCH_SIZE": "2"})

    assert from_setting.returncode == 0 and from_flag.returncode == 0
    runs = query("SELECT run_id, count(*) AS n FROM ingest_batches GROUP BY run_id ORDER BY min(batch_id)")
    assert [r.n for r in runs] == [3, 2]  # 5 records in batches of 2, then of 4


# --- ingest: the error paths ----------------------------------------------------------------
def test_a_missing_file_exits_4_naming_it_and_nothing_is_ingested(ctower, query, tmp_path, two_events):
    missing = tmp_path / "tuesday.jsonl"

    result = ctower("ingest", str(two_events), str(missing))

    assert result.returncode == 4
    assert "tuesday.jsonl" in error_line(result)
    assert count(query, "events") == 0
    assert count(query, "ingest_batches") == 0


def test_a_folder_given_as_input_exits_4(ctower, tmp_path):
    result = ctower("ingest", str(tmp_path))

    assert result.returncode == 4
    assert str(tmp_path) in error_line(result)


def test_a_file_named_gz_that_is_not_gzip_exits_4(ctower, tmp_path):
    path = tmp_path / "monday.jsonl.gz"
    path.write_bytes(jsonl(event()))

    result = ctower("ingest", str(path))

    assert result.returncode == 4
    assert "monday.jsonl.gz" in error_line(result)


def test_an_unknown_flag_exits_2_with_one_line(ctower, two_events):
    result = ctower("ingest", str(two_events), "--frobnicate")

    assert result.returncode == 2
    assert "--frobnicate" in error_line(result)


@pytest.mark.parametrize("size", ["0", "-3", "abc"])
def test_a_batch_size_that_is_not_a_positive_number_exits_2(ctower, query, two_events, size):
    result = ctower("ingest", str(two_events), f"--batch-size={size}")

    assert result.returncode == 2
    assert "batch-size" in error_line(result)
    assert count(query, "events") == 0


def test_every_error_line_starts_with_ctower_error_even_for_a_subcommands_usage(ctower, two_events):
    bad_value = ctower("ingest", str(two_events), "--batch-size", "0")
    unknown_flag = ctower("ingest", str(two_events), "--frobnicate")

    assert bad_value.returncode == unknown_flag.returncode == 2
    for result in (bad_value, unknown_flag):
        assert result.stderr.startswith("ctower: error: "), result.stderr


def test_an_unreachable_database_exits_3_with_one_line_naming_database_url(ctower, two_events):
    result = ctower("ingest", str(two_events), env={"DATABASE_URL": UNREACHABLE}, timeout=60)

    assert result.returncode == 3
    assert "DATABASE_URL" in error_line(result)


def test_a_bad_batch_size_setting_exits_2_naming_the_variable(ctower, query, two_events):
    result = ctower("ingest", str(two_events), env={"CTOWER_INGEST_BATCH_SIZE": "abc"})

    assert result.returncode == 2
    assert "CTOWER_INGEST_BATCH_SIZE" in error_line(result)
    assert count(query, "events") == 0


# --- db -------------------------------------------------------------------------------------
def test_db_migrate_on_a_migrated_database_applies_nothing(ctower):
    result = ctower("db", "migrate")

    assert result.returncode == 0, result.stderr
    assert "none pending" in result.stdout


def test_db_status_reports_what_is_stored(ctower, two_events):
    ctower("ingest", str(two_events))

    result = ctower("db", "status")

    assert result.returncode == 0, result.stderr
    assert "pending migrations: 0" in result.stdout
    assert "events: 2, quarantined: 0, ingest batches: 1" in result.stdout


def test_db_url_prints_the_database_in_use(ctower, database_url):
    result = ctower("db", "url")

    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip().split("?")[0].rsplit("/", 1)[1] == database_url.split("?")[0].rsplit("/", 1)[1]
    )


def test_db_with_an_unreachable_database_exits_3(ctower):
    result = ctower("db", "status", env={"DATABASE_URL": UNREACHABLE}, timeout=60)

    assert result.returncode == 3
    assert "DATABASE_URL" in error_line(result)
