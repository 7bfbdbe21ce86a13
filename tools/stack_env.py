"""How a process is wired to a running stack: the settings that point the provider SDKs at the
stack's sandboxes and the functions' signatures at its URLs.

Shared by the dev stack (``tools.devstack``, which serves the functions and sandboxes) and by
the tools that talk to a running one (``tools.simulate``, the benchmarks), so neither imports
the other.
"""

from __future__ import annotations

import os
from pathlib import Path


def sandbox_settings(base_url: str) -> dict[str, str]:
    """Where the provider SDKs are pointed on the local stack (each sandbox speaks its
    provider's wire format)."""
    from tools.sandboxes.registry import registry

    settings: dict[str, str] = {}
    for name, (setting, _factory) in registry().items():
        # one setting (the sandbox's root), or several: setting -> path below the root
        for key, suffix in ({setting: ""} if isinstance(setting, str) else setting).items():
            settings[key] = f"{base_url}/_sandbox/{name}{suffix}"
    return settings


def configure_environment(base_url: str, data_dir: Path, backend: dict[str, str] | None = None) -> dict[str, str]:
    """Point this process's Settings at the stack: the embedded backend in ``data_dir``, or the
    ``backend`` settings given (``tools.gcp_stack``: the emulated gcp backend)."""
    base = base_url.rstrip("/")
    env = {"Z3_BACKEND": "local", "Z3_DATA_DIR": str(data_dir.resolve()), "PUBLIC_BASE_URL": base,
           **sandbox_settings(base), **(backend or {})}
    # The dev stack is the process's configuration: the functions it hosts read Settings.
    os.environ.update(env)
    from shared.config import reset_settings

    reset_settings()
    return env
