"""The keyword / intent matcher: whole-message keywords, plain-word revocations, OptOutType."""

from __future__ import annotations

import pytest

from shared.consent.keywords import classify, is_plain_revocation, keyword_of


@pytest.mark.parametrize("body", ["STOP", "stop", " Stop ", "STOP.", "stop!!", "StopAll", "UNSUBSCRIBE", "cancel",
                                  "End", "quit", "Revoke", "OPTOUT", "  optout\n", "\"STOP\"", "Stop please",
                                  "please STOP, thanks", "STOP 🛑"])
def test_opt_out_keywords_as_the_whole_message(body):
    intent = classify(body)
    assert intent is not None and intent.kind == "opt_out" and intent.source == "keyword"


@pytest.mark.parametrize("body,kind", [("START", "opt_in"), ("yes", "opt_in"), ("Unstop", "opt_in"), ("Yes!", "opt_in"),
                                       ("HELP", "help"), ("info", "help"), ("Help?", "help"), ("help please", "help")])
def test_opt_in_and_help_keywords(body, kind):
    assert classify(body).kind == kind


@pytest.mark.parametrize("body", [
    "please stop texting me", "Stop texting me!", "stop texting", "STOP SENDING ME TEXTS", "stop messaging me",
    "Don't text me again", "do not text me", "dont text me anymore", "Don’t text me again.",
    "remove me from your list", "Please take me off your texting list", "Remove me from the list, thanks",
    "no more texts", "No more messages please", "No more texts from you", "unsubscribe me", "opt me out", "Opt out",
    "I want to opt out", "I would like to stop receiving these texts", "Who is this? Stop texting me.",
    "stop all", "Stop all messages", "never text me again",
])
def test_plain_word_revocations(body):
    intent = classify(body)
    assert intent is not None and intent.kind == "opt_out", body


@pytest.mark.parametrize("body", [
    "don't stop", "Can you stop by tomorrow?", "stop at the store", "Please don't stop texting me",
    "I can't stop texting my friends about you", "Stop by at 5", "we will stop at noon",
    "Is the plumber going to stop here first?", "The end", "yes I can do Tuesday", "Help me fix my sink",
    "I need info about pricing", "Thanks, see you tomorrow", "start the job at 9", "stopped by earlier",
    "Non-stop leaks in the kitchen", "", "   ", None, "?!", "ok",
    "You don't have to text me again, I'll call", "text me the address",
])
def test_conservative_negatives(body):
    assert classify(body) is None, body


def test_consent_is_never_inferred_from_plain_words():
    for body in ("please text me", "you can text me", "ok to text me", "sure, send me texts"):
        assert classify(body) is None


@pytest.mark.parametrize("opt_out_type,kind", [("STOP", "opt_out"), ("START", "opt_in"), ("HELP", "help"), ("stop", "opt_out")])
def test_twilio_opt_out_type_is_authoritative(opt_out_type, kind):
    # Twilio's Advanced Opt-Out has already classified (its own keyword lists may be customised).
    intent = classify("Arrêt", opt_out_type)
    assert intent.kind == kind and intent.source == "opt_out_type"


def test_unknown_opt_out_type_falls_back_to_the_body():
    assert classify("STOP", "SOMETHING").kind == "opt_out"
    assert classify("hello", "") is None


def test_keyword_of_normalises():
    assert keyword_of(" stop. ") == "STOP"
    assert keyword_of("stop now please") == "STOP"
    assert keyword_of("stop it") is None


def test_long_messages_are_conversations_not_revocations():
    assert not is_plain_revocation("stop texting me. " + "x" * 2000)
