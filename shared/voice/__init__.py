"""Voice: answering calls (routing rules, IVR, voicemail, forwarding, the Retell AI agent),
call records and recordings.

Import the submodules you need; this package imports nothing so that each function pays only
for what it uses at cold start.
"""
