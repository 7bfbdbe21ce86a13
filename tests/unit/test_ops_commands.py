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
    "tenant purge": (["t_nope"], [(["t_nope"], 1, "no tenant t_nope"),
                                  ([TENANT], 3, "not flagged_for_deletion")]),
    "tenant residency": ([], [(["--json", "extra"], 2, "unrecognized arguments")]),
    "number assign": (["--tenant", TENANT, "--number", "+13035550101"], [
        (["--tenant", TENANT, "--number", "abc"], 2, "'abc' is not a phone number"),
        (["--tenant", "t_nope", "--number", "+13035550101"], 1, "no tenant t_nope")]),
    "number release": (["--tenant", TENANT, "--number", NUMBER], [
        (["--tenant", TENANT, "--number", "+13035550199"], 1, "t_ops does not have +13035550199"),
        (["--tenant", "t_nope", "--number", NUMBER], 1, "no tenant t_nope")]),
    "number lookup": ([NUMBER], [(["abc"], 2, "'abc' is not a phone number")]),
    "billing show": (["--tenant", TENANT], [(["--tenant", "t_nope"], 1, "no tenant t_nope")]),
    "billing sync": (["--tenant", TENANT], [(["--tenant", TENANT], 1, "t_ops has no Stripe customer yet"),
                                            (["--tenant", "t_nope"], 1, "no tenant t_nope")]),
    "billing checkout": (["--tenant", TENANT, "--plan", "starter"], [
        (["--tenant", TENANT, "--plan", "gold"], 2, "unknown plan 'gold' (plans: starter, pro)"),
        (["--tenant", "t_nope", "--plan", "starter"], 1, "no tenant t_nope")]),
    "billing portal": (["--tenant", TENANT], [(["--tenant", TENANT], 1, "t_ops has no Stripe customer yet")]),
    "policy announce": ([], [(["--tenant", "t_nope"], 1, "no tenant t_nope")]),
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
    "crm endpoints add": (["--tenant", TENANT, "--url", "http://127.0.0.1:9/hooks", "--event", "call.completed"], [
        (["--tenant", TENANT, "--url", "http://127.0.0.1:9/hooks"], 2, "choose events among"),
        (["--tenant", TENANT, "--url", "gopher://x", "--event", "call.completed"], 2, "must be an https:// URL"),
        (["--tenant", TENANT, "--url", "http://127.0.0.1/", "--event", "call.started"], 2, "invalid choice"),
        (["--tenant", "t_nope", "--url", "http://127.0.0.1/", "--event", "call.completed"], 1, "no tenant t_nope")]),
    "crm endpoints list": (["--tenant", TENANT], [(["--tenant", "t_nope"], 1, "no tenant t_nope")]),
    "crm endpoints enable": (["--tenant", TENANT, "we_nope"], [
        (["--tenant", TENANT, "we_nope"], 1, "no CRM endpoint we_nope"),
        (["--tenant", "t_nope", "we_nope"], 1, "no tenant t_nope")]),
    "crm endpoints test": (["--tenant", TENANT, "we_nope"], [
        (["--tenant", TENANT, "../x"], 1, "no CRM endpoint ../x")]),
    "crm endpoints deliveries": (["--tenant", TENANT, "we_ops"], [
        (["--tenant", TENANT, "we_nope"], 1, "no CRM endpoint we_nope")]),
    "retention sweep": (["--dry-run"], [(["--now", "yesterday"], 2, "'yesterday' is not an ISO-8601 time"),
                                        (["--now", "2027-01-01T00:00:00"], 2, "has no time zone")]),
    "privacy request": (["--tenant", TENANT, "--kind", "export"], [
        (["--tenant", "t_nope", "--kind", "export"], 1, "no tenant t_nope"),
        (["--tenant", TENANT, "--kind", "sell"], 2, "invalid choice"),
        (["--tenant", TENANT, "--kind", "delete", "--number", "abc"], 2, "'abc' is not a phone number"),
        (["--tenant", TENANT, "--kind", "export", "--child"], 2, "a request about a child is a deletion"),
        (["--tenant", TENANT, "--kind", "correct", "--set", "nonsense"], 2, "'nonsense' is not FIELD=VALUE")]),
    "privacy verify": (["pr_nothing", "--method", "reply from the account email"], [
        (["pr_nothing", "--method", "m"], 1, "no privacy request pr_nothing")]),
    "privacy extend": (["pr_nothing", "--days", "10", "--reason", "r"], [
        (["pr_nothing", "--days", "0", "--reason", "r"], 2, "not a positive number"),
        (["pr_nothing", "--days", "10", "--reason", "r"], 1, "no privacy request pr_nothing")]),
    "privacy list": ([], [(["--tenant", "t_nope"], 1, "no tenant t_nope")]),
    "privacy show": (["pr_nothing"], [(["pr_nothing"], 1, "no privacy request pr_nothing")]),
    "privacy run": (["pr_nothing"], [(["pr_nothing"], 1, "no privacy request pr_nothing")]),
    "hold add": (["--tenant", TENANT, "--reason", "litigation", "--by", "ops"], [
        (["--tenant", "t_nope", "--reason", "r", "--by", "ops"], 1, "no tenant t_nope"),
        (["--tenant", TENANT, "--number", "abc", "--reason", "r", "--by", "ops"], 2, "'abc' is not a phone number"),
        (["--tenant", TENANT, "--call", "../x", "--reason", "r", "--by", "ops"], 2, "'../x' is not a call sid"),
        (["--tenant", TENANT, "--reason", " ", "--by", "ops"], 2, "a hold needs a reason")]),
    "hold list": (["--tenant", TENANT], [(["--tenant", "t_nope"], 1, "no tenant t_nope")]),
    "hold release": (["--tenant", TENANT, "h_nothing", "--by", "ops"], [
        (["--tenant", TENANT, "h_nothing", "--by", "ops"], 1, "no hold h_nothing"),
        (["--tenant", "t_nope", "h_x", "--by", "ops"], 1, "no tenant t_nope")]),
    "consent show": (["--tenant", TENANT, "--number", NUMBER], [
        (["--tenant", TENANT, "--number", "abc"], 2, "'abc' is not a phone number"),
        (["--tenant", "t_nope", "--number", NUMBER], 1, "no tenant t_nope")]),
    "integrations connect": (["quickbooks", "--tenant", TENANT, "--email", "dana@sunrise.example"], [
        (["quickbooks", "--tenant", TENANT, "--email", "nobody@sunrise.example"], 1, "has no user with that email"),
        (["xero", "--tenant", TENANT, "--email", "dana@sunrise.example"], 2, "invalid choice"),
        (["quickbooks", "--tenant", "t_nope", "--email", "dana@sunrise.example"], 1, "no tenant t_nope"),
        (["quickbooks", "--tenant", TENANT, "--email", "dana@sunrise.example", "--calendar", "x"], 2,
         "--calendar is for google_calendar"),
        (["google_calendar", "--tenant", TENANT, "--email", "dana@sunrise.example", "--calendar", "c" * 300], 2,
         "--calendar must be 1-254 characters")]),
    "integrations status": (["--tenant", TENANT], [(["--tenant", "t_nope"], 1, "no tenant t_nope")]),
    "integrations disconnect": (["quickbooks", "--tenant", TENANT, "--email", "dana@sunrise.example"], [
        (["quickbooks", "--tenant", "t_nope", "--email", "dana@sunrise.example"], 1, "no tenant t_nope"),
        (["quickbooks", "--tenant", TENANT, "--email", "dana@sunrise.example"], 1, "has no live quickbooks connection")]),
    "integrations calendar-sync": (["--tenant", TENANT], [
        (["--tenant", "t_nope"], 1, "no tenant t_nope"),
        (["--tenant", TENANT], 1, "has no live google_calendar connection")]),
    "integrations quickbooks-items": (["--tenant", TENANT], [
        (["--tenant", "t_nope"], 1, "no tenant t_nope"),
        (["--tenant", TENANT], 2, "quickbooks is not connected")]),
    "integrations quickbooks-item": (["--tenant", TENANT, "--item", "2", "--rate", "85"], [
        (["--tenant", TENANT, "--item", "x", "--rate", "85"], 2, "is not a QuickBooks item id"),
        (["--tenant", TENANT, "--item", "2", "--rate", "-1"], 2, "--rate must be between"),
        (["--tenant", TENANT, "--item", "2", "--rate", "85"], 2, "quickbooks is not connected")]),
    "settings show": (["--tenant", TENANT], [(["--tenant", "t_nope"], 1, "no tenant t_nope")]),
    "settings set": (["--tenant", TENANT, "--set", 'voice.greeting="Hello"'], [
        (["--tenant", "t_nope", "--set", 'voice.greeting="x"'], 1, "no tenant t_nope"),
        (["--tenant", TENANT, "--set", "voice.greeting"], 2, "is not PATH=JSON"),
        (["--tenant", TENANT, "--set", "voice.greeting=Hello"], 2, "is not JSON"),
        (["--tenant", TENANT, "--set", "recording_retention_days=45"], 2, "recording_retention_days: choose 30"),
        (["--tenant", TENANT, "--set", "voice.agent_id=\"x\""], 2, "cannot be changed here")]),
    "settings preview": (["--tenant", TENANT, "--day", "sat", "--time", "21:00", "--number", "+16025550111"], [
        (["--tenant", TENANT, "--day", "sat", "--time", "late"], 2, "is not a time"),
        (["--tenant", TENANT, "--day", "sat", "--time", "21:00", "--number", "12"], 2, "not a valid phone number"),
        (["--tenant", TENANT, "--day", "someday", "--time", "21:00"], 2, "invalid choice")]),
    "support list": (["--tenant", TENANT], [(["--tenant", "t_nope"], 1, "no tenant t_nope")]),
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
    TenantScope(ports.store(), TENANT).set("crm_endpoints/we_ops", {"id": "we_ops", "url": "http://127.0.0.1:9/",
                                                                     "events": ["call.completed"], "enabled": True})
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


def test_crm_endpoint_add_then_test_event_reaches_the_receiver(data_dir, capsys):
    from tools.sandboxes.crm import CrmReceiver

    with CrmReceiver() as receiver:
        url = receiver.url + receiver.hook("ops")
        status, out, _ = run(data_dir, ["crm", "endpoints", "add", "--tenant", TENANT, "--url", url,
                                        "--event", "call.completed"], capsys)
        assert status == 0
        endpoint_id = out.split()[1]
        receiver.use_secret("ops", out.strip().rsplit(" ", 1)[-1])
        status, out, _ = run(data_dir, ["crm", "endpoints", "test", "--tenant", TENANT, endpoint_id], capsys)
        assert status == 0 and "test event delivered: HTTP 204" in out
        assert [e["type"] for e in receiver.events("ops")] == ["webhook.test"]
        receiver.answer_with("ops", 502)
        status, out, _ = run(data_dir, ["crm", "endpoints", "test", "--tenant", TENANT, endpoint_id], capsys)
        assert status == 4 and "test event failed: HTTP 502" in out
        status, out, _ = run(data_dir, ["crm", "endpoints", "deliveries", "--tenant", TENANT, endpoint_id, "--json"],
                             capsys)
        assert [(d["status"], d["last_status_code"]) for d in json.loads(out)] == [("failed", 502), ("delivered", 204)]
def test_settings_set_is_what_the_preview_and_show_then_see(data_dir, capsys):
    hours = '{"sat": [{"start": "18:00", "end": "23:00"}]}'
    status, _, err = run(data_dir, ["settings", "set", "--tenant", TENANT, "--set", f"voice.hours={hours}",
                                    "--set", 'voice.open_action="voicemail"'], capsys)
    assert status == 0, err
    status, out, _ = run(data_dir, ["settings", "preview", "--tenant", TENANT, "--day", "sat", "--time", "21:00",
                                    "--json"], capsys)
    answer = json.loads(out)
    assert (answer["action"], answer["reason"]) == ("voicemail", "business_hours")
    status, out, _ = run(data_dir, ["settings", "show", "--tenant", TENANT, "--json"], capsys)
    assert json.loads(out)["voice"]["hours"] == {"sat": [{"start": "18:00", "end": "23:00"}]}
