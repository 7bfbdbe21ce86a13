"""Google Calendar for a business: connect (``connect``), the calendar's busy times on the call
path (``availability``) and our appointments as events in it (``events``). Import the
submodules you need; this package imports nothing."""
