"""A text that holds a card number is stored (and forwarded) with the number masked."""

from __future__ import annotations

import json

from shared.pii.cards import find_card_number
from tests.functions.sms.support import inbound_params, signed_post


def test_a_card_number_in_a_text_is_stored_masked(client, settings, business, twilio):
    params = inbound_params("Please charge my card 4111 1111 1111 1111, exp 08/29")
    assert signed_post(client, settings, "sms_inbound", params).status_code == 200
    stored = business.get(f"messages/{params['MessageSid']}")
    assert stored["body"] == "Please charge my card [card ending 1111], exp 08/29"
    from shared.adapters.local.db import database

    queued = [json.loads(body) for target, body in database(settings.z3_data_dir).read("SELECT target, body FROM tasks")
              if target == "notify"]
    assert queued and not find_card_number(queued)
