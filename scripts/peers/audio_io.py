"""Audio and RTTM helpers shared by the peer scripts.

Audio is decoded by sox (any WAV encoding sox knows: int16/int24/int32,
float32, mu-law, A-law, ...) and resampled to 16 kHz signed 16-bit PCM.
Dithering is disabled (``-D``) so the conversion is deterministic.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TARGET_RATE = 16000


@dataclass
class Audio:
    """Decoded audio: int16 samples shaped (channels, samples) at ``rate``."""

    samples: np.ndarray
    rate: int

    @property
    def channels(self) -> int:
        return self.samples.shape[0]

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / self.rate


def _sox() -> str:
    sox = shutil.which("sox")
    if sox is None:
        raise SystemExit("sox not found on PATH (apt-get install sox)")
    return sox


def channel_count(path: Path) -> int:
    """Number of channels of ``path`` as reported by ``sox --i -c``."""
    out = subprocess.run([_sox(), "--i", "-c", str(path)], check=True,
                         capture_output=True, text=True).stdout
    return int(out.strip())


def read_audio(path: Path, rate: int = TARGET_RATE) -> Audio:
    """Decode ``path`` with sox into int16 at ``rate`` Hz, all channels kept."""
    channels = channel_count(path)
    cmd = [_sox(), "-V1", "-D", str(path),
           "-t", "raw", "-e", "signed-integer", "-b", "16", "-L",
           "-r", str(rate), "-"]
    raw = subprocess.run(cmd, check=True, capture_output=True).stdout
    data = np.frombuffer(raw, dtype="<i2")
    usable = len(data) - len(data) % channels
    samples = data[:usable].reshape(-1, channels).T.copy()
    return Audio(samples=samples, rate=rate)


def speaker_names(channels: int) -> list[str]:
    """Speaker label per channel: agent/customer for stereo, speaker for mono."""
    if channels == 1:
        return ["speaker"]
    if channels == 2:
        return ["agent", "customer"]
    return [f"ch{i + 1}" for i in range(channels)]


def format_rttm(stem: str, segments: list[tuple[int, float, float, str]]) -> str:
    """RTTM text for ``(channel_1based, start_s, end_s, speaker)`` segments.

    Onset and duration are written with 3 decimals; lines are sorted by
    onset, then channel. Segments that round to zero duration are dropped.
    """
    lines = []
    for chan, start, end, speaker in sorted(segments, key=lambda s: (s[1], s[0])):
        onset = round(start, 3)
        dur = round(end - start, 3)
        if dur <= 0:
            continue
        lines.append(f"SPEAKER {stem} {chan} {onset:.3f} {dur:.3f} "
                     f"<NA> <NA> {speaker} <NA> <NA>")
    return "".join(line + "\n" for line in lines)
