#!/usr/bin/env bash
# Create (or update) the Python venv for the peer / reference-scorer scripts.
#
# Usage: scripts/peers/setup.sh [VENV]      (default: target/peers-venv)
# Env:   PYTHON=python3.11 to choose the interpreter (needs >= 3.11).
#
# Idempotent: the venv is created if missing, and the pinned, complete package
# set of requirements.txt is installed with --no-deps (exact versions, nothing
# else). A stamp with the requirements' hash makes reruns a no-op. Needs only
# PyPI (plus sox from Debian for reading audio). Everything runs offline
# afterwards: the silero models ship inside the silero-vad wheel.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${1:-$repo/target/peers-venv}"
python="${PYTHON:-python3}"
req="$here/requirements.txt"
stamp="$venv/.peers-requirements.sha256"

"$python" - <<'EOF'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"Python >= 3.11 needed (pyannote.core 6), found {sys.version.split()[0]}")
EOF

command -v sox >/dev/null || echo "warning: sox not found (apt-get install sox); vad_peers.py needs it" >&2

if [[ ! -x "$venv/bin/python" ]]; then
    echo "creating venv $venv"
    "$python" -m venv "$venv"
fi

want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "venv $venv is up to date with requirements.txt"
else
    echo "installing pinned packages into $venv (torch + CUDA libs: several GB)"
    "$venv/bin/python" -m pip install --disable-pip-version-check -q --no-deps -r "$req"
    echo "$want" > "$stamp"
fi

HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 "$venv/bin/python" - <<'EOF'
"""Smoke check: every package imports and silero's bundled models load."""
import warnings
warnings.filterwarnings("ignore")
import faster_whisper, jiwer, numpy, soundfile, webrtcvad  # noqa: F401
import pyannote.database.util, pyannote.metrics.detection  # noqa: F401
import torch
from silero_vad import load_silero_vad
load_silero_vad()
load_silero_vad(onnx=True)
from importlib.metadata import version
names = ["torch", "onnxruntime", "silero-vad", "webrtcvad-wheels", "faster-whisper",
         "ctranslate2", "pyannote.metrics", "pyannote.core", "pyannote.database",
         "jiwer", "numpy", "soundfile"]
print("ok: " + ", ".join(f"{n}=={version(n)}" for n in names))
EOF
echo "venv size: $(du -sh "$venv" | cut -f1)"
