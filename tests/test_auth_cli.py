"""`ctower users ...`: accounts from the command line, each change audited."""

from __future__ import annotations

import getpass
import io
import json
import socket

from app.auth import sessions
from app.settings import Settings


def test_adding_a_user_prints_a_generated_password_once_that_signs_in(ctower, engine) -> None:
    added = ctower("users", "add", "Maria", "--role", "manager")
    assert added.returncode == 0, added.stderr
    lines = added.stdout.splitlines()
    assert lines[0] == "added maria (manager)"
    password = lines[1].removeprefix("password: ")
    assert len(password) == 16
    session = sessions.login(engine, "maria", password, settings=Settings())
    assert session.actor.role == "manager"


def test_a_password_from_stdin_is_used_and_not_printed(ctower, engine) -> None:
    added = ctower(
        "users", "add", "tom", "--role", "viewer", "--password-stdin", input=b"tom's long secret\n"
    )
    assert added.stdout == "added tom (viewer)\n"
    changed = ctower("users", "passwd", "tom", "--password-stdin", input=b"an even longer secret\n")
    assert changed.stdout == "new password set for tom; signed out everywhere\n"
    assert sessions.login(engine, "tom", "an even longer secret", settings=Settings()).actor.username == "tom"


def test_list_role_and_remove_show_in_the_listing_and_the_audit_log(ctower) -> None:
    ctower("users", "add", "root", "--role", "admin")
    ctower("users", "add", "maria", "--role", "viewer")
    assert ctower("users", "role", "maria", "manager", "--reason", "new shift lead").stdout == (
        "maria is now manager\n"
    )
    assert ctower("users", "remove", "root").returncode == 2  # the last admin stays
    listed = json.loads(ctower("users", "list", "--json").stdout)
    assert [(u["username"], u["role"], u["removed_at"]) for u in listed] == [
        ("maria", "manager", None),
        ("root", "admin", None),
    ]
    table = ctower("users", "list").stdout.splitlines()
    assert table[0].split() == ["user", "role", "created", "password", "changed", "removed"]
    assert [line.split()[:2] for line in table[1:]] == [["maria", "manager"], ["root", "admin"]]
    rows = json.loads(ctower("audit", "list", "--json", "--entity-key", "maria").stdout)
    assert [(r["action"], r["actor"], r["role"], r["reason"]) for r in rows] == [
        ("user.role", f"{getpass.getuser()}@{socket.gethostname()}", "cli", "new shift lead"),
        ("user.add", f"{getpass.getuser()}@{socket.gethostname()}", "cli", ""),
    ]


def test_bad_input_is_one_line_and_a_non_zero_exit(ctower, database_url, capsys, monkeypatch) -> None:
    refused = ctower("users", "add", "tom", "--role", "boss")
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == "ctower: error: unknown role 'boss': one of viewer, manager, admin\n"
    # the same `main` in this process (faster than a process each), on the same database
    ctower("users", "add", "maria", "--role", "viewer")
    cases = {
        ("users", "add", "maria", "--role", "viewer"): "user 'maria' already exists",
        ("users", "remove", "nobody"): "no user 'nobody' (see ctower users list)",
        ("users", "role", "nobody", "admin"): "no user 'nobody'",
        ("users", "role", "maria", "viewer"): "user 'maria' is already viewer",
        ("users", "passwd", "nobody"): "no user 'nobody'",
        ("users", "add", "a b", "--role", "viewer"): "bad user name 'a b'",
        ("users", "frobnicate"): "invalid choice: 'frobnicate'",
    }
    for args, message in cases.items():
        assert _main(capsys, *args, "--database-url", database_url) == 2, args
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert err.startswith("ctower: error: ") and message in err, err
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert (
        _main(
            capsys,
            "users",
            "add",
            "tom",
            "--role",
            "viewer",
            "--password-stdin",
            "--database-url",
            database_url,
        )
        == 2
    )
    assert capsys.readouterr().err == "ctower: error: --password-stdin: no password on stdin\n"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert _main(capsys, "users", "passwd", "maria", "--password-stdin", "--database-url", database_url) == 2
    assert capsys.readouterr().err == "ctower: error: a password needs at least 10 characters, got 5\n"


def _main(capsys, *args: str) -> int:
    from app.cli import main

    try:
        return main(list(args))
    except SystemExit as exc:  # argparse's usage errors
        return int(exc.code or 0)
