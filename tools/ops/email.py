"""``scripts/ops email show|lift``: the email suppression list (a hard bounce, a spam complaint).
A complaint is the recipient's "do not email me": it is lifted only with --recipient-asked."""

from __future__ import annotations

import argparse

from pydantic import EmailStr, TypeAdapter, ValidationError

from shared.email import suppression
from shared.runtime import Ports
from tools.ops.context import REFUSED, OpsError, out, out_json

_ADDRESS = TypeAdapter(EmailStr)


def email_address(raw: str) -> str:
    try:
        return _ADDRESS.validate_python(raw.strip())
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("value is not a valid email address: ")
        raise OpsError(f"{raw!r} is not an email address ({reason})") from None


def show(args: argparse.Namespace, ports: Ports) -> int:
    address = email_address(args.email)
    held = suppression.check(ports.store(), address, ports.clock().now())
    if args.json:
        out_json({"email": address, "suppressed": held is not None,
                  **({"reason": held.reason, "since": held.at, "until": held.expire_at} if held else {})})
        return 0
    out(f"suppressed: {held.reason} since {held.at:%Y-%m-%d}, until {held.expire_at:%Y-%m-%d}" if held
        else "not suppressed")
    return 0


def lift(args: argparse.Namespace, ports: Ports) -> int:
    """Exit status 0 lifted / nothing to lift, 3 refused."""
    address = email_address(args.email)
    store = ports.store()
    held = suppression.check(store, address, ports.clock().now())
    if held is None:
        out("not suppressed: nothing to lift")
        return 0
    out(f"suppressed: {held.reason} since {held.at:%Y-%m-%d}, until {held.expire_at:%Y-%m-%d}")
    if held.reason == suppression.SuppressionReason.complained.value and not args.recipient_asked:
        raise OpsError("refused: the recipient complained; lift it only when they asked (--recipient-asked)", REFUSED)
    suppression.lift(store, address)
    out("lifted: the mailer sends to this address again")
    return 0
