"""A caller who reads a card number to the AI agent: the transcript, summary, extracted data and
the message the agent took are stored with the number masked to its last four digits."""

from __future__ import annotations

from shared.pii.cards import find_card_number
from tests.functions.agent.support import analyzed, call_doc, event, start_ai_call, tool

SPOKEN = "My card is four one one one one one one one one one one one one one one one"


def test_a_card_number_read_aloud_is_stored_masked(client, settings, business, ports, retell_sandbox):
    sid, call = start_ai_call(client, settings, retell_sandbox)
    status, _ = tool(client, settings, call, "take_message", name="Jo", message="charge 4242 4242 4242 4242 please")
    assert status == 200
    transcript = [{"role": "agent", "content": "How can I help?", "words": []},
                  {"role": "user", "content": SPOKEN, "words": []}]
    body = analyzed(call, transcript="Agent: How can I help?\nUser: " + SPOKEN, transcript_object=transcript)
    body["call_analysis"]["call_summary"] = "The caller gave card 4111111111111111 to pay."
    body["call_analysis"]["custom_analysis_data"] = {"card": "4111-1111-1111-1111"}
    assert event(client, settings, "call_analyzed", body).status_code == 200
    doc = call_doc(ports, sid)
    assert doc["transcript"][1]["content"] == "My card is [card ending 1111]"
    assert doc["transcript_text"].endswith("User: My card is [card ending 1111]")
    assert doc["summary"] == "The caller gave card [card ending 1111] to pay."
    assert doc["extracted_data"] == {"card": "[card ending 1111]"}
    assert doc["messages_taken"][0]["message"] == "charge [card ending 4242] please"
    assert not find_card_number(doc)
