"""A loopback Intuit: OAuth 2.0 (what intuit-oauth's ``AuthClient`` calls) and the QuickBooks
Online accounting API v3 (JSON), for the real client code pointed at it by configuration
(``INTUIT_DISCOVERY_URL`` = ``<root>/.well-known/openid_configuration``, ``INTUIT_API_BASE_URL``
= ``<root>``).

OAuth, as Intuit answers it:

* ``GET /.well-known/openid_configuration`` -- the discovery document (absolute endpoints below).
* ``GET /connect/oauth2`` -- the consent screen, approved at once: a 302 to ``redirect_uri`` with
  ``code``, ``state`` and ``realmId`` (a new company per ``company=`` query value, default one
  company per client). :meth:`approve` does the same for a test, returning the callback query.
* ``POST /oauth2/v1/tokens/bearer`` (HTTP Basic client id/secret; form) -- ``authorization_code``
  (single use) and ``refresh_token``: a refresh *rotates* the refresh token, and the old one
  answers 400 ``{"error": "invalid_grant"}`` from then on (Intuit's rolling refresh tokens;
  :attr:`refresh_count` counts rotations). Access tokens live ``expires_in`` = 3600 s.
* ``POST /oauth2/v1/tokens/revoke`` (JSON ``{"token"}``) -- revokes the grant (both tokens).

Accounting (``/v3/company/{realmId}/...``, ``Authorization: Bearer``; an unknown or revoked token
-> 401 with Intuit's ``AuthenticationFailed`` fault, a token of another realm -> 403):

* ``GET query?query=select * from Customer|Item|Invoice [where F = 'v' [and ...]]``;
* ``POST customer`` (create; DisplayName must be unique -> 400 fault 6240 "Duplicate Name
  Exists Error"), ``POST customer`` with ``Id``, ``SyncToken`` and ``sparse: true`` (update; a
  SyncToken that is not the current one -> 400 fault 5010 "Stale Object Error");
* ``POST invoice`` (``CustomerRef``, ``Line`` of ``SalesItemLineDetail``; a repeated
  ``requestid`` answers the first invoice again, as Intuit does), ``GET invoice/{id}``;
* ``GET cdc?entities=Customer&changedSince=...`` -- the Change Data Capture envelope.

Failure injection: :meth:`throttle` (the next N accounting calls answer 429 with Intuit's
ThrottleExceeded fault), :meth:`edit_customer` (an edit made inside QuickBooks: SyncToken moves
on), :meth:`revoke_all` (disconnect from inside QuickBooks). Webhooks are signed with
:func:`sign_webhook` (base64 HMAC-SHA256 of the body with the verifier token).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from tools.sandboxes import Sandbox

ACCESS_SECONDS = 3600
REFRESH_SECONDS = 100 * 86400
_COMPANY_PATH = re.compile(r"^/v3/company/(?P<realm>\d+)/(?P<rest>.+)$")
_WHERE = re.compile(r"(\w+(?:\.\w+)?)\s*=\s*'((?:[^']|\\')*)'")


def sign_webhook(verifier_token: str, body: bytes) -> str:
    """The ``intuit-signature`` header Intuit sends with ``body``."""
    return base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class Company:
    realm_id: str
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 100


def _fault(code: str, message: str, status: int = 400, kind: str = "ValidationFault") -> Response:
    return Sandbox.json({"Fault": {"Error": [{"Message": message, "Detail": message, "code": code}], "type": kind},
                         "time": _now()}, status)


class IntuitSandbox(Sandbox):
    name = "intuit"

    def __init__(self, client_id: str, client_secret: str) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Forget every company, code and token (tests share one sandbox on one port)."""
        self.companies: dict[str, Company] = {}
        self._company_by_name: dict[str, str] = {}
        self._codes: dict[str, tuple[str, str]] = {}  # code -> (realm, redirect_uri)
        self._access: dict[str, str] = {}  # access token -> realm
        self._refresh: dict[str, str] = {}  # live refresh token -> realm
        self._grant_of: dict[str, str] = {}  # any token -> grant id
        self.refresh_count = 0
        self._races: set[tuple[str, str]] = set()
        self._request_ids: dict[str, Any] = {}  # requestid -> the first answer (Intuit's idempotency)
        self.revoked: list[str] = []  # realms whose grant was revoked
        self._throttle = 0
        self.requests: list[tuple[str, str]] = []  # (method, path) of accounting calls

    @classmethod
    def from_settings(cls, settings: Any) -> "IntuitSandbox":
        return cls(settings.intuit_client_id, settings.secret("intuit_client_secret"))

    # --- test controls --------------------------------------------------------------------------

    def company(self, name: str = "default") -> Company:
        with self._lock:
            realm = self._company_by_name.get(name)
            if realm is None:
                realm = str(9130000000000000 + len(self.companies) * 1111 + 1)
                self._company_by_name[name] = realm
                company = self.companies[realm] = Company(realm)
                company.items["1"] = {"Id": "1", "Name": "Services", "Type": "Service", "UnitPrice": 0,
                                      "SyncToken": "0", "Active": True}
                company.items["2"] = {"Id": "2", "Name": "Consultation", "Type": "Service", "UnitPrice": 85,
                                      "SyncToken": "0", "Active": True}
            return self.companies[realm]

    def approve(self, authorize_url: str, *, company: str = "default") -> dict[str, str]:
        """What the browser brings back to ``redirect_uri`` after the user clicks Connect."""
        from urllib.parse import parse_qs, urlsplit

        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        realm = self.company(company).realm_id
        code = "AB11" + secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = (realm, query["redirect_uri"])
        return {"code": code, "state": query["state"], "realmId": realm}

    def throttle(self, times: int = 1) -> None:
        with self._lock:
            self._throttle = times

    def edit_customer(self, realm_id: str, customer_id: str, **changes: Any) -> dict[str, Any]:
        with self._lock:
            customer = self.companies[realm_id].customers[customer_id]
            customer.update(changes)
            self._bump(customer)
            return dict(customer)

    def race_next_update(self, realm_id: str, customer_id: str) -> None:
        """Someone edits this customer inside QuickBooks just before our next update lands."""
        with self._lock:
            self._races.add((realm_id, customer_id))

    def revoke_all(self, realm_id: str) -> None:
        with self._lock:
            for table in (self._access, self._refresh):
                for token in [t for t, r in table.items() if r == realm_id]:
                    del table[token]
            self.revoked.append(realm_id)

    def live_refresh_tokens(self) -> int:
        with self._lock:
            return len(self._refresh)

    # --- the app ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = request.path
        if path.rstrip("/") == "/.well-known/openid_configuration":
            root = request.url_root.rstrip("/")
            return self.json({"issuer": "https://oauth.platform.intuit.com/op/v1",
                              "authorization_endpoint": f"{root}/connect/oauth2",
                              "token_endpoint": f"{root}/oauth2/v1/tokens/bearer",
                              "revocation_endpoint": f"{root}/oauth2/v1/tokens/revoke",
                              "userinfo_endpoint": f"{root}/v1/openid_connect/userinfo",
                              "jwks_uri": f"{root}/op/v1/jwks"})
        if path == "/connect/oauth2":
            return self._authorize(request)
        if path == "/oauth2/v1/tokens/bearer" and request.method == "POST":
            return self._token(request)
        if path == "/oauth2/v1/tokens/revoke" and request.method == "POST":
            return self._revoke(request)
        match = _COMPANY_PATH.match(path)
        if match:
            return self._accounting(request, match.group("realm"), match.group("rest"))
        return self.json({"error": "not found"}, 404)

    def _authorize(self, request: Request) -> Response:
        args = request.args
        if args.get("client_id") != self.client_id or args.get("response_type") != "code":
            return Response("invalid client or response type", 400)
        query = self.approve(request.url, company=args.get("company", "default"))
        return Response(status=302, headers={"Location": f"{args['redirect_uri']}?{urlencode(query)}"})

    def _client_ok(self, request: Request) -> bool:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return False
        return hmac.compare_digest(user, self.client_id) and hmac.compare_digest(password, self.client_secret)

    def _issue(self, realm: str, grant: str) -> dict[str, Any]:
        access, refresh = "eyJ" + secrets.token_urlsafe(32), "RT1-" + secrets.token_urlsafe(32)
        self._access[access] = realm
        self._refresh[refresh] = realm
        self._grant_of[access] = self._grant_of[refresh] = grant
        return {"token_type": "bearer", "access_token": access, "refresh_token": refresh, "expires_in": ACCESS_SECONDS,
                "x_refresh_token_expires_in": REFRESH_SECONDS}

    def _token(self, request: Request) -> Response:
        if not self._client_ok(request):
            return self.json({"error": "invalid_client"}, 401)
        form = request.form
        with self._lock:
            if form.get("grant_type") == "authorization_code":
                entry = self._codes.pop(form.get("code", ""), None)
                if entry is None or entry[1] != form.get("redirect_uri"):
                    return self.json({"error": "invalid_grant"}, 400)
                return self.json(self._issue(entry[0], secrets.token_hex(8)))
            if form.get("grant_type") == "refresh_token":
                old = form.get("refresh_token", "")
                realm = self._refresh.pop(old, None)
                if realm is None:
                    return self.json({"error": "invalid_grant"}, 400)
                grant = self._grant_of[old]
                for token in [t for t, g in self._grant_of.items() if g == grant and t in self._access]:
                    del self._access[token]
                self.refresh_count += 1
                return self.json(self._issue(realm, grant))
        return self.json({"error": "unsupported_grant_type"}, 400)

    def _revoke(self, request: Request) -> Response:
        if not self._client_ok(request):
            return self.json({"error": "invalid_client"}, 401)
        token = (request.get_json(silent=True) or {}).get("token", "")
        with self._lock:
            grant = self._grant_of.get(token)
            if grant is None:
                return self.json({"error": "invalid_token"}, 400)
            realm = None
            for table in (self._access, self._refresh):
                for other in [t for t in table if self._grant_of.get(t) == grant]:
                    realm = table.pop(other)
            if realm:
                self.revoked.append(realm)
        return Response(status=200)

    # --- accounting -------------------------------------------------------------------------------

    def _accounting(self, request: Request, realm: str, rest: str) -> Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        with self._lock:
            self.requests.append((request.method, rest))
            owner = self._access.get(token)
            if owner is None:
                return _fault("3200", "AuthenticationFailed", 401, "AUTHENTICATION")
            if owner != realm or realm not in self.companies:
                return _fault("3100", "ApplicationAuthorizationFailed", 403, "AUTHORIZATION")
            if self._throttle > 0:
                self._throttle -= 1
                return _fault("003001", "ThrottleExceeded", 429, "SERVICE")
            company = self.companies[realm]
            if rest == "query" and request.method == "GET":
                return self._query(company, request.args.get("query", ""))
            if rest == "customer" and request.method == "POST":
                return self._save_customer(company, request.get_json(silent=True) or {})
            if rest == "invoice" and request.method == "POST":
                request_id = request.args.get("requestid")
                if request_id and request_id in self._request_ids:
                    return self.json(self._request_ids[request_id])
                response = self._create_invoice(company, request.get_json(silent=True) or {})
                if request_id and response.status_code == 200:
                    self._request_ids[request_id] = json.loads(response.get_data())
                return response
            if rest.startswith("invoice/") and request.method == "GET":
                invoice = company.invoices.get(rest.split("/", 1)[1])
                return self.json({"Invoice": invoice, "time": _now()}) if invoice else _fault("610", "Object Not Found")
            if rest.startswith("customer/") and request.method == "GET":
                customer = company.customers.get(rest.split("/", 1)[1])
                return self.json({"Customer": customer, "time": _now()}) if customer else _fault("610", "Object Not Found")
            if rest == "cdc" and request.method == "GET":
                return self._cdc(company, request.args)
        return _fault("4000", "Unsupported Operation")

    def _id(self, company: Company) -> str:
        company.next_id += 1
        return str(company.next_id)

    @staticmethod
    def _bump(entity: dict[str, Any]) -> None:
        entity["SyncToken"] = str(int(entity["SyncToken"]) + 1)
        entity["MetaData"] = {**entity.get("MetaData", {}), "LastUpdatedTime": _now()}

    def _query(self, company: Company, statement: str) -> Response:
        match = re.match(r"(?i)^\s*select \* from (\w+)(?: where (.*?))?(?: maxresults \d+)?\s*$", statement)
        if not match:
            return _fault("4000", "QueryParserError")
        entity = match.group(1).capitalize()
        table = {"Customer": company.customers, "Item": company.items, "Invoice": company.invoices}.get(entity)
        if table is None:
            return _fault("4000", "QueryParserError")
        conditions = [(name, value.replace("\\'", "'")) for name, value in _WHERE.findall(match.group(2) or "")]
        rows = [row for row in table.values() if all(_field(row, name) == value for name, value in conditions)]
        return self.json({"QueryResponse": {entity: rows, "startPosition": 1, "maxResults": len(rows)} if rows else {},
                          "time": _now()})

    def _save_customer(self, company: Company, body: dict[str, Any]) -> Response:
        name = body.get("DisplayName")
        if "Id" in body:
            customer = company.customers.get(str(body["Id"]))
            if customer is None:
                return _fault("610", "Object Not Found")
            if (company.realm_id, customer["Id"]) in self._races:
                self._races.discard((company.realm_id, customer["Id"]))
                customer["Notes"] = "edited in QuickBooks"
                self._bump(customer)
            if str(body.get("SyncToken")) != customer["SyncToken"]:
                return _fault("5010", "Stale Object Error : You and another user were working on the same thing.")
            if not body.get("sparse"):
                return _fault("2020", "Required param missing: a full update needs every field (use sparse)")
            if name and any(c["DisplayName"] == name and c["Id"] != customer["Id"] for c in company.customers.values()):
                return _fault("6240", "Duplicate Name Exists Error")
            customer.update({k: v for k, v in body.items() if k not in ("Id", "SyncToken", "sparse")})
            self._bump(customer)
            return self.json({"Customer": customer, "time": _now()})
        if not name:
            return _fault("2020", "Required param missing: DisplayName")
        if any(c["DisplayName"] == name for c in company.customers.values()):
            return _fault("6240", "Duplicate Name Exists Error")
        customer = {**body, "Id": self._id(company), "SyncToken": "0", "Active": True,
                    "MetaData": {"CreateTime": _now(), "LastUpdatedTime": _now()}}
        company.customers[customer["Id"]] = customer
        return self.json({"Customer": customer, "time": _now()})

    def _create_invoice(self, company: Company, body: dict[str, Any]) -> Response:
        customer_id = str((body.get("CustomerRef") or {}).get("value", ""))
        lines = body.get("Line") or []
        if customer_id not in company.customers or not lines:
            return _fault("2020", "Required param missing: CustomerRef and Line")
        total = 0.0
        for line in lines:
            item = str(((line.get("SalesItemLineDetail") or {}).get("ItemRef") or {}).get("value", ""))
            if item not in company.items:
                return _fault("2500", "Invalid Reference Id: Item")
            total += float(line.get("Amount", 0))
        invoice = {**body, "Id": self._id(company), "SyncToken": "0", "TotalAmt": round(total, 2),
                   "DocNumber": str(1000 + len(company.invoices) + 1), "MetaData": {"CreateTime": _now()}}
        company.invoices[invoice["Id"]] = invoice
        return self.json({"Invoice": invoice, "time": _now()})

    def _cdc(self, company: Company, args: Any) -> Response:
        since = args.get("changedSince", "")
        entities = [e.strip().capitalize() for e in args.get("entities", "").split(",") if e.strip()]
        responses = []
        for entity in entities:
            table = {"Customer": company.customers, "Invoice": company.invoices, "Item": company.items}.get(entity, {})
            changed = [row for row in table.values() if row.get("MetaData", {}).get("LastUpdatedTime", "") >= since]
            responses.append({entity: changed} if changed else {})
        return self.json({"CDCResponse": [{"QueryResponse": responses}], "time": _now()})


def _field(row: dict[str, Any], name: str) -> Any:
    value: Any = row
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value if not isinstance(value, (int, float)) else str(value)
