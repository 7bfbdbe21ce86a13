# Sourced by scripts/dev, scripts/test, scripts/ops ...: creates or refreshes the virtualenvs
# from the pinned requirements when they changed, then puts .venv first on PATH.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${Z3_PYTHON:-python3}"

_z3_hash() { cat "$@" | sha256sum | cut -c1-16; }

_z3_venv() {  # _z3_venv DIR STAMP-INPUT... -- PIP-ARGS...
  local dir="$1"; shift
  local inputs=()
  while [ "$1" != "--" ]; do inputs+=("$1"); shift; done; shift
  local want; want="$(_z3_hash "${inputs[@]}")"
  if [ ! -x "$dir/bin/python" ] || [ "$(cat "$dir/.z3-stamp" 2>/dev/null)" != "$want" ]; then
    echo "z3: preparing $(basename "$dir") (requirements changed or first run)..." >&2
    [ -x "$dir/bin/python" ] || "$PYTHON" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >&2
    echo "$want" > "$dir/.z3-stamp"
  fi
}

z3_prepare() {
  _z3_venv "$REPO/.venv" "$REPO/requirements.txt" "$REPO/requirements-dev.txt" -- -r "$REPO/requirements-dev.txt"
  export PATH="$REPO/.venv/bin:$PATH"
  export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
}

z3_prepare_tasks_emulator() {
  # gcloud-tasks-emulator pins protobuf<5: it lives in its own virtualenv.
  _z3_venv "$REPO/.venv-tasks-emulator" "$REPO/requirements-tasks-emulator.txt" -- -r "$REPO/requirements-tasks-emulator.txt"
  export Z3_TASKS_EMULATOR_BIN="$REPO/.venv-tasks-emulator/bin/gcloud-tasks-emulator"
}

z3_prepare_checkov() {
  # checkov pins dozens of packages of its own: it lives in its own virtualenv.
  _z3_venv "$REPO/.venv-checkov" "$REPO/requirements-checkov.txt" -- -r "$REPO/requirements-checkov.txt"
  export Z3_CHECKOV_BIN="$REPO/.venv-checkov/bin/checkov"
}

z3_have_gcloud_emulators() {
  command -v gcloud >/dev/null 2>&1 && command -v java >/dev/null 2>&1 || return 1
  local root; root="$(gcloud info --format='value(installation.sdk_root)' 2>/dev/null || true)"
  [ -n "$root" ] && [ -d "$root/platform/cloud-firestore-emulator" ] && [ -d "$root/platform/pubsub-emulator" ]
}
