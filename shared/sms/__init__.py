"""Texts: the one send gate (:mod:`shared.sms.gate`), inbound handling (:mod:`shared.sms.inbound`),
delivery status (:mod:`shared.sms.status`), quiet hours (:mod:`shared.sms.timezones`) and the
compliance texts (:mod:`shared.sms.texts`).

``from shared.sms import send_sms`` is the only way to send a text. Importing this package does
not import the Twilio SDK; the gate imports it on the first send.
"""

from shared.sms.gate import BlockReason, Purpose, SendResult, send_sms

__all__ = ["BlockReason", "Purpose", "SendResult", "send_sms"]
