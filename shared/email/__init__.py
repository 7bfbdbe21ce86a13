"""Email: notifications to businesses through Resend, and what keeps them honest.

* ``mailer`` -- one notification request -> one email per recipient, sent once (idempotency
  key + delivery log), never to a suppressed address, marketing only with the business's opt-in;
* ``render`` + ``templates/`` -- Jinja2 subjects, HTML (autoescaped) and text parts;
* ``log`` -- ``tenants/{t}/emails/{id}``: status, Resend id, no content, kept one year;
* ``suppression`` -- ``email_suppressions/{sha256(address)}``: hard bounces and complaints;
* ``events`` -- Resend's webhooks (``email_events``) applied to logs and the suppression list;
* ``unsubscribe`` -- signed one-click unsubscribe links (RFC 8058, ``email_unsubscribe``).

Importing this package imports neither Jinja2 nor the Resend SDK.
"""
