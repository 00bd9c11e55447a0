#!/usr/bin/env bash
# setup.sh: everything hearken needs on a fresh Debian 12 machine with Rust.
#
#   system packages  cmake, clang/libclang (whisper.cpp build), libasound2-dev
#                    (sound-card capture), sox and espeak-ng (fixtures),
#                    python3-venv (peer comparisons), chromium and
#                    fonts-liberation (headless tests of the HTML report),
#                    tmux (the live meter tested in a real terminal)
#   model            the Whisper model, when the transcribe feature is built
#                    (scripts/fetch-model.sh; skipped if already installed)
#
# Idempotent: what is already there is skipped. Uses sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(cmake clang libclang-dev pkg-config libasound2-dev sox libsox-fmt-all espeak-ng python3-venv time
      chromium fonts-liberation tmux)

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: need root or sudo to install: ${PKGS[*]}" >&2; exit 1; }
    SUDO=sudo
fi

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "setup: system packages present"
fi

command -v cargo >/dev/null 2>&1 || { echo "setup: cargo not found: install Rust (https://rustup.rs) first" >&2; exit 1; }

if [[ "${HEARKEN_NO_MODEL:-0}" != 1 && -x scripts/fetch-model.sh ]]; then
    scripts/fetch-model.sh
fi
