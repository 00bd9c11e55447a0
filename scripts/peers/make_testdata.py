#!/usr/bin/env python3
"""Build a few small synthetic two-party "calls" with a known reference.

Speech clips come from Debian's ``pocketsphinx-testdata`` package (CMU,
BSD-2; LibriVox "Sense and Sensibility" sentences and "cards" utterances,
16 kHz mono, with transcripts). Each clip is trimmed to its speech (10 ms
frames within 35 dB of the clip's loudest frame), then placed at fixed
times on the agent (channel 1) or customer (channel 2) track, with some
overlaps. Seeded white noise is added, and in one file a -30 dB bleed of
the other channel (crosstalk). Files are written in several WAV encodings
and rates so the readers get exercised:

    call_a  16 kHz   int16    stereo   (has a UEM excluding 10.0-12.5 s)
    call_b   8 kHz   mu-law   stereo
    call_c  44.1 kHz float32  stereo   (crosstalk, more noise)
    call_d   8 kHz   A-law    stereo
    mono_e  22.05 kHz int24   mono

Outputs: OUT/wav/*.wav, OUT/ref/<stem>.rttm, OUT/ref/<stem>.stm (text of
each clip on its reference segment; a clip's internal pauses are part of
its segment) and OUT/uem/call_a.uem. If --src is missing the package is
fetched with ``apt-get download`` and unpacked with ``dpkg -x``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audio_io import format_rttm, read_audio, speaker_names  # noqa: E402

RATE = 16000
PKG_DATA = "usr/share/pocketsphinx/test/data"

# stem -> (sox output options, duration s, noise dBFS, bleed dB or None,
#          [per channel list of (start_s, clip id)])
LAYOUT = {
    "call_a": (["-r", "16000", "-e", "signed-integer", "-b", "16"], 30.0, -60, None,
               [[(0.8, "0870"), (15.0, "0890")],
                [(8.6, "001"), (10.5, "003"), (19.5, "002"), (24.0, "005")]]),
    "call_b": (["-r", "8000", "-e", "u-law"], 24.0, -60, None,
               [[(0.5, "0880"), (8.2, "0920")],
                [(4.2, "004"), (7.6, "001"), (16.0, "0930")]]),
    "call_c": (["-r", "44100", "-e", "floating-point", "-b", "32"], 22.0, -50, -30,
               [[(1.0, "005"), (12.0, "0930")],
                [(5.5, "0870"), (15.5, "003")]]),
    "call_d": (["-r", "8000", "-e", "a-law"], 16.0, -60, None,
               [[(0.4, "0920")],
                [(7.5, "0880"), (11.0, "002")]]),
    "mono_e": (["-r", "22050", "-e", "signed-integer", "-b", "24"], 14.0, -60, None,
               [[(1.0, "0890"), (8.0, "004")]]),
}
UEM = {"call_a": [(0.0, 10.0), (12.5, 30.0)]}


def fetch_testdata(dest: Path) -> Path:
    """apt-get download + dpkg -x pocketsphinx-testdata into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", "pocketsphinx-testdata"], cwd=dest, check=True)
    deb = next(dest.glob("pocketsphinx-testdata_*.deb"))
    subprocess.run(["dpkg", "-x", str(deb), str(dest / "x")], check=True)
    return dest / "x" / PKG_DATA


def load_transcripts(data: Path) -> dict[str, str]:
    """Clip id -> transcript from the librivox and cards transcription files."""
    texts = {}
    for f in (data / "librivox/transcription", data / "cards/cards.transcription"):
        for line in f.read_text().splitlines():
            m = re.match(r"<s>(.*)</s>\s*\((\S+)\)", line.strip())
            if m:
                clip = m.group(2).rsplit("-", 1)[-1]
                texts[clip] = " ".join(m.group(1).split())
    return texts


def clip_path(data: Path, clip: str) -> Path:
    """Path of a clip id (4 digits: librivox, 3 digits: cards)."""
    if len(clip) == 4:
        return data / f"librivox/sense_and_sensibility_01_austen_64kb-{clip}.wav"
    return data / f"cards/{clip}.wav"


def trimmed_clip(path: Path) -> np.ndarray:
    """Float32 clip at 16 kHz cut to its first..last frame within 35 dB of peak."""
    x = read_audio(path).samples[0].astype(np.float32) / 32768.0
    hop = RATE // 100
    frames = x[: len(x) // hop * hop].reshape(-1, hop)
    db = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)
    active = np.flatnonzero(db > db.max() - 35)
    return x[active[0] * hop:(active[-1] + 1) * hop]


def build_file(stem: str, spec, data: Path, texts: dict, out: Path,
               rng: np.random.Generator) -> None:
    """Mix one file, write its WAV, RTTM and STM."""
    sox_opts, duration, noise_db, bleed_db, tracks = spec
    n = int(duration * RATE)
    chans = np.zeros((len(tracks), n), dtype=np.float32)
    names = speaker_names(len(tracks))
    segments, stm = [], []
    for c, track in enumerate(tracks):
        for start, clip in track:
            x = trimmed_clip(clip_path(data, clip))
            i = int(round(start * RATE))
            chans[c, i:i + len(x)] += x[: n - i]
            end = (i + len(x)) / RATE
            segments.append((c + 1, i / RATE, end, names[c]))
            stm.append(f"{stem} {c + 1} {names[c]} {i / RATE:.3f} {end:.3f} {texts[clip]}")
    if bleed_db is not None and len(tracks) == 2:
        gain = 10 ** (bleed_db / 20)
        chans = chans + gain * chans[::-1]
    chans += (10 ** (noise_db / 20) * rng.standard_normal(chans.shape)).astype(np.float32)
    chans = np.clip(chans, -0.99, 0.99)
    wav = out / "wav" / f"{stem}.wav"
    subprocess.run(["sox", "-V1", "-t", "raw", "-e", "floating-point", "-b", "32", "-L",
                    "-r", str(RATE), "-c", str(len(tracks)), "-", *sox_opts, str(wav)],
                   input=chans.T.astype("<f4").tobytes(), check=True)
    (out / "ref" / f"{stem}.rttm").write_text(format_rttm(stem, segments))
    (out / "ref" / f"{stem}.stm").write_text("".join(
        line + "\n" for line in sorted(stm, key=lambda l: float(l.split()[3]))))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("/tmp/peertest"),
                   help="output directory (default /tmp/peertest)")
    p.add_argument("--src", type=Path,
                   default=Path("/tmp/peertest/src/x") / PKG_DATA,
                   help="pocketsphinx test data directory (fetched if missing)")
    args = p.parse_args(argv)
    data = args.src
    if not (data / "librivox").is_dir():
        data = fetch_testdata(Path(tempfile.mkdtemp(prefix="pstd-")))
    for sub in ("wav", "ref", "uem"):
        (args.out / sub).mkdir(parents=True, exist_ok=True)
    texts = load_transcripts(data)
    rng = np.random.default_rng(20240611)
    for stem, spec in LAYOUT.items():
        build_file(stem, spec, data, texts, args.out, rng)
    for stem, parts in UEM.items():
        (args.out / "uem" / f"{stem}.uem").write_text(
            "".join(f"{stem} 1 {a:.3f} {b:.3f}\n" for a, b in parts))
    print(f"wrote {len(LAYOUT)} files to {args.out}/wav, references to {args.out}/ref")
    return 0


if __name__ == "__main__":
    sys.exit(main())
