"""Two businesses with everything the API reads, for the API tests: members of every role,
personal API tokens of every role and scope, a call, a text, a consent history, a contact, audit
entries.

Users get a stand-in password hash (no Argon2 cost): these tests authenticate with tokens; the
CSRF tests sign in through the real form (``conftest.signed_in``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from shared import consent
from shared.accounts import tokens
from shared.contacts import ids
from shared.crm import setup
from shared.integrations import connections
from shared.models.tenant import Role
from shared.privacy import requests
from shared.quickbooks.report import FAILURES
from shared.ports import Query
from shared.scheduling.appointments import Appointment, appointment_id
from shared.scheduling.slots import slot_key
from shared.tenants import TenantScope, add_user, create_tenant
from shared.voice.contacts import save_contact
from shared.web.api import spec
import shared.web.api.v1  # noqa: F401,E402 - fills the registry (spec.OPERATIONS)

ROLES = (Role.owner, Role.admin, Role.staff, Role.viewer)
AUDIO = b"RIFF" + bytes(range(256)) * 8  # the seeded call's recording (its blob exists: links stream it)


@dataclass
class Seeded:
    tenant_id: str
    users: dict[Role, str] = field(default_factory=dict)
    emails: dict[Role, str] = field(default_factory=dict)
    tokens: dict[tuple[Role, str], str] = field(default_factory=dict)
    token_ids: dict[tuple[Role, str], str] = field(default_factory=dict)
    call_sid: str = ""
    recording_sid: str = ""
    message_id: str = ""
    number: str = ""
    number_id: str = ""
    body: str = ""
    customer_name: str = ""
    privacy_request_id: str = ""
    contact_id: str = "A" * 43  # an id no business made (a Seeded built by hand names no contact)
    contact_name: str = ""
    contact_notes: str = ""
    # well-formed but nobody's (the CSRF walk's stand-in values need a path that routes)
    appointment_id: str = "a_" + "0" * 20
    crm_endpoint_id: str = "we_0000000000000000"
    crm_url: str = ""
    quickbooks_realm: str = ""
    failed_appointment_id: str = ""

    def path_value(self, name: str) -> str:
        return {
            "call_sid": self.call_sid,
            "recording_sid": self.recording_sid,
            "user_id": self.users[Role.staff],
            "token_id": self.token_ids[(Role.owner, "write")],
            "number_id": self.number_id,
            "request_id": self.privacy_request_id,
            "contact_id": self.contact_id,
            "appointment_id": self.appointment_id,
            "provider": "quickbooks",  # connected at A only (seed): B's DELETE must be 404
            "endpoint_id": self.crm_endpoint_id,
        }[name]

    def markers(self) -> list[str]:
        """Strings that only this business's data holds: none may reach another business."""
        return [self.tenant_id, self.call_sid, self.recording_sid, self.message_id, self.number, self.number_id,
                self.body, self.contact_id, self.contact_name, self.contact_notes, self.appointment_id,
                self.customer_name,
                *self.users.values(),
                *self.emails.values(), *self.token_ids.values(),
                self.crm_endpoint_id, self.crm_url, self.quickbooks_realm, self.failed_appointment_id]


def pepper(ports) -> str:
    return ports.settings.secret("z3_api_token_pepper")


def connect_quickbooks(ports, tenant_id: str, user_id: str, realm: str) -> None:
    """A QuickBooks connection as a completed flow leaves it (tokens the Intuit sandbox never
    issued: a revoke of them is answered as already revoked)."""
    now = ports.clock().now()
    flow = connections.PendingFlow(tenant_id=tenant_id, provider="quickbooks", user_id=user_id,
                                   binding=connections.operator_binding(), created_at=now, extra={})
    connections.save_connection(ports, flow, connections.Tokens("seeded-access", "seeded-refresh",
                                                                now + dt.timedelta(hours=1)), account_id=realm)


def seed(ports, key: str, number: str, caller: str, *, quickbooks: bool = False) -> Seeded:
    store, now = ports.store(), ports.clock().now()
    tenant = create_tenant(store, name=f"Business {key}", contact_name=f"Owner {key}",
                           contact_email=f"owner@{key}.example", numbers=[number])
    owner = store.query(Query(f"tenants/{tenant.id}/users"))[0]
    store.update(owner.path, {"status": "active", "password_hash": "$argon2id$stand-in", "email_verified_at": now})
    seeded = Seeded(tenant.id, number=caller)
    seeded.users[Role.owner], seeded.emails[Role.owner] = owner.id, f"owner@{key}.example"
    for role in ROLES[1:]:
        email = f"{role.value}@{key}.example"
        seeded.users[role] = add_user(store, tenant.id, email=email, role=role, name=f"{role.value} {key}",
                                      password_hash="$argon2id$stand-in").id
        seeded.emails[role] = email
    for role in ROLES:
        for scope in ("read", "write"):
            made, secret = tokens.create(store, now, pepper(ports), tenant_id=tenant.id, user_id=seeded.users[role],
                                         name=f"{role.value}-{scope}", scope=scope)
            seeded.tokens[(role, scope)], seeded.token_ids[(role, scope)] = secret, made.id
    scope = TenantScope(store, tenant.id)
    seeded.call_sid, seeded.recording_sid = f"CA{key * 32}"[:34], f"RE{key * 32}"[:34]
    recording = ports.blobs().put(f"recordings/{tenant.id}/x.wav", AUDIO, content_type="audio/wav")
    scope.set(f"calls/{seeded.call_sid}", {
        "call_sid": seeded.call_sid, "from": caller, "to": number, "direction": "inbound", "route": "ai",
        "status": "completed", "status_history": [{"status": "completed", "at": now}], "created_at": now,
        "started_at": now, "ended_at": now + dt.timedelta(seconds=42), "duration": 42, "summary": f"summary {key}",
        "transcript": f"Agent: hello from {key}", "recording_notice_played": True,
        "recordings": [{"recording_sid": seeded.recording_sid, "source": "twilio", "blob_path": recording.path,
                        "size": recording.size, "sha256": recording.sha256, "duration": 40.0, "stored_at": now}]})
    seeded.message_id = f"SM{key * 32}"[:34]
    seeded.body = f"text body only {key} wrote"
    scope.set(f"messages/{seeded.message_id}", {
        "id": seeded.message_id, "sid": seeded.message_id, "tenant_id": tenant.id, "direction": "inbound",
        "from": caller, "to": number, "body": seeded.body, "media": [], "created_at": now, "status": "received"})
    consent.record(scope, caller, action="opt_in", method="verbal", disclosure="Reply STOP to opt out.",
                   source_type="call", source_id=seeded.call_sid, now=now)
    seeded.number_id = ids.number_id(scope, caller)
    seeded.contact_name, seeded.contact_notes = f"Casey {key.upper()}-only", f"notes only {key} keeps"
    save_contact(scope, caller, seeded.contact_name, now, notes=seeded.contact_notes, source="dashboard")
    seeded.contact_id = ids.number_id(scope, caller)  # a contact is named by its number's id
    start = (now + dt.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    seeded.customer_name = f"Customer only {key} booked"
    appointment = Appointment(id=appointment_id(f"test:{key}"), start=start, end=start + dt.timedelta(hours=1),
                              time_zone="America/New_York", label=f"the appointment of {key}", slot_key=slot_key(start),
                              customer_name=seeded.customer_name, customer_phone=caller, reason="Checkup",
                              call_sid=seeded.call_sid, booking_key=f"test:{key}", created_at=now)
    scope.set(f"appointments/{appointment.id}", appointment.to_doc())
    scope.set(f"appointment_slots/{appointment.slot_key}", {"appointment_id": appointment.id, "start": start,
                                                            "end": appointment.end, "created_at": now})
    seeded.appointment_id = appointment.id
    seeded.privacy_request_id = requests.create(ports, tenant_id=tenant.id, kind="know", channel="email",
                                                by="ops").id
    # A CRM endpoint on a loopback port nothing listens on (development allows loopback): a test
    # event sent to it fails at once, and the isolation walk never reaches A's.
    seeded.crm_url = f"http://127.0.0.1:9/crm-{key}-hook"
    seeded.crm_endpoint_id = setup.add_endpoint(ports, tenant.id, url=seeded.crm_url, events=["call.completed"],
                                                actor_user_id=owner.id)[0].id
    if quickbooks:
        seeded.quickbooks_realm = "9130" + str(ord(key)) * 4
        connect_quickbooks(ports, tenant.id, owner.id, seeded.quickbooks_realm)
        seeded.failed_appointment_id = f"ap_failed_{key}"
        scope.set(f"{FAILURES}/{seeded.failed_appointment_id}", {
            "kind": "invoice", "status": 400, "code": "6000", "at": now, "appointment_id": seeded.failed_appointment_id})
    return seeded


def world(ports) -> tuple[Seeded, Seeded]:
    """A with QuickBooks connected (and one refused invoice), B without: B's calls with A's
    provider find nothing."""
    return (seed(ports, "a", "+13035550111", "+14155550161", quickbooks=True),
            seed(ports, "b", "+13035550122", "+14155550162"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(ports, tenant_id: str, user_id: str, scope: str = "write") -> dict[str, str]:
    """The Authorization header of a new personal API token of that member."""
    _made, secret = tokens.create(ports.store(), ports.clock().now(), pepper(ports), tenant_id=tenant_id,
                                  user_id=user_id, name=f"test-{scope}", scope=scope)
    return bearer(secret)


def member_token(ports, business, role: Role, scope: str = "write") -> dict[str, str]:
    """A token of a member with ``role`` (the owner's own for owners; another role joins first)."""
    from tests.functions.app.conftest import add_member

    user_id = business.owner_id if role is Role.owner else add_member(
        ports, business, f"{role.value}.{scope}@sunrise.example", role)
    return token_for(ports, business.tenant_id, user_id, scope)


# A valid body for each operation that takes one, and an invalid one (422).
GOOD_BODIES = {
    ("PATCH", "/business"): {"name": "Renamed Dental"},
    ("POST", "/members/invitations"): {"email": "new.person@elsewhere.example", "role": "staff"},
    ("POST", "/tokens"): {"name": "ci", "scope": "read"},
    ("POST", "/billing/checkout"): {"plan": "starter"},
    ("POST", "/privacy-requests"): {"kind": "know"},
    ("POST", "/calls/search"): {"caller": "+14155550161", "q": "hello", "outcome": "answered", "limit": 10},
    # a number nobody opted in: the gate refuses it (422), so no walk ever reaches Twilio
    ("POST", "/messages"): {"to": "+14155550199", "body": "Your order is ready.", "send_id": "api-world-send-0001"},
    ("POST", "/contacts"): {"name": "Noor Haddad", "phone": "+14155550177", "notes": "new"},
    ("POST", "/contacts/search"): {"q": "casey"},
    ("PATCH", "/contacts/{contact_id}"): {"notes": "prefers mornings"},
    ("POST", "/contacts/import"): {"csv": "name,phone\nIra Moss,+14155550178\n"},
    ("POST", "/appointments/{appointment_id}/reschedule"): {"start": "2026-03-03T14:00"},
    ("PATCH", "/settings"): {"voice": {"greeting": "Thanks for calling, how can we help?"}},
    ("POST", "/settings/route-preview"): {"number": "+14155550199", "weekday": "sat", "time": "21:00"},
    ("POST", "/support-requests"): {"topic": "calls", "subject": "A question", "message": "How do I change my hours?"},
    ("POST", "/integrations/connect"): {"provider": "quickbooks"},
    ("PUT", "/integrations/quickbooks/item"): {"item_id": "2", "rate": 95},
    ("POST", "/crm/endpoints"): {"url": "http://127.0.0.1:9/new-hook", "events": ["appointment.booked"]},
    ("PATCH", "/crm/endpoints/{endpoint_id}"): {"enabled": False},
}
BAD_BODIES = {
    ("PATCH", "/business"): {"time_zone": "Mars/Olympus_Mons"},
    ("POST", "/members/invitations"): {"email": "someone@elsewhere.example", "role": "owner"},
    ("POST", "/tokens"): {"name": "ci", "scope": "admin"},
    ("POST", "/billing/checkout"): {"plan": "platinum"},
    ("POST", "/privacy-requests"): {"kind": "sell-my-data"},
    ("POST", "/calls/search"): {"since": "2026-03-01T00:00:00", "route": "martian"},
    ("POST", "/messages"): {"to": "+14155550199", "body": "hello", "send_id": "short"},
    ("POST", "/contacts"): {"name": "", "phone": "+14155550177"},
    ("POST", "/contacts/search"): {"q": "x" * 201},
    ("PATCH", "/contacts/{contact_id}"): {"phone": "+14155550100"},
    ("POST", "/contacts/import"): {"csv": 42},
    ("POST", "/appointments/{appointment_id}/reschedule"): {"start": ""},
    ("PATCH", "/settings"): {"voice": {"hours": {"mon": [{"start": "25:00", "end": "17:00"}]}}},
    ("POST", "/settings/route-preview"): {"weekday": "someday", "time": "21:00"},
    ("POST", "/support-requests"): {"topic": "calls", "subject": "Hi", "message": "short"},
    ("POST", "/integrations/connect"): {"provider": "xero"},
    ("PUT", "/integrations/quickbooks/item"): {"item_id": "2", "rate": -5},
    ("POST", "/crm/endpoints"): {"url": "ftp://127.0.0.1/hook", "events": ["call.completed"]},
    ("PATCH", "/crm/endpoints/{endpoint_id}"): {"events": ["call.dropped"]},
}


def url(op: spec.Operation, values: Seeded) -> str:
    path = op.path
    for name in op.path_params:
        path = path.replace("{" + name + "}", values.path_value(name))
    return "/api/v1" + path


def call(client, op: spec.Operation, values: Seeded, headers: dict[str, str], body=None):
    body = GOOD_BODIES.get((op.method, op.path)) if body is None else body
    return client.open(url(op, values), method=op.method, headers=headers,
                       **({"json": body} if op.body is not None else {}))
