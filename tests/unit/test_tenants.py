from __future__ import annotations

import pytest

from shared import tenants
from shared.models.tenant import Role, TenantStatus
from shared.phone import InvalidPhoneNumber, normalize_us
from shared.tenants import NumberTaken, SignupRefused, TenantScope


def _acme(store, **kw):
    args = dict(name="Acme Plumbing", contact_name="Ann Owner", contact_email="ann@acme.example",
                time_zone="America/Denver", numbers=["(303) 555-0100"])
    args.update(kw)
    return tenants.create_tenant(store, **args)


@pytest.mark.parametrize("raw", ["(303) 555-0100", "303-555-0100", "+1 303 555 0100", "13035550100", "3035550100"])
def test_us_numbers_normalize_to_e164(raw):
    assert normalize_us(raw) == "+13035550100"


@pytest.mark.parametrize("raw", ["", "12345", "+442071838750", "+33142685300", "not a number", "555-0100", "x" * 100])
def test_non_us_or_invalid_numbers_are_refused(raw):
    with pytest.raises(InvalidPhoneNumber):
        normalize_us(raw)


def test_incoming_number_finds_its_tenant(store):
    acme = _acme(store)
    other = _acme(store, name="Other", contact_email="o@other.example", numbers=["+17205550199"])
    assert tenants.tenant_for_number(store, "+13035550100").id == acme.id
    assert tenants.tenant_for_number(store, "720-555-0199").id == other.id
    assert tenants.tenant_for_number(store, "+13035550111") is None
    assert tenants.tenant_for_number(store, "garbage") is None
    assert tenants.tenant_for_number(store, None) is None


def test_signup_creates_owner_and_is_all_or_nothing(store):
    acme = _acme(store)
    scope = TenantScope(store, acme.id)
    [owner] = tenants.users(scope)
    assert owner.role == Role.owner and owner.email == "ann@acme.example"
    with pytest.raises(NumberTaken):
        _acme(store, name="Copycat", contact_email="c@copy.example")
    with pytest.raises(ValueError):
        _acme(store, name="Same owner", numbers=["+17205550100"])
    assert [t.name for t in tenants.list_tenants(store)] == ["Acme Plumbing"]
    assert tenants.tenant_for_number(store, "+17205550100") is None


@pytest.mark.parametrize("country", ["DE", "FR", "IE", "NO", "CA", "GB"])
def test_signup_outside_the_us_is_refused(store, country):
    with pytest.raises(SignupRefused):
        _acme(store, country=country)
    assert tenants.list_tenants(store) == []


def test_account_believed_in_eu_is_flagged_for_deletion(store):
    acme = _acme(store)
    assert tenants.flag_if_outside_us(store, acme.id, "US") is False
    assert tenants.flag_if_outside_us(store, acme.id, "FR") is True
    flagged = tenants.get_tenant(store, acme.id)
    assert flagged.status == TenantStatus.flagged_for_deletion
    assert "EU/EEA" in flagged.status_reason


def test_unknown_time_zone_is_refused(store):
    with pytest.raises(ValueError):
        _acme(store, time_zone="Mars/Olympus_Mons")


def test_number_assignment_is_idempotent_and_exclusive(store):
    acme = _acme(store)
    other = _acme(store, name="Other", contact_email="o@other.example", numbers=[])
    assert tenants.assign_number(store, acme.id, "303.555.0100") == "+13035550100"
    assert tenants.get_tenant(store, acme.id).numbers == ["+13035550100"]
    with pytest.raises(NumberTaken):
        tenants.assign_number(store, other.id, "+13035550100")
    tenants.release_number(store, acme.id, "+13035550100")
    assert tenants.tenant_for_number(store, "+13035550100") is None
    tenants.assign_number(store, other.id, "+13035550100")
    assert tenants.tenant_for_number(store, "+13035550100").id == other.id


def test_scope_cannot_leave_its_tenant(store):
    acme = _acme(store)
    other = _acme(store, name="Other", contact_email="o@other.example", numbers=[])
    mine, theirs = TenantScope(store, acme.id), TenantScope(store, other.id)
    mine.set("calls/CA1", {"secret": "acme"})
    assert theirs.get("calls/CA1") is None
    for bad in ("../" + other.id + "/calls/CA1", "/tenants/x", "calls//CA1", "calls/./CA1"):
        with pytest.raises(ValueError):
            mine.get(bad)
    with pytest.raises(PermissionError):
        mine.query(theirs.collection("calls"))
    with pytest.raises(ValueError):
        TenantScope(store, "../t")
    assert mine.transaction(lambda tx: tx.get("calls/CA1")) == {"secret": "acme"}


def test_suspend_and_reactivate(store):
    acme = _acme(store)
    assert tenants.set_status(store, acme.id, TenantStatus.suspended, "unpaid").in_service is False
    assert tenants.set_status(store, acme.id, TenantStatus.active).in_service is True


def test_seats_and_numbers_stop_at_the_plan_and_grow_with_it(tmp_path):
    from shared.adapters.local import build_store
    from shared.billing.entitlements import LimitReached
    from shared.config import Settings
    from shared.tenants import add_user, assign_number, create_tenant

    settings = Settings(Z3_BACKEND="local", Z3_DATA_DIR=tmp_path)
    store = build_store(settings)
    create_tenant(store, tenant_id="t_seats", name="Acme", contact_name="Dana", contact_email="dana@acme.example",
                  numbers=["+13035550100"])
    store.set("tenants/t_seats/billing/record", {"tenant_id": "t_seats", "plan": "starter", "status": "active"})
    add_user(store, "t_seats", email="a@acme.example", settings=settings)
    add_user(store, "t_seats", email="b@acme.example", settings=settings)  # owner + 2 = Starter's 3 seats
    with pytest.raises(LimitReached, match="Starter plan includes 3 team seats"):
        add_user(store, "t_seats", email="c@acme.example", settings=settings)
    with pytest.raises(LimitReached, match="includes 1 phone number"):
        assign_number(store, "t_seats", "+13035550101", settings=settings)
    assert assign_number(store, "t_seats", "+13035550100", settings=settings) == "+13035550100"  # idempotent
    store.set("tenants/t_seats/billing/record", {"tenant_id": "t_seats", "plan": "pro", "status": "active"})
    add_user(store, "t_seats", email="c@acme.example", settings=settings)
    assign_number(store, "t_seats", "+13035550101", settings=settings)
    assert len(TenantScope(store, "t_seats").query(TenantScope(store, "t_seats").collection("users"))) == 4
