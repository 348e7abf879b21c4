"""`ctower collect`, `ctower sources`: exit codes and one-line messages, real feeds and store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import REPO
from tests.kinds_for_tests import FeedServer, serving

KIND = "tests.kinds_for_tests"
ENV = {"PYTHONPATH": str(REPO), "CTOWER_COLLECTOR_ATTEMPTS": "1"}


def routed(n: int) -> dict[str, str]:
    return {"order": f"ORD-{n:06d}", "node": "STORE-0042", "at": f"2026-11-20T10:{n:02d}:00+00:00"}


def sources_file(path: Path, *sources: tuple[str, str], extra: str = "") -> Path:
    text = "".join(
        f'[[source]]\nname = "{name}"\nkind = "{KIND}"\nschedule = "5m"\nsystem = "oms"\n'
        f'[source.options]\nurl = "{url}"\n\n'
        for name, url in sources
    )
    path.write_text(text + extra)
    return path


@pytest.fixture
def feed() -> Any:
    with serving([routed(1), routed(2), routed(3)], page_size=2) as server:
        yield server


@pytest.fixture
def dead_url() -> str:
    server = FeedServer().start()
    url = server.url
    server.stop()
    return url


def test_collect_once_stores_the_events_and_prints_one_line_a_source(ctower, tmp_path, feed, engine):
    config = sources_file(tmp_path / "sources.toml", ("oms", feed.url))
    result = ctower("collect", "--once", "--config", str(config), env=ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "oms: ok, 2 pages, 3 read, 3 accepted, 0 duplicate, 0 quarantined\n"
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM events WHERE source = 'oms'")).scalar() == 3
    again = ctower("collect", "oms", "--once", "--json", env=ENV)  # registered: no --config needed
    assert again.returncode == 0, again.stderr
    [run] = json.loads(again.stdout)
    assert (run["source"], run["status"], run["read"], run["accepted"], run["cursor_before"]) == (
        "oms",
        "ok",
        0,
        0,
        3,
    )


def test_a_failed_source_exits_1_with_one_line_and_the_others_are_collected(ctower, tmp_path, feed, dead_url):
    config = sources_file(tmp_path / "sources.toml", ("broken", dead_url), ("oms", feed.url))
    result = ctower("collect", "--once", "--config", str(config), env=ENV)
    assert result.returncode == 1
    assert result.stdout.startswith("oms: ok, 2 pages, 3 read, 3 accepted")
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        "ctower: error: source broken failed: gave up after 1 attempt: GET http://127.0.0.1:"
    )


def test_an_unknown_source_exits_2_naming_the_known_ones(ctower, tmp_path, feed):
    config = sources_file(tmp_path / "sources.toml", ("oms", feed.url), ("wms", feed.url))
    result = ctower("collect", "nope", "--once", "--config", str(config), env=ENV)
    assert result.returncode == 2
    assert result.stderr == "ctower: error: unknown source 'nope'; known sources: oms, wms\n"


def test_collect_with_no_sources_registered_says_how_to_add_them(ctower):
    result = ctower("collect", "--once", env=ENV)
    assert result.returncode == 2
    assert "no sources registered" in result.stderr and len(result.stderr.splitlines()) == 1


def test_a_bad_value_in_the_sources_file_names_the_file_the_source_and_the_field(ctower, tmp_path, feed):
    config = sources_file(tmp_path / "sources.toml", ("oms", feed.url))
    config.write_text(config.read_text().replace('schedule = "5m"', 'schedule = "soon"'))
    result = ctower("collect", "--once", "--config", str(config), env=ENV)
    assert result.returncode == 2
    assert result.stderr == (
        f"ctower: error: {config}: source 'oms': schedule: 'soon' is not a duration such as "
        "'30s', '5m', '1h' or a number of seconds\n"
    )


def test_a_missing_sources_file_exits_4(ctower, tmp_path):
    result = ctower("sources", "add", str(tmp_path / "nowhere.toml"), env=ENV)
    assert result.returncode == 4
    assert result.stderr.startswith(
        f"ctower: error: {tmp_path / 'nowhere.toml'}: cannot read the sources file"
    )


def test_sources_lists_each_source_with_its_health(ctower, tmp_path, feed, dead_url):
    config = sources_file(tmp_path / "sources.toml", ("broken", dead_url), ("oms", feed.url))
    added = ctower("sources", "add", str(config), env=ENV)
    assert (added.returncode, added.stdout) == (0, f"2 sources registered from {config}\n")
    ctower("collect", "--once", env=ENV)
    listing = ctower("sources", "--json", env=ENV)
    assert listing.returncode == 0, listing.stderr
    rows = {r["name"]: r for r in json.loads(listing.stdout)}
    assert (rows["oms"]["status"], rows["oms"]["consecutive_failures"], rows["oms"]["last_error"]) == (
        "up",
        0,
        None,
    )
    assert rows["oms"]["last_event_time"] == "2026-11-20T10:03:00Z"
    assert rows["oms"]["schedule_seconds"] == 300
    assert (rows["broken"]["status"], rows["broken"]["consecutive_failures"]) == ("never", 1)
    assert rows["broken"]["last_success_at"] is None
    table = ctower("sources", env=ENV)
    lines = table.stdout.splitlines()
    assert lines[0].split()[:4] == ["source", "kind", "every", "status"]
    assert lines[2].split()[:4] == ["oms", KIND, "300s", "up"]


def test_a_paused_source_is_not_collected_until_resumed(ctower, tmp_path, feed, engine):
    ctower("sources", "add", str(sources_file(tmp_path / "sources.toml", ("oms", feed.url))), env=ENV)
    paused = ctower("sources", "pause", "oms", env=ENV)
    assert (paused.returncode, paused.stdout) == (0, "oms: paused\n")
    skipped = ctower("collect", "--once", env=ENV)
    assert (skipped.returncode, skipped.stdout) == (0, "oms: paused (resume it to collect)\n")
    assert feed.requests == []
    assert ctower("sources", "resume", "oms", env=ENV).stdout == "oms: resumed\n"
    collected = ctower("collect", "--once", env=ENV)
    assert collected.stdout.startswith("oms: ok, 2 pages, 3 read, 3 accepted")


def test_pausing_an_unknown_source_exits_2(ctower, tmp_path, feed):
    ctower("sources", "add", str(sources_file(tmp_path / "sources.toml", ("oms", feed.url))), env=ENV)
    result = ctower("sources", "pause", "wms", env=ENV)
    assert (result.returncode, result.stderr) == (
        2,
        "ctower: error: unknown source 'wms'; known sources: oms\n",
    )
    missing = ctower("sources", "pause", env=ENV)
    assert (missing.returncode, missing.stderr) == (2, "ctower: error: sources pause needs a NAME\n")


def test_collect_without_once_keeps_collecting_until_sigterm(database_url, tmp_path, feed, engine):
    import os
    import signal
    import subprocess
    import sys
    import time

    config = sources_file(tmp_path / "sources.toml", ("oms", feed.url))
    env = {**os.environ, **ENV, "DATABASE_URL": database_url, "CTOWER_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "collect", "oms", "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if conn.execute(sa.text("SELECT count(*) FROM events WHERE source = 'oms'")).scalar() == 3:
                    break
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert err.rstrip().endswith("stopped; every committed page is kept")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM events WHERE source = 'oms'")).scalar() == 3


# --- the sources file, read without a database ------------------------------------------
def test_schedules_read_as_durations_and_mappings_as_tables_or_functions(tmp_path):
    from collectors.config import load_file

    path = tmp_path / "sources.toml"
    path.write_text(
        f'[[source]]\nname = "pos"\nkind = "{KIND}"\nschedule = "250ms"\nmapping = "pkg.mod:fn"\n'
        f'[[source]]\nname = "wms"\nkind = "{KIND}"\nschedule = 90\nenabled = false\n'
        '[source.mapping]\ntype = "retail.order.routed"\n'
        f'[[source]]\nname = "erp"\nkind = "{KIND}"\nschedule = "1h"\n'
    )
    pos, wms, erp = load_file(path)
    assert (pos.schedule_seconds, pos.mapping, pos.enabled) == (0.25, "pkg.mod:fn", True)
    assert (wms.schedule_seconds, wms.mapping, wms.enabled) == (90.0, {"type": "retail.order.routed"}, False)
    assert (erp.schedule_seconds, erp.mapping, erp.options) == (3600.0, None, {})


def test_each_bad_value_is_one_line_naming_file_source_and_field(tmp_path):
    from collectors.config import ConfigError, load_file

    path = tmp_path / "s.toml"
    oms = '[[source]]\nname = "oms"\n'
    ours = f'kind = "{KIND}"\n'
    cases = {
        f'{oms}{ours}schedul = "5m"\n': "source 'oms': schedul: not a known field",
        f'{oms}kind = "carrier_pigeon"\n': "source 'oms': kind: unknown kind 'carrier_pigeon'",
        f'{oms}kind = "no.such.module"\n': "source 'oms': kind: no module 'no.such.module'",
        f"[[source]]\n{ours}": "source #1: name: Field required",
        f'[[source]]\nname = "o m s"\n{ours}': "source 'o m s': name: String should match pattern",
        f"{oms}{ours}schedule = 0\n": "source 'oms': schedule: must be more than zero",
        f'{oms}{ours}mapping = "nofunction"\n': "source 'oms': mapping: 'nofunction' is not",
        f"{oms}{ours}{oms}{ours}": "source 'oms': name: defined twice",
        "[[source]\n": "not valid TOML",
    }
    for text, expected in cases.items():
        path.write_text(text)
        with pytest.raises(ConfigError) as caught:
            load_file(path)
        message = str(caught.value)
        assert message.startswith(f"{path}: {expected}"), message
        assert "\n" not in message
