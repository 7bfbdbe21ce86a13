"""Tenant accounts: who may sign in, how, and what they may do.

One module per job: ``errors`` (the domain errors the web layer maps), ``principal`` (who is
asking), ``permissions`` (the one role -> action table), ``sessions`` (server-side sessions),
``passwords``, ``signup``, ``signin``, ``throttle``, ``reset``, ``team``, ``twofactor``,
``audit``, ``policy``. Nothing here imports Flask or ``shared.http``.
"""
