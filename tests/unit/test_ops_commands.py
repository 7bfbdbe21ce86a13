"""Every ``scripts/ops`` command, walked from its parser: with bad input each ends in one line
on stderr naming what was wrong and a non-zero status (never a traceback); every read command
answers ``--json``; none but ``tenant create`` creates a database in a data dir that has none.

A command added to the parser without a row in :data:`COMMANDS` fails
:func:`test_every_command_has_a_row`."""

from __future__ import annotations

import argparse
import json

import pytest

from shared.config import Settings
from shared.runtime import Ports
from shared.models.base import utcnow
from shared.tenants import TenantScope, create_tenant
from tools import ops

TENANT, NUMBER = "t_ops", "+13035550100"

# command -> (a good invocation, [(bad invocation, exit status, what the error line names)])
COMMANDS: dict[str, tuple[list[str], list[tuple[list[str], int, str]]]] = {
    "tenant create": (["--name", "Acme", "--email", "o@acme.example", "--id", "t_new"], [
        (["--name", "Acme", "--email", "o@acme.example", "--number", "abc"], 2, "'abc' is not a phone number"),
        (["--name", "Acme", "--email", "not-an-email"], 2, "'not-an-email' is not an email address"),
        (["--name", "Acme", "--email", "o@acme.example", "--number", NUMBER], 3, "belongs to another business")]),
    "tenant list": ([], [(["--limit", "0"], 2, "not a positive number")]),
    "tenant show": ([TENANT], [(["t_nope"], 1, "no tenant t_nope")]),
    "tenant status": ([TENANT, "active"], [(["t_nope", "suspended"], 1, "no tenant t_nope"),
                                           ([TENANT, "asleep"], 2, "invalid choice")]),
    "number assign": (["--tenant", TENANT, "--number", "+13035550101"], [
        (["--tenant", TENANT, "--number", "abc"], 2, "'abc' is not a phone number"),
        (["--tenant", "t_nope", "--number", "+13035550101"], 1, "no tenant t_nope")]),
    "number release": (["--tenant", TENANT, "--number", NUMBER], [
        (["--tenant", TENANT, "--number", "+13035550199"], 1, "t_ops does not have +13035550199"),
        (["--tenant", "t_nope", "--number", NUMBER], 1, "no tenant t_nope")]),
    "number lookup": ([NUMBER], [(["abc"], 2, "'abc' is not a phone number")]),
    "user add": (["--tenant", TENANT, "--email", "sam@acme.example"], [
        (["--tenant", "t_nope", "--email", "sam@acme.example"], 1, "no tenant t_nope"),
        (["--tenant", TENANT, "--email", "dana@sunrise.example"], 2, "a user with this email exists")]),
    "user list": (["--tenant", TENANT], [(["--tenant", "t_nope"], 1, "no tenant t_nope")]),
    "user unlock": (["--email", "dana@sunrise.example"], [
        (["--email", "not-an-email"], 2, "'not-an-email' is not an email address"),
        (["--email", "nobody@sunrise.example"], 1, "no user with the email nobody@sunrise.example")]),
    "api-token create": (["--tenant", TENANT, "--email", "dana@sunrise.example", "--name", "zapier"], [
        (["--tenant", "t_nope", "--email", "dana@sunrise.example", "--name", "x"], 1, "no tenant t_nope"),
        (["--tenant", TENANT, "--email", "nobody@sunrise.example", "--name", "x"], 1, "no user with the email"),
        (["--tenant", TENANT, "--email", "not-an-email", "--name", "x"], 2, "is not an email address"),
        (["--tenant", TENANT, "--email", "dana@sunrise.example", "--name", " "], 2, "Name the token"),
        (["--tenant", TENANT, "--email", "dana@sunrise.example", "--name", "x", "--scope", "admin"], 2,
         "invalid choice"),
        (["--tenant", TENANT, "--email", "dana@sunrise.example"], 2, "--name")]),
    "users list": (["--tenant", TENANT], [(["--tenant", "t_nope"], 1, "no tenant t_nope")]),
    "calls list": (["--tenant", TENANT, "--search", "crown"], [(["--tenant", "t_nope"], 1, "no tenant t_nope"),
                                                            (["--tenant", TENANT, "--outcome", "won"], 2,
                                                             "invalid choice")]),
    "calls delete": (["--tenant", TENANT, "CA" + "0" * 32, "--yes"], [
        (["--tenant", TENANT, "CA" + "0" * 32], 2, "add --yes"),
        (["--tenant", TENANT, "CA" + "1" * 32, "--yes"], 1, "no call CA"),
        (["--tenant", TENANT, "../x", "--yes"], 2, "'../x' is not a call sid")]),
    "calls show": (["--tenant", TENANT, "CA" + "0" * 32], [
        (["--tenant", TENANT, "CA" + "1" * 32], 1, "no call CA"),
        (["--tenant", TENANT, "../x"], 2, "'../x' is not a call sid")]),
    "messages list": (["--tenant", TENANT], [(["--tenant", "t_nope"], 1, "no tenant t_nope")]),
    "appointments list": (["--tenant", TENANT], [(["--tenant", "t_nope"], 1, "no tenant t_nope")]),
    "queue list": ([], [(["--state", "done"], 2, "invalid choice")]),
    "queue retry": (["task/nothing"], [(["nonsense"], 2, "'nonsense' is not a queue item id"),
                                       (["event/x"], 2, "takes a number"),
                                       (["task/nothing"], 1, "no queue item task/nothing")]),
    "email show": (["--email", "owner@sunrise.example"], [
        (["--email", "not-an-email"], 2, "'not-an-email' is not an email address")]),
    "email lift": (["--email", "owner@sunrise.example"], [
        (["--email", "not-an-email"], 2, "'not-an-email' is not an email address")]),
    "recordings sweep": ([], [([], 2, "no local stack is running")]),
    "consent show": (["--tenant", TENANT, "--number", NUMBER], [
        (["--tenant", TENANT, "--number", "abc"], 2, "'abc' is not a phone number"),
        (["--tenant", "t_nope", "--number", NUMBER], 1, "no tenant t_nope")]),
}


def leaf_commands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found.update(leaf_commands(child, f"{prefix} {name}".strip()))
    if not found and prefix:
        found[prefix] = parser
    return found


LEAVES = leaf_commands(ops.build_parser())


@pytest.fixture
def data_dir(tmp_path):
    from shared.adapters.local.db import forget

    path = tmp_path / "data"
    ports = Ports(Settings(Z3_BACKEND="local", Z3_DATA_DIR=path))
    create_tenant(ports.store(), tenant_id=TENANT, name="Sunrise Plumbing", contact_name="Dana",
                  contact_email="dana@sunrise.example", numbers=[NUMBER])
    TenantScope(ports.store(), TENANT).set("calls/CA" + "0" * 32, {"call_sid": "CA" + "0" * 32, "created_at": utcnow()})
    ports.close()
    yield path
    forget(path)


def run(data_dir, argv, capsys) -> tuple[int, str, str]:
    try:
        status = ops.main(["--data-dir", str(data_dir), *argv])
    except SystemExit as exc:  # argparse's own exits
        status = exc.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_every_command_has_a_row():
    assert sorted(LEAVES) == sorted(COMMANDS), "add a row to COMMANDS for every scripts/ops command"


@pytest.mark.parametrize("command,argv,status,reason",
                         [(c, argv, s, r) for c, (_ok, bad) in COMMANDS.items() for argv, s, r in bad])
def test_bad_input_is_one_line_and_a_status(data_dir, capsys, command, argv, status, reason):
    got, out, err = run(data_dir, [*command.split(), *argv], capsys)
    assert got == status, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and reason in lines[0], err
    assert "Traceback" not in out + err


@pytest.mark.parametrize("command", [c for c, leaf in LEAVES.items() if leaf.get_default("kind") == "read"])
def test_every_read_command_answers_json(data_dir, capsys, command):
    ok, _bad = COMMANDS[command]
    status, out, err = run(data_dir, [*command.split(), *ok, "--json"], capsys)
    assert "Traceback" not in err
    json.loads(out)  # whatever the status (a lookup that finds nothing is 1), stdout is JSON


@pytest.mark.parametrize("command", [c for c, leaf in LEAVES.items() if leaf.get_default("kind") != "create"])
def test_a_data_dir_without_a_database_is_refused_not_created(tmp_path, capsys, command):
    typo = tmp_path / "dtaa"
    status, out, err = run(typo, [*command.split(), *COMMANDS[command][0]], capsys)
    assert status == 2 and err.startswith("error: no Z3 database in ") and "dtaa" in err, (out, err)
    assert not typo.exists()


def test_global_options_may_follow_the_command(data_dir, capsys):
    assert ops.main(["tenant", "show", TENANT, "--data-dir", str(data_dir)]) == 0
    assert '"Sunrise Plumbing"' in capsys.readouterr().out


def test_the_gcp_backend_without_its_settings_is_one_line(data_dir, capsys, monkeypatch):
    monkeypatch.delenv("FIRESTORE_EMULATOR_HOST", raising=False)  # the session's emulators, when they run
    status, _out, err = run(data_dir, ["--backend", "gcp", "tenant", "list"], capsys)
    assert status == 2 and err.startswith("error: Z3 OS refuses to start on the gcp backend") and err.count("\n") == 1


def test_a_released_number_is_released(data_dir, capsys):
    status, out, _ = run(data_dir, ["number", "release", "--tenant", TENANT, "--number", "(303) 555-0100"], capsys)
    assert (status, out.strip()) == (0, f"released {NUMBER} from {TENANT}")
    assert run(data_dir, ["number", "lookup", NUMBER], capsys)[:2] == (1, f"{NUMBER} is not assigned\n")
