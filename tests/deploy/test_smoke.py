"""tools/smoke.py against voice_answer served over HTTP (functions-framework's app on loopback,
embedded backend): a signed synthetic call to the test business's number answers TwiML; a wrong
token is refused (403) and the smoke test fails."""

from __future__ import annotations

import pytest

from shared import runtime
from shared.runtime import Ports
from tests.functions.local import local_settings
from tests.functions.voice.support import NUMBER, seed
from tools import smoke
from tools.wsgi import ServerThread, function_app, mount


@pytest.fixture
def stack(tmp_path):
    from shared.adapters.local.db import forget

    settings = local_settings(tmp_path)
    ports = runtime.use(Ports(settings))
    seed(ports)
    server = ServerThread(mount({"voice_answer": function_app("voice_answer"), "app": function_app("app")})).start()
    yield settings, server.url
    server.stop()
    runtime.reset()
    ports.close()
    forget(settings.z3_data_dir)


def _run(tmp_path, settings, url, token):
    path = tmp_path / "token"
    path.write_text(token)
    return smoke.main(["--base-url", settings.public_base_url, "--connect", url, "--to", NUMBER,
                       "--auth-token-file", str(path)])


def test_a_signed_synthetic_call_answers_twiml(tmp_path, stack, capsys):
    settings, url = stack
    assert _run(tmp_path, settings, url, settings.twilio_auth_token.get_secret_value()) == 0
    assert "voice_answer: TwiML" in capsys.readouterr().out


def test_a_wrong_token_fails_the_smoke_test(tmp_path, stack, capsys):
    settings, url = stack
    assert _run(tmp_path, settings, url, "not-the-auth-token-of-this-account") == 1
    assert "voice_answer answered 403" in capsys.readouterr().out
