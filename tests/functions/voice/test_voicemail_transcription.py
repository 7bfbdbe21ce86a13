"""Voicemail transcription: the voicemail's <Record> asks Twilio to transcribe, and Twilio's
signed transcription callback (posted to the URL our TwiML gave) stores the text on the call,
once, searchable; forged callbacks are refused and malformed ones answered 400."""

from __future__ import annotations

from urllib.parse import urlparse

from tests.functions.voice.support import ACCOUNT, call_doc, call_params, follow, new_call_sid, post, set_voice, twiml

TRANSCRIPTION = "TR" + "ab" * 16


def transcription(sid: str, rec: str, text: str = "Hi, this is Maria, my crown came loose, please call back.",
                  status: str = "completed") -> dict[str, str]:
    return {"AccountSid": ACCOUNT, "CallSid": sid, "RecordingSid": rec, "TranscriptionSid": TRANSCRIPTION,
            "TranscriptionStatus": status, "TranscriptionText": text,
            "TranscriptionUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Transcriptions/{TRANSCRIPTION}",
            "RecordingUrl": "https://api.twilio.com/x", "CallStatus": "completed", "From": "+16025550111"}


def record_verb(client, settings, ports):
    set_voice(ports, open_action="voicemail")
    sid = new_call_sid()
    return sid, twiml(post(client, settings, "voice_answer", call_params(sid))).find("Record")


def test_the_voicemail_asks_twilio_to_transcribe_and_the_callback_stores_the_text_once(client, settings, business,
                                                                                        ports):
    sid, record = record_verb(client, settings, ports)
    assert record.get("transcribe") == "true"
    callback = record.get("transcribeCallback")
    assert callback and "event=transcription" in callback
    rec = "RE" + "cd" * 16
    for _ in range(2):
        reply = follow(client, settings, callback, transcription(sid, rec))
        assert reply.status_code == 200, reply.text
    doc = call_doc(ports, sid)
    assert doc["voicemail_transcript"]["text"].startswith("Hi, this is Maria")
    assert doc["voicemail_transcript"]["sid"] == TRANSCRIPTION and "w:crown" in doc["terms"]


def test_a_failed_transcription_is_recorded_without_text(client, settings, business, ports):
    sid, record = record_verb(client, settings, ports)
    follow(client, settings, record.get("transcribeCallback"), transcription(sid, "RE" + "cd" * 16, "", "failed"))
    assert call_doc(ports, sid)["voicemail_transcript"] == {**call_doc(ports, sid)["voicemail_transcript"],
                                                            "status": "failed", "text": None}


def test_a_forged_or_malformed_transcription_callback_is_refused(client, settings, business, ports):
    sid, record = record_verb(client, settings, ports)
    query = urlparse(record.get("transcribeCallback")).query
    forged = post(client, settings, "voice_status", transcription(sid, "RE" + "cd" * 16), query=query,
                  signature="bm90IGEgc2lnbmF0dXJl")
    assert forged.status_code == 403
    bad = follow(client, settings, record.get("transcribeCallback"),
                 {**transcription(sid, "RE" + "cd" * 16), "TranscriptionSid": "TRnope"})
    assert bad.status_code == 400
    assert "voicemail_transcript" not in (call_doc(ports, sid) or {})
