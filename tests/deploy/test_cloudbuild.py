"""cloudbuild.yaml runs its named steps in order, applies only on main with the reviewed plan,
and smoke-tests what it deployed (read as text: no YAML parser among the test requirements)."""

from __future__ import annotations

import re

from tools.wsgi import REPO

TEXT = (REPO / "cloudbuild.yaml").read_text()


def test_the_steps_run_in_order():
    steps = re.findall(r"^  - id: (\w+)$", TEXT, re.M)
    assert steps == ["tools", "lint", "test", "package", "checkov", "plan", "apply", "smoke"]


def test_apply_is_main_only_and_applies_the_saved_plan():
    apply = TEXT.split("- id: apply", 1)[1].split("- id: smoke", 1)[0]
    assert '[ "$BRANCH_NAME" != "main" ]' in apply and "terraform apply -input=false tfplan" in apply
    assert "-auto-approve" not in TEXT


def test_the_tests_must_run_the_emulators_and_the_smoke_test_runs_the_tool():
    assert "Z3_REQUIRE_EMULATORS=1" in TEXT and "scripts/test" in TEXT
    assert "python -m tools.smoke" in TEXT.split("- id: smoke", 1)[1]
