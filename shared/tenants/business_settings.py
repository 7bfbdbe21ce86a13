"""Changing what a business controls (``tenant.settings``): greeting, hours, routing, IVR,
appointment slots, notification recipients, retention, marketing email, service improvement.

Rules this module keeps:

* A change names settings by their dotted path under ``settings`` (``voice.greeting``,
  ``voice.hours``, ``scheduling``) and replaces each named value whole. Only the paths in
  :data:`SETTABLE` can change (an agent id or the voice plan's internals cannot be set here),
  and the fields of the two settable objects, ``voice.ivr.enabled`` or ``scheduling.slot_minutes``
  (:data:`SETTABLE_FIELDS`: what the API's partial document names; the page sends each object whole).
* One transaction over the tenant document: read, validate the *whole* settings with the
  models the voice path parses (``TenantSettings``), write the ``settings`` map. An invalid
  change writes nothing and raises :class:`SettingsInvalid` with one message per field.
* One audit entry (``settings.updated``) naming each changed path with ``{old, new}``;
  a change that changes nothing writes nothing and records nothing.
* It takes effect on the next call: the voice path parses the tenant document it reads on
  every call (``shared.voice.lookup.parsed_tenant`` compares the document, never serves an old
  parse), so there is no cache to invalidate.
* Retention is one of :data:`RETENTION_CHOICES` days, or None for "until deleted"; recordings
  and transcripts share it on the page (two fields in the model for the sweep).
* Notification recipients are user ids of this business; a template left out goes to the
  owners and admins.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError

from shared.accounts import audit
from shared.accounts.errors import InvalidInput, NotFound
from shared.models.tenant import Tenant, TenantSettings
from shared.ports import DocumentStore
from shared.scheduling.settings import SchedulingSettings
from shared.voice.settings import IvrMenu
from shared.tenants import TenantScope

RETENTION_CHOICES: tuple[int | None, ...] = (30, 90, 180, 365, None)
NOTIFICATION_TEMPLATES: dict[str, str] = {
    "call_summary": "Call summaries",
    "new_voicemail": "New voicemail",
    "new_text_message": "New text messages",
}
SETTABLE = frozenset({
    "voice.greeting", "recording_notice",
    "voice.hours", "voice.holidays",
    "voice.open_action", "voice.after_hours_action", "voice.after_hours_forward_to",
    "voice.blocked_numbers", "voice.block_anonymous", "voice.vip_numbers", "voice.vip_forward_to",
    "voice.team", "voice.default_forward_to", "voice.ivr",
    "scheduling",
    "notification_recipients",
    "recording_retention_days", "transcript_retention_days",
    "marketing_email_opt_in", "service_improvement_opt_out",
})
SETTABLE_FIELDS = frozenset({f"voice.ivr.{name}" for name in IvrMenu.model_fields}
                            | {f"scheduling.{name}" for name in SchedulingSettings.model_fields})


class SettingsInvalid(InvalidInput):
    """``errors``: field path (``voice.hours.mon.0.start``) -> what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        field, message = next(iter(errors.items()))
        super().__init__(f"{field}: {message}", field=field)
        self.errors = errors


def _at(doc: dict[str, Any], path: str) -> Any:
    for key in path.split("."):
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc


def _put(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        doc = doc.setdefault(key, {})
    doc[last] = value


def _errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "settings"
        message = error["msg"].removeprefix("Value error, ")
        out.setdefault(field, message)
    return out


def _check_rules(settings: TenantSettings, user_ids: set[str], changed: set[str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for path in ("recording_retention_days", "transcript_retention_days"):
        if path in changed and getattr(settings, path) not in RETENTION_CHOICES:
            errors[path] = "choose 30, 90, 180 or 365 days, or forever"
    if "notification_recipients" in changed:
        for template, users in settings.notification_recipients.items():
            if template not in NOTIFICATION_TEMPLATES:
                errors[f"notification_recipients.{template}"] = "not a notification this business gets"
            elif any(user not in user_ids for user in users):
                errors[f"notification_recipients.{template}"] = "not a member of this business"
    return errors


def update(store: DocumentStore, now: dt.datetime, *, tenant_id: str, actor_user_id: str, changes: dict[str, Any],
           ip: str = "", user_agent: str = "") -> Tenant:
    """Apply ``changes`` (dotted path under ``settings`` -> new value); the updated tenant."""
    unknown = sorted(set(changes) - SETTABLE - SETTABLE_FIELDS)
    if unknown:
        raise SettingsInvalid({path: "this setting cannot be changed here" for path in unknown})
    scope = TenantScope(store, tenant_id)
    user_ids = ({doc.id for doc in scope.query(scope.collection("users"))}
                if "notification_recipients" in changes else set())

    def run(tx) -> tuple[Tenant, dict[str, Any]]:
        current = tx.get(scope.root)
        if current is None:
            raise NotFound()
        tenant = Tenant.from_doc(current)
        before = tenant.settings.to_doc()
        merged = tenant.settings.to_doc()
        for path, value in changes.items():
            _put(merged, path, value)
        try:
            settings = TenantSettings.model_validate(merged)
        except ValidationError as exc:
            raise SettingsInvalid(_errors(exc)) from None
        errors = _check_rules(settings, user_ids, set(changes))
        if errors:
            raise SettingsInvalid(errors)
        after = settings.to_doc()
        # {"old", "new"} maps, not [old, new] pairs: Firestore refuses a list inside a list
        diff = {path: {"old": _at(before, path), "new": _at(after, path)} for path in changes
                if _at(before, path) != _at(after, path)}
        if diff:
            tx.update(scope.root, {"settings": after, "updated_at": now})
        return tenant.model_copy(update={"settings": settings}), diff

    updated, diff = store.transaction(run)
    if diff:
        audit.record(store, now, tenant_id=tenant_id, action="settings.updated", actor_user_id=actor_user_id, ip=ip,
                     user_agent=user_agent, changes=diff)
    return updated
