"""What every ``scripts/ops`` command runs against: the settings (``--backend``, ``--data-dir``,
the running dev stack's sandboxes), the ports, and the one error type a command raises.

Rules it keeps:

* a command that reads (everything but ``tenant create``) refuses a local data dir that holds
  no database, instead of creating an empty one and answering "nothing there";
* on the local backend, when ``scripts/dev`` serves the same data dir (``stack.json`` with a live
  pid), the provider endpoints it recorded are used for every provider setting that is not set
  explicitly, so a command that calls Twilio talks to the stack's sandbox, not to Twilio.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from shared import runtime
from shared.config import Settings
from shared.runtime import Ports
from tools.devstack import running_stack

# exit statuses
OK, NOT_FOUND, BAD_INPUT, REFUSED, UNAVAILABLE = 0, 1, 2, 3, 4


class OpsError(Exception):
    """One line for the operator, and the exit status."""

    def __init__(self, message: str, status: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.status = status


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def out_json(data: Any) -> None:
    out(json.dumps(data, default=str, indent=2, ensure_ascii=False))


def _with_stack_endpoints(settings: Settings) -> Settings:
    stack = running_stack(settings.z3_data_dir) if settings.is_local else None
    if not stack:
        return settings
    fields = {(field.alias or name).upper(): name for name, field in Settings.model_fields.items()}
    update = {fields[alias.upper()]: url for alias, url in (stack.get("endpoints") or {}).items()
              if alias.upper() in fields and getattr(settings, fields[alias.upper()]) is None}
    return settings.model_copy(update=update) if update else settings


def open_ports(args: argparse.Namespace) -> tuple[Ports, bool]:
    """The ports for this command, and whether they were built here (then the caller closes them)."""
    overrides = {key: value for key, value in (("Z3_BACKEND", args.backend), ("Z3_DATA_DIR", args.data_dir))
                 if value is not None}
    if overrides:
        base = Settings(**overrides)
        ports, owned = Ports(base), True
    else:
        ports, owned = runtime.current(), False
    settings = _with_stack_endpoints(ports.settings)
    if settings is not ports.settings:
        ports, owned = Ports(settings), True
    if settings.is_local and not getattr(args, "creates", False):
        database = Path(settings.z3_data_dir) / "z3.db"
        if not database.is_file():
            raise OpsError(f"no Z3 database in {Path(settings.z3_data_dir).resolve()} (no z3.db): "
                           "check --data-dir / Z3_DATA_DIR")
    return ports, owned
