"""CRM webhooks: a business's endpoints (``endpoints``), the URL rules (``urls``), Standard
Webhooks signatures (``signing``), fan-out and delivery attempts (``delivery``, run by the
``crm_push`` worker) and the one outbound POST (``transport``)."""
