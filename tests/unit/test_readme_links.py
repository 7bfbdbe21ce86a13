"""Every relative link and image in the README points at a file in the repo (the screenshots
under docs/screenshots/, the policy, scripts): a moved file breaks this test, not the page."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _relative_targets(text: str) -> set[str]:
    found = set(re.findall(r"\]\(([^)\s]+)\)", text)) | set(re.findall(r'<img[^>]*\ssrc="([^"]+)"', text))
    return {t.split("#")[0] for t in found if not re.match(r"^[a-z]+:", t) and not t.startswith("#")}


def test_the_readmes_relative_links_and_images_exist():
    targets = _relative_targets((REPO / "README.md").read_text())
    assert "docs/screenshots/overview-1280.png" in targets
    missing = sorted(t for t in targets if t and not (REPO / t).exists())
    assert missing == []


def test_the_check_sees_a_missing_image():
    assert _relative_targets('<img src="docs/nope.png" alt="x"> [a](docs/gone.md) [b](https://x.example)') == {
        "docs/nope.png", "docs/gone.md"}
