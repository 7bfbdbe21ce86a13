"""Scheduling: the business's appointment slots and the appointments callers book.

* ``settings``      — :class:`SchedulingSettings` (``tenant.settings.scheduling``), a pure model;
* ``slots``         — pure slot computation and spoken date/time formatting (unit-tested,
                      DST included);
* ``appointments``  — the service: open slots minus booked ones, and transactional booking
                      (``tenants/{t}/appointments/{id}`` + a slot lock
                      ``tenants/{t}/appointment_slots/{start}``).

Google Calendar sync is not part of this yet: availability comes from the weekly windows here
and the appointments booked through Z3 OS only.

Import the submodules you need; this package imports nothing.
"""
