"""Our bookings into the business's QuickBooks Online company: callers become Customers,
completed appointments become Invoices.

What we keep (the policy: QuickBooks ids and sync timestamps, nothing shared across customers),
all under the tenant:

* on the contact (``contacts/{e164}``): ``quickbooks = {customer_id, sync_token, synced_at}``;
* ``quickbooks_customers/{customer_id}`` -> ``{phone}``: which contact a QuickBooks customer is
  (the webhook's changed customers find their contact through it);
* ``quickbooks_invoices/{appointment_id}`` -> ``{invoice_id, customer_id, synced_at}``.

Rules:

* **Customer**: matched by our stored id (re-read, so an edit in QuickBooks is not overwritten),
  else by email (when the contact has one), else by an exact DisplayName whose phone is the
  caller's; otherwise created with a DisplayName made unique (``Name (…0142)``, then
  ``Name (…0142) 2`` ...: QuickBooks refuses duplicate names, fault 6240).
* **Updates are sparse** with the current ``SyncToken``; a stale token (fault 5010) re-reads the
  customer and retries once.
* **Invoice**: one per appointment, after it ended, one line of the business's service item
  (``details.item_id``, ``details.rate`` on the connection; default the item named
  "Services" at its own price); created with Intuit's ``requestid`` (the appointment id), so a
  retried task never bills twice even if we crashed before writing the invoice id down.
* **Rate limits**: a 429 or throttling fault is retried here after a short backoff
  (:data:`BACKOFF`, or Intuit's ``Retry-After`` when shorter than the last step), then raised
  (``IntuitUnavailable``: the task retries with the queue's backoff).
* Everything else raises: the worker turns a permanent refusal into a report to the business
  (:class:`SyncRefused`).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Callable

from shared.ports import Ports
from shared.providers import intuit
from shared.quickbooks import connect
from shared.quickbooks.tasks import SyncRequest
from shared.scheduling.appointments import APPOINTMENTS, Appointment
from shared.tenants import TenantScope
from shared.voice.contacts import contact_path, lookup_contact

BACKOFF = (0.5, 1.0, 2.0)
CUSTOMERS = "quickbooks_customers"
INVOICES = "quickbooks_invoices"


class SyncRefused(Exception):
    """QuickBooks refused this object for good (validation, a deleted item ...)."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"quickbooks refused the sync: {status} {code}")
        self.status, self.code = status, code


def with_backoff(fn: Callable[[], Any], sleep: Callable[[float], None]) -> Any:
    for pause in (*BACKOFF, None):
        try:
            return fn()
        except intuit.IntuitUnavailable as exc:
            if pause is None or not exc.throttled:
                raise
            sleep(min(pause, exc.retry_after) if exc.retry_after else pause)
    raise AssertionError("unreachable")


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _customer_body(name: str, phone: str | None, email: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"DisplayName": name[:100]}
    if phone:
        body["PrimaryPhone"] = {"FreeFormNumber": phone}
    if email:
        body["PrimaryEmailAddr"] = {"Address": email}
    return body


def _find(api: intuit.Accounting, name: str, phone: str | None, email: str | None) -> dict[str, Any] | None:
    if email:
        found = api.query(f"select * from Customer where PrimaryEmailAddr = '{_quote(email)}'")
        if found:
            return found[0]
    if phone:
        for display_name in list(_unique_names(name, phone))[:2]:  # "Name", then "Name (…0142)"
            for candidate in api.query(f"select * from Customer where DisplayName = '{_quote(display_name[:100])}'"):
                if (candidate.get("PrimaryPhone") or {}).get("FreeFormNumber") == phone:
                    return candidate
    return None


def _unique_names(name: str, phone: str | None):
    yield name
    tagged = f"{name} (…{phone[-4:]})" if phone else name
    if tagged != name:
        yield tagged
    for n in range(2, 50):
        yield f"{tagged} {n}"


def _create(api: intuit.Accounting, name: str, phone: str | None, email: str | None) -> dict[str, Any]:
    for candidate in _unique_names(name, phone):
        try:
            return api.request("POST", "customer", json_body=_customer_body(candidate, phone, email))["Customer"]
        except intuit.IntuitError as exc:
            if exc.code != "6240":  # Duplicate Name Exists
                raise
    raise SyncRefused(400, "6240")


def _sparse_update(api: intuit.Accounting, customer: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A sparse update with the current SyncToken; a stale one re-reads and retries once."""
    for attempt in (1, 2):
        body = {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True, **changes}
        try:
            return api.request("POST", "customer", json_body=body)["Customer"]
        except intuit.IntuitError as exc:
            if not exc.stale or attempt == 2:
                raise
            customer = api.request("GET", f"customer/{customer['Id']}")["Customer"]
    raise AssertionError("unreachable")


def sync_customer(ports: Ports, tenant_id: str, appointment: Appointment, *,
                  sleep: Callable[[float], None] = time.sleep) -> str:
    """The QuickBooks customer id of the appointment's caller (found, updated or created)."""
    scope = TenantScope(ports.store(), tenant_id)
    phone = appointment.customer_phone
    contact = lookup_contact(scope, phone) or {}
    name = (appointment.customer_name or contact.get("name") or "").strip() or "Caller"
    email = contact.get("email")
    stored = (contact.get("quickbooks") or {}).get("customer_id")

    def run(api: intuit.Accounting) -> dict[str, Any]:
        customer = None
        if stored:
            try:
                customer = api.request("GET", f"customer/{stored}")["Customer"]
            except intuit.IntuitError as exc:
                if exc.status not in (400, 404):
                    raise
        customer = customer or _find(api, name, phone, email)
        if customer is None:
            return _create(api, name, phone, email)
        if phone and not (customer.get("PrimaryPhone") or {}).get("FreeFormNumber"):
            customer = _sparse_update(api, customer, {"PrimaryPhone": {"FreeFormNumber": phone}})
        return customer

    customer = with_backoff(lambda: connect.call(ports, tenant_id, run), sleep)
    now = ports.clock().now()
    if phone:
        scope.set(contact_path(phone), {"phone": phone, "quickbooks": {
            "customer_id": customer["Id"], "sync_token": customer["SyncToken"], "synced_at": now}}, merge=True)
        if not contact.get("name"):
            scope.set(contact_path(phone), {"name": name}, merge=True)
        scope.set(f"{CUSTOMERS}/{customer['Id']}", {"phone": phone, "synced_at": now})
    return customer["Id"]


def _item(api: intuit.Accounting, details: dict[str, Any]) -> tuple[str, float]:
    if details.get("item_id"):
        return str(details["item_id"]), float(details.get("rate") or 0)
    items = api.query("select * from Item where Name = 'Services'")
    if not items:
        raise SyncRefused(400, "no service item: set one in Settings, Integrations")
    return items[0]["Id"], float(details.get("rate") or items[0].get("UnitPrice") or 0)


def sync_invoice(ports: Ports, tenant_id: str, appointment: Appointment, *,
                 sleep: Callable[[float], None] = time.sleep) -> str | None:
    """The invoice of a completed appointment (None: not completed). Once per appointment."""
    scope = TenantScope(ports.store(), tenant_id)
    done = scope.get(f"{INVOICES}/{appointment.id}")
    if done is not None:
        return done["invoice_id"]
    if appointment.status != "booked" or appointment.end > ports.clock().now():
        return None
    customer_id = sync_customer(ports, tenant_id, appointment, sleep=sleep)
    details = connect.connections.live(ports, tenant_id, connect.PROVIDER).get("details") or {}
    request_id = hashlib.sha256(f"{tenant_id}:{appointment.id}".encode()).hexdigest()[:36]

    def run(api: intuit.Accounting) -> dict[str, Any]:
        item_id, rate = _item(api, details)
        body = {"CustomerRef": {"value": customer_id}, "TxnDate": appointment.start.date().isoformat(),
                "Line": [{"Amount": round(rate, 2), "DetailType": "SalesItemLineDetail",
                          "Description": appointment.reason[:400] or appointment.label,
                          "SalesItemLineDetail": {"ItemRef": {"value": item_id}, "Qty": 1, "UnitPrice": rate,
                                                  "ServiceDate": appointment.start.date().isoformat()}}]}
        return api.request("POST", "invoice", params={"requestid": request_id}, json_body=body)["Invoice"]

    invoice = with_backoff(lambda: connect.call(ports, tenant_id, run), sleep)
    scope.set(f"{INVOICES}/{appointment.id}", {"invoice_id": invoice["Id"], "customer_id": customer_id,
                                               "synced_at": ports.clock().now()})
    return invoice["Id"]


def run_task(ports: Ports, request: SyncRequest, *, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """One customer or invoice task (a ``changes`` task is ``shared.quickbooks.changes``).
    ``NotConnected`` / an unknown appointment -> nothing to do; Intuit refusing
    for good -> :class:`SyncRefused`; down or throttled -> raises (retry)."""
    if request.kind == "changes":
        raise ValueError("a changes task is shared.quickbooks.changes.pull_changes")
    scope = TenantScope(ports.store(), request.tenant_id)
    if not request.appointment_id:
        return {"result": "no such appointment"}
    data = scope.get(f"{APPOINTMENTS}/{request.appointment_id}")
    if data is None:
        return {"result": "no such appointment"}
    appointment = Appointment.from_doc(data)
    try:
        if request.kind == "customer":
            return {"result": "synced", "customer_id": sync_customer(ports, request.tenant_id, appointment, sleep=sleep)}
        invoice = sync_invoice(ports, request.tenant_id, appointment, sleep=sleep)
    except intuit.IntuitError as exc:
        raise SyncRefused(exc.status, exc.code) from None
    return {"result": "synced" if invoice else "not completed", "invoice_id": invoice}
