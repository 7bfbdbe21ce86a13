"""Cold start of the SMS code: importing it pulls in no provider SDK; the Twilio REST client is
imported on the first send only, so an ordinary inbound text or a status callback never pays it."""

from __future__ import annotations

from tests.unit.test_import_cost import _imported_after


def test_the_sms_and_consent_library_imports_no_sdk():
    assert _imported_after("import shared.sms, shared.sms.inbound, shared.sms.status, shared.sms.texts, "
                           "shared.sms.timezones, shared.consent, shared.consent.keywords, "
                           "shared.providers.twilio") == []


def test_the_sms_functions_import_no_rest_client_or_other_provider():
    for function in ("sms_inbound", "sms_status"):
        imported = _imported_after(f"import functions.{function}.main")
        assert not [m for m in imported if m.startswith(("twilio.rest", "stripe", "retell", "resend", "intuitlib"))], (
            function, imported)
