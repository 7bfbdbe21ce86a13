"""The consent ledger's tests (``tests/unit/test_consent_ledger.py``) once per backend: the chain,
its transaction and tamper detection must hold on Firestore exactly as on SQLite."""

from tests.unit.test_consent_ledger import *  # noqa: F401,F403  (collected here with the contract ``ports``)
