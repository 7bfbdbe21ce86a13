"""The billing emails (dunning and notices), through the one notify path and the
``billing_notice`` template. Each is queued once per fact (its ``dedup_key``): a duplicated or
replayed Stripe event never sends a second email."""

from __future__ import annotations

from typing import Any, Literal

from shared.notifications import notify_business

Kind = Literal["payment_failed", "action_required", "trial_ending", "card_expiring", "suspended", "restored"]

SUBJECTS: dict[str, str] = {
    "payment_failed": "Your payment did not go through",
    "action_required": "Your bank needs you to confirm a payment",
    "trial_ending": "Your free trial ends in 3 days",
    "card_expiring": "Your card expires this month",
    "suspended": "Your Z3 OS service is paused for an unpaid invoice",
    "restored": "Your Z3 OS service is back on",
}
DETAILS: dict[str, str] = {
    "payment_failed": "We could not charge your card for your Z3 OS invoice. Your service continues for now; "
                      "please pay the invoice or update your card so your calls keep being answered.",
    "action_required": "Your bank asks you to confirm the payment of your Z3 OS invoice (3-D Secure). "
                       "Open the invoice to confirm it.",
    "trial_ending": "Your free trial of Z3 OS ends in 3 days. Your plan then starts with the card on file; "
                    "change or cancel it from the billing page.",
    "card_expiring": "The card we charge for Z3 OS expires at the end of this month. Update it so your next "
                     "payment goes through.",
    "suspended": "Your invoice is still unpaid, so we paused your service: callers reach voicemail and we "
                 "stopped texting them. Pay the invoice and service returns at once.",
    "restored": "Thank you: your payment went through and your service is running again.",
}


def send(ports: Any, tenant_id: str, kind: Kind, dedup_key: str, **context: Any) -> bool:
    return notify_business(ports, tenant_id=tenant_id, template="billing_notice", dedup_key=f"billing:{dedup_key}",
                           context={"kind": kind, "heading": SUBJECTS[kind], "details": DETAILS[kind], **context})
