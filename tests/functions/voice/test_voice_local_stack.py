"""End to end on the local stack: the voice functions and the Retell and Twilio sandboxes served
over HTTP on loopback (mounted like ``scripts/dev`` mounts them), the dispatcher delivering the
``recording_ingest`` tasks over HTTP, and the simulated day's voice scenarios (``tools.scenarios_voice``)
playing calls with real Twilio signatures. Every call must end with the right record."""

from __future__ import annotations

import pytest

from shared import runtime
from shared.config import Settings
from shared.runtime import Ports

VOICE_FUNCTIONS = ("voice_answer", "voice_ivr", "voice_status", "recording_ingest")


@pytest.fixture
def stack(tmp_path):
    from shared.adapters.local import build_dispatcher
    from shared.adapters.local.db import forget
    from tools.sandboxes.retell import RetellSandbox
    from tools.sandboxes.twilio import TwilioSandbox
    from tools.wsgi import ServerThread, function_app, mount

    retell = RetellSandbox()
    twilio = TwilioSandbox.from_settings(Settings(Z3_BACKEND="local"), callbacks="off")
    apps = {name: function_app(name) for name in VOICE_FUNCTIONS}
    apps.update({"_sandbox/retell": retell, "_sandbox/twilio": twilio})
    server = ServerThread(mount(apps)).start()
    settings = Settings(Z3_BACKEND="local", Z3_DATA_DIR=tmp_path / "data", PUBLIC_BASE_URL=server.url,
                        RETELL_BASE_URL=f"{server.url}/_sandbox/retell",
                        TWILIO_API_BASE_URL=f"{server.url}/_sandbox/twilio")
    ports = runtime.use(Ports(settings))
    dispatcher = build_dispatcher(settings)
    try:
        yield server.url, ports, dispatcher, retell, twilio
    finally:
        server.stop()
        runtime.reset()
        ports.close()
        forget(settings.z3_data_dir)


def _calls(ports, tenant_id):
    from shared.ports import Query

    docs = ports.store().query(Query(f"tenants/{tenant_id}/calls"))
    return {d.data["from"]: d.data for d in docs}


def test_the_voice_scenarios_of_the_simulated_day(stack):
    from tools import demo, scenarios_voice

    base_url, ports, dispatcher, retell, twilio = stack
    tenant = demo.seed(ports)
    lines: list[str] = []
    for scenario in (scenarios_voice.ivr_forwarded, scenarios_voice.after_hours_voicemail,
                     scenarios_voice.blocked_caller, scenarios_voice.retell_outage):
        scenario(base_url, ports, dispatcher, tenant, lines.append)
    output = "\n".join(lines)
    assert "scenario failed" not in output and "NOT stored" not in output, output

    calls = _calls(ports, tenant.id)
    callers = scenarios_voice.CALLERS
    ivr = calls[callers["ivr"]]
    assert [h["route"] for h in ivr["route_history"]] == ["ivr", "forward"]
    assert (ivr["answered_by"], ivr["status"], ivr["duration"]) == ("Dana Rivera", "completed", 95)
    assert ivr["ivr"]["digits"] == "2" and ivr["recording_notice_played"] is True

    voicemail = calls[callers["voicemail"]]
    assert (voicemail["route"], voicemail["route_reason"], voicemail["answered_by"]) == ("voicemail", "after_hours",
                                                                                        "voicemail")
    blocked = calls[callers["blocked"]]
    assert (blocked["route"], blocked["route_reason"], blocked["recording_notice_played"]) == (
        "rejected", "blocked_caller", False)
    outage = calls[callers["outage"]]
    assert (outage["route"], outage["route_reason"]) == ("voicemail", "ai_unavailable")
    assert "HTTP 500" in outage["route_detail"]

    blobs = ports.blobs()
    for call in (ivr, voicemail, outage):
        [recording] = call["recordings"]
        assert blobs.stat(recording["blob_path"]).sha256 == recording["sha256"]
        assert recording["blob_path"].startswith(f"tenants/{tenant.id}/recordings/{call['call_sid']}/")
        assert recording["recording_sid"] in twilio.deleted_recordings  # Twilio's copy is gone
    assert retell.mode == "off" and retell.calls == {}  # the outage is over; no call reached the agent

    # the business's own settings came back after each scenario
    voice = ports.store().get(f"tenants/{tenant.id}")["settings"]["voice"]
    assert voice["ivr"]["enabled"] is False and voice["after_hours_action"] == "ai"
