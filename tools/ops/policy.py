"""``scripts/ops policy announce``: after ``Z3_POLICY_VERSION`` / ``Z3_TERMS_VERSION`` change,
email every owner who has not accepted the current versions (once per owner and version; run it
again whenever you like) -- ``shared.accounts.policy_notice``."""

from __future__ import annotations

import argparse

from shared.accounts import policy, policy_notice
from shared.runtime import Ports
from tools.ops.context import out
from tools.ops.tenants import require_tenant


def announce(args: argparse.Namespace, ports: Ports) -> int:
    tenant_id = require_tenant(ports, args.tenant).id if args.tenant else None
    versions = policy.current(ports.settings)
    done = policy_notice.announce(ports, tenant_id=tenant_id)
    out(f"policy {versions['policy']}, terms {versions['terms']}: {done.emailed} owners emailed, "
        f"{done.already_told} told before, {done.businesses} businesses still to accept")
    return 0
