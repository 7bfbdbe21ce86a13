"""scripts/package: one reproducible, content-addressed zip per function holding main.py at its
root, shared/ and requirements.txt and nothing else; unzipped alone into a clean virtualenv
(only the third-party packages, no repository on the path) its entry point imports and
functions-framework builds its app, as Cloud Functions does."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from tools.package import build
from tools.wsgi import REPO


def test_a_zip_holds_main_shared_and_requirements_only(tmp_path):
    path = build("voice_answer", tmp_path)
    assert re.fullmatch(r"voice_answer-[0-9a-f]{16}\.zip", path.name)
    names = zipfile.ZipFile(path).namelist()
    assert "main.py" in names and "requirements.txt" in names and "shared/config.py" in names
    assert all(n in ("main.py", "requirements.txt") or n.startswith("shared/") for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert zipfile.ZipFile(path).read("main.py") == (REPO / "functions/voice_answer/main.py").read_bytes()


def test_the_app_carries_the_policies_it_shows(tmp_path):
    names = zipfile.ZipFile(build("app", tmp_path)).namelist()
    assert "docs/privacy-policy.md" in names  # shared.web.legal reads it beside shared/


def test_the_name_is_the_content(tmp_path):
    first = build("notify", tmp_path / "a")
    again = build("notify", tmp_path / "b")
    other = build("sms_status", tmp_path / "a")
    assert first.name == again.name and first.read_bytes() == again.read_bytes()
    assert other.name.split("-")[1] != first.name.split("-")[1]


def test_a_rebuild_leaves_one_zip_per_function(tmp_path):
    # terraform takes one(fileset(source_dir, "<function>-*.zip")): two would fail the plan.
    (tmp_path / "notify-0123456789abcdef.zip").write_bytes(b"an older build")
    keep = tmp_path / "notify_digest-0123456789abcdef.zip"  # another function's zip stays
    keep.write_bytes(b"x")
    target = build("notify", tmp_path)
    assert sorted(p.name for p in tmp_path.glob("notify-*.zip")) == [target.name]
    assert keep.exists()


def test_the_entry_point_imports_in_a_clean_virtualenv(tmp_path):
    source = tmp_path / "src"
    zipfile.ZipFile(build("call_finalize", tmp_path / "build")).extractall(source)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # the third-party packages only (what requirements.txt installs), not the repository
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    probe = (
        "import sys, main, shared, functions_framework\n"
        "assert callable(main.call_finalize)\n"
        "assert shared.__file__.startswith(sys.argv[1]), shared.__file__\n"
        "functions_framework.create_app(target='call_finalize', source='main.py')\n"
        "print('ok')\n")
    result = subprocess.run([str(python), "-c", probe, str(source)], cwd=source, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")
