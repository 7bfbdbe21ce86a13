"""The privacy tests' ports: the contract backend's store and blobs, with Twilio and Retell
sandboxes (reached through the real SDKs) and a clock the tests hold still."""

from __future__ import annotations

import pytest

from shared.ports import FixedClock
from shared.runtime import Ports


@pytest.fixture(scope="module")
def sandboxes():
    from shared.config import Settings
    from tools.sandboxes.retell import RetellSandbox
    from tools.sandboxes.twilio import TwilioSandbox

    with TwilioSandbox.from_settings(Settings(Z3_BACKEND="local"), callbacks="off") as twilio, \
            RetellSandbox() as retell_box:
        yield twilio, retell_box


@pytest.fixture
def erase_ports(ports, sandboxes):
    twilio, retell_box = sandboxes
    twilio.reset()
    retell_box.reset()
    settings = ports.settings.model_copy(update={"twilio_api_base_url": twilio.url, "retell_base_url": retell_box.url,
                                                 "public_base_url": "https://z3.example"})
    return Ports(settings).provide(store=ports.store(), blobs=ports.blobs(), clock=FixedClock(),
                                   tasks=ports.tasks())
