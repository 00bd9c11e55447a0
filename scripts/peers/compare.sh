#!/usr/bin/env bash
# hearken vs peer VADs (webrtc, silero), one scorer (hearken eval), one run.
# Usage: scripts/peers/compare.sh [SET] [--also SET2] [--webrtc-smooth] [--repeat N] ...
#   SET = a data set directory with stereo/ and ref/ (default target/devset).
# Writes the Markdown to stdout and docs/peers.md; progress on stderr.
# See scripts/peers/compare.py --help.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${PEERS_VENV:-$repo/target/peers-venv}"
[[ -x "$venv/bin/python" ]] || { echo "no venv at $venv; run scripts/peers/setup.sh first" >&2; exit 2; }
[[ -x "$repo/target/release/hearken" ]] || { echo "no target/release/hearken; run make build first" >&2; exit 2; }
cd "$repo"
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1
HEARKEN_COMPARE_CMD="scripts/peers/compare.sh${*:+ $(printf '%q ' "$@" | sed 's/ $//')}" \
  exec "$venv/bin/python" "$here/compare.py" "$@"
