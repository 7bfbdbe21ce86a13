"""A simulated day of calls and texts, sent the way the providers send them (HTTP, real
signatures) to a running stack. ``scripts/simulate`` runs it against any stack.

Scenarios are added by the capabilities that handle them (voice, texts); each prints what
happened."""

from __future__ import annotations

from typing import Callable

SCENARIOS: list[Callable] = []


def play_day(base_url: str, ports, dispatcher, tenant, out: Callable[[str], None]) -> None:
    if not SCENARIOS:
        out("Simulated day: no call or text scenarios yet (the voice and SMS capabilities add them).")
        return
    for scenario in SCENARIOS:
        scenario(base_url, ports, dispatcher, tenant, out)


# Scenario modules register themselves on import (each appends to SCENARIOS).
import tools.scenarios_ai  # noqa: E402,F401  (the AI receptionist books an appointment)
import tools.scenarios_voice  # noqa: E402,F401  (IVR forward, after-hours voicemail, blocked caller, Retell outage)
import tools.scenarios_sms  # noqa: E402,F401  (texts: verbal consent, follow-up, HELP, STOP, START)
import tools.scenarios_email  # noqa: E402,F401  (the notifications of the day reach the owner: emails listed)
