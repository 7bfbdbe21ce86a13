"""``scripts/ops email show|lift``: an operator sees and lifts an address's suppression; a spam
complaint is lifted only when the recipient asked."""

from __future__ import annotations

import pytest

from shared import runtime
from shared.email import suppression
from shared.email.suppression import SuppressionReason
from tools import ops


@pytest.fixture
def store(ports):
    runtime.use(ports)
    yield ports.store()
    runtime.reset()


def test_a_bounce_is_shown_then_lifted(store, ports, capsys):
    suppression.suppress(store, "Owner@Sunrise.example", SuppressionReason.bounced, ports.clock().now())
    assert ops.main(["email", "show", "--email", "owner@sunrise.example"]) == 0
    assert "suppressed: bounced" in capsys.readouterr().out
    assert ops.main(["email", "lift", "--email", "owner@sunrise.example"]) == 0
    assert "lifted" in capsys.readouterr().out
    assert suppression.check(store, "owner@sunrise.example", ports.clock().now()) is None
    assert ops.main(["email", "show", "--email", "owner@sunrise.example"]) == 0
    assert "not suppressed" in capsys.readouterr().out


def test_a_complaint_is_lifted_only_when_the_recipient_asked(store, ports, capsys):
    suppression.suppress(store, "owner@sunrise.example", SuppressionReason.complained, ports.clock().now())
    assert ops.main(["email", "lift", "--email", "owner@sunrise.example"]) == 3
    assert "error: refused: the recipient complained" in capsys.readouterr().err
    assert suppression.check(store, "owner@sunrise.example", ports.clock().now()) is not None
    assert ops.main(["email", "lift", "--email", "owner@sunrise.example", "--recipient-asked"]) == 0
    assert suppression.check(store, "owner@sunrise.example", ports.clock().now()) is None
