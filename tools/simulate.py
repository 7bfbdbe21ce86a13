"""A simulated day of calls and texts, sent the way the providers send them (HTTP, real
signatures) to a running stack. ``scripts/dev`` plays it after start-up; ``scripts/simulate``
plays it against any running stack::

    scripts/dev --no-demo --port 8080 &
    scripts/simulate --url http://127.0.0.1:8080 --data-dir .z3data

The scenarios read the stack's records through the same backend (``--data-dir`` for a local
stack; the usual settings for an emulated or real project) and rely on the stack's own
dispatcher to deliver queued work. Each scenario prints what happened.

Each capability adds its scenarios to :func:`scenarios` (voice, texts, calendar, QuickBooks, CRM, billing,
email)."""

from __future__ import annotations

from typing import Callable

def scenarios() -> list[Callable]:
    """The day, in order: calls first, then texts, then the business's calendar, QuickBooks and
    CRM, billing, then the emails all of it caused."""
    from tools import (scenarios_ai, scenarios_billing, scenarios_calendar, scenarios_email, scenarios_integrations,
                       scenarios_sms, scenarios_voice)

    return [scenarios_ai.ai_books_an_appointment, *scenarios_voice.ALL, scenarios_ai.ai_transfers_to_a_person,
            scenarios_sms.texts_with_consent, scenarios_calendar.calendar_busy_hour_not_offered,
            *scenarios_integrations.ALL, *scenarios_billing.ALL,
            scenarios_email.notifications_sent]


def play_day(base_url: str, ports, dispatcher, tenant, out: Callable[[str], None]) -> None:
    for scenario in scenarios():
        scenario(base_url, ports, dispatcher, tenant, out)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="scripts/simulate", description="play the simulated day against a stack")
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the stack's PUBLIC_BASE_URL")
    parser.add_argument("--data-dir", type=Path, default=Path(".z3data"), help="a local stack's data directory")
    args = parser.parse_args(argv)

    import requests

    try:
        health = requests.get(f"{args.url.rstrip('/')}/_z3/health", timeout=5)
    except requests.RequestException:
        sys.stderr.write(f"no stack answers at {args.url} (start one with scripts/dev --no-demo)\n")
        return 2
    from tools.stack_env import configure_environment

    # Same wiring as the stack: signatures over its URLs, SDKs pointed at its sandboxes.
    configure_environment(args.url, args.data_dir)
    from shared import runtime
    from tools import demo

    def say(text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    tenant = demo.seed(runtime.current())
    say(f"Simulating a day for {tenant.name} against {args.url} ({len(health.json().get('functions', []))} functions)")
    play_day(args.url.rstrip("/"), runtime.current(), None, tenant, out=say)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
