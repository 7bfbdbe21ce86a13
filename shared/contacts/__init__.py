"""Contacts: the address book people manage (``book``) and the opaque number ids (``ids``)."""
