"""FUNCTION_SECRETS (shared/config.py) against the code: a static walk of each function's imports
(every ``import`` in a module, the lazy ones inside functions included) from
``functions/<name>/main.py`` through ``shared``, collecting every secret setting a module names
(``settings.secret("x")``, ``_secret(settings, "x", ...)``, ``settings.x``). The table must list
exactly those: a secret missing from it would be refused at run time (``Settings.secret`` never
hands out a development value), and one too many would be mounted where no code reads it.

An over-approximation by design: a module a function imports but never calls on its path still
counts, so a function may be given a secret it does not use; never one too few."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from shared.config import FUNCTION_SECRETS, Settings

ROOT = Path(__file__).resolve().parents[2]
SECRETS = set(Settings.secret_fields())


def _file(module: str) -> Path | None:
    path = ROOT.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _imports(path: Path, module: str):
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _secrets_named(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and node.value in SECRETS:
            found.add(node.value)
        elif isinstance(node, ast.Attribute) and node.attr in SECRETS:
            found.add(node.attr)
    return found


def modules_reached(function: str) -> dict[str, Path]:
    """Every first-party module ``functions/<function>/main.py`` can import (lazy imports
    included), by dotted name. tests/deploy reads the same walk for the data-plane IAM."""
    seen: dict[str, Path] = {}
    todo = [f"functions.{function}.main"]
    while todo:
        module = todo.pop()
        path = _file(module)
        if module in seen or path is None:
            continue
        seen[module] = path
        parts = module.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # packages run their __init__
        todo.extend(name for name in _imports(path, module) if name.split(".")[0] in ("shared", "functions"))
    return seen


def secrets_read_by(function: str) -> set[str]:
    found: set[str] = set()
    for module, path in modules_reached(function).items():
        if module != "shared.config":
            found |= _secrets_named(path)
    return found


@pytest.mark.parametrize("function", sorted(FUNCTION_SECRETS))
def test_the_table_lists_what_each_function_reads(function):
    assert set(FUNCTION_SECRETS[function]) == secrets_read_by(function)


def test_the_walk_sees_lazy_imports():
    # email_events imports shared.webhooks.resend only inside _verify
    assert "resend_webhook_secret" in secrets_read_by("email_events")
    assert "resend_webhook_secret" not in secrets_read_by("voice_answer")


def test_the_readmes_table_of_secrets_is_the_code_s():
    """README's configuration table (which secret to mount into which function) says what
    ``FUNCTION_SECRETS`` says, optional secrets (no default) marked as such."""
    import re

    from shared.config import FUNCTION_SECRETS, Settings

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme[readme.index("| function | secrets |"):].split("\n\n", 1)[0]
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \| (.*) \|$", table, re.M)}
    assert set(rows) == set(FUNCTION_SECRETS)
    for function, secrets in FUNCTION_SECRETS.items():
        cell = rows[function]
        for name in secrets:
            field = Settings.model_fields[name]
            marked = "optional" in cell and f"`{field.alias}`" in cell.split("optional", 1)[1]
            assert f"`{field.alias}`" in cell, f"{function}: README does not name {field.alias}"
            assert marked == (field.default is None), f"{function}: {field.alias} optional in one place only"
        assert len(re.findall(r"`[A-Z0-9_]+`", cell)) == len(secrets), f"{function}: README names other secrets"
