"""Scheduling: the business's appointment slots and the appointments callers book.

* ``settings``      — :class:`SchedulingSettings` (``tenant.settings.scheduling``), a pure model;
* ``slots``         — pure slot computation and spoken date/time formatting (unit-tested,
                      DST included);
* ``appointments``  — the service: open slots minus booked ones, and transactional booking
                      (``tenants/{t}/appointments/{id}`` + a slot lock
                      ``tenants/{t}/appointment_slots/{start}``); ``cancel`` and
                      ``reschedule`` free or move the slot lock.

The business's Google Calendar (``shared.calendar``) is passed in as ``also_busy`` intervals:
availability is the weekly windows minus our appointments minus the calendar's busy times.

Import the submodules you need; this package imports nothing.
"""
