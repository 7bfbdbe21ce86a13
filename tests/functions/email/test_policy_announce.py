"""``scripts/ops policy announce`` / ``shared.accounts.policy_notice``: after the policy or terms
version changes, every active owner who has not accepted it gets one email, through the notify
worker and the real Resend SDK; running it again sends nothing (even once Cloud Tasks has
forgotten the task names: here every enqueue is delivered), a newer version emails again."""

from __future__ import annotations

from shared.accounts import policy, policy_notice
from shared.models.tenant import Role
from shared.ports import TaskRef
from shared.runtime import Ports
from shared.ports import Query
from shared.tenants import add_user, create_tenant
from tests.functions.email.support import ADMIN, OWNER, post_task, seed_business

SECOND_OWNER = "alex@sunrise.example"
OTHER_OWNER = "owner@harbor.example"


class EveryTask:
    """A queue without name dedup (Cloud Tasks forgets names after about an hour): every
    notify task enqueued is kept, for the test to deliver."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, bytes]] = []

    def enqueue(self, target, body, *, name=None, schedule_time=None, headers=None) -> TaskRef:
        if target == "notify":
            self.bodies.append((name or "", body))
        return TaskRef(name or "", True)


def announce_and_deliver(ports, client, settings) -> policy_notice.Announced:
    queue = EveryTask()
    run_ports = Ports(settings).provide(store=ports.store(), tasks=queue, clock=ports.clock())
    done = policy_notice.announce(run_ports)
    for name, body in queue.bodies:
        assert post_task(client, body, name=name).status_code == 200
    return done


def business(ports, tenant_id: str, email: str) -> str:
    create_tenant(ports.store(), tenant_id=tenant_id, name=f"Business {tenant_id}", contact_name="Owner",
                  contact_email=email, time_zone="America/Denver", numbers=[])
    owner = ports.store().query(Query(f"tenants/{tenant_id}/users"))[0]
    ports.store().update(owner.path, {"status": "active"})
    return owner.id


def test_a_new_policy_version_emails_each_owner_once(client, ports, settings, resend):
    sunrise = seed_business(ports)  # its owner, an admin, staff, a disabled admin
    second = add_user(ports.store(), sunrise.tenant_id, email=SECOND_OWNER, role=Role.owner, name="Alex Rivera")
    ports.store().update(f"tenants/{sunrise.tenant_id}/users/{second.id}", {"status": "active"})
    for user in ports.store().query(sunrise.collection("users")):
        if user.data["role"] == "owner":
            ports.store().update(user.path, {"status": "active"})
    business(ports, "t_harbor", OTHER_OWNER)
    current_owner = business(ports, "t_current", "owner@current.example")
    current = policy.current(settings)
    new = settings.model_copy(update={"z3_policy_version": current["policy"] + "-rev2"})
    for tenant_id in (sunrise.tenant_id, "t_harbor"):  # accepted the old versions at sign-up
        policy.record_acceptance(ports.store(), ports.clock().now(), tenant_id=tenant_id, user_id="u_signup",
                                 ip="127.0.0.1", user_agent="test", settings=settings)
    policy.record_acceptance(ports.store(), ports.clock().now(), tenant_id="t_current", user_id=current_owner,
                             ip="127.0.0.1", user_agent="test", settings=new)  # already accepted the new one

    first = announce_and_deliver(ports, client, new)
    assert (first.emailed, first.businesses) == (3, 2)
    assert sorted(a for e in resend.emails for a in e.to) == sorted([OWNER, SECOND_OWNER, OTHER_OWNER])
    assert not resend.sent_to(ADMIN)  # owners only
    email = resend.sent_to(OWNER)[0]
    assert "privacy policy" in email.subject.lower() and current["policy"] + "-rev2" in email.text
    assert "https://z3.example/app/signin" in email.text

    again = announce_and_deliver(ports, client, new)
    assert (again.emailed, again.already_told) == (0, 3)
    assert len(resend.emails) == 3

    newer = new.model_copy(update={"z3_terms_version": current["terms"] + "-rev2"})
    assert announce_and_deliver(ports, client, newer).emailed == 4  # t_current's owner too, this time
    assert len(resend.emails) == 7
    # the sign-in gate asks each of them (the email only tells them it will)
    assert policy.needs_acceptance(ports.store(), sunrise.tenant_id, newer)
