"""``scripts/ops``: the operator's command line (``tools.ops.cli``). Uses the same Settings as
the functions, so it works against the embedded backend (default) or a real/emulated project
(``--backend gcp``).

Output is for the operator: a tenant's own contact data is shown (they are the data owner's
operator), but nothing here writes PII to logs."""

from tools.ops.cli import build_parser, main

__all__ = ["build_parser", "main"]
