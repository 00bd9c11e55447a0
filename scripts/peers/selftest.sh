#!/usr/bin/env bash
# Score the hand-made fixtures with crosscheck.py (pyannote.metrics + jiwer)
# and check the results against fixtures/expected.json.
# Usage: scripts/peers/selftest.sh [VENV]   (default target/peers-venv)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${1:-$repo/target/peers-venv}"
[[ -x "$venv/bin/python" ]] || { echo "no venv at $venv; run scripts/peers/setup.sh first" >&2; exit 2; }
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1
exec "$venv/bin/python" "$here/selftest.py"
