#!/usr/bin/env python3
"""Run peer voice-activity detectors per channel and write hypothesis RTTMs.

For every ``*.wav`` in ``--in`` the file is decoded by sox into 16 kHz
int16 (decoding is not timed), each channel is passed separately to each
peer, and ``OUTDIR/<peer>/<stem>.rttm`` is written with speaker ``agent``
for channel 1 and ``customer`` for channel 2 (mono: ``speaker``, chan 1).

Peers
-----
webrtc
    ``webrtcvad.Vad(mode)`` (mode 3 by default) on consecutive,
    non-overlapping 30 ms frames (480 samples) starting at sample 0; a
    trailing partial frame is dropped. Every run of consecutive speech
    frames becomes one segment ``[first*0.03, (last+1)*0.03)``. No other
    smoothing, padding or minimum duration.
webrtc-smooth
    Same frame decisions (each frame is classified exactly once, in order),
    then the ring-buffer collector of py-webrtcvad's ``example.py``: a
    window of 10 frames (300 ms); trigger when more than 90 % of the window
    is speech, the segment then starting at the oldest frame in the window;
    detrigger when more than 90 % of the window is non-speech, the segment
    ending at the end of the current frame; a segment still open at the
    end of the audio ends at the end of the last frame.
silero
    ``silero_vad.load_silero_vad()`` (the TorchScript model shipped in the
    wheel) and ``get_speech_timestamps`` with its defaults (threshold 0.5,
    neg_threshold = threshold - 0.15, min_speech_duration_ms 250,
    min_silence_duration_ms 100, speech_pad_ms 30, max_speech_duration_s
    inf, window 512 samples), 16 kHz, timestamps taken in samples.
silero-onnx
    Same, with ``load_silero_vad(onnx=True)`` (the ONNX model shipped in
    the wheel, onnxruntime CPU, intra/inter-op threads 1).

Timing: for each peer and file, the wall time of the VAD calls on all
channels (from the int16 array to segment list; model loading and a short
warm-up are excluded) is recorded with the file duration in
``OUTDIR/<peer>/timing.json`` (the sox decoding time is reported
separately as ``decode_wall_s``); RTF = audio seconds / wall seconds, where
audio seconds is the file duration (all channels processed within it).
The exact parameters and package versions go to ``OUTDIR/<peer>/params.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections import deque
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np

warnings.filterwarnings("ignore", message=r".*torch\.jit\.load.*deprecated")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audio_io import TARGET_RATE, format_rttm, read_audio, speaker_names  # noqa: E402

Segments = list[tuple[float, float]]
PeerFn = Callable[[np.ndarray], Segments]

ALL_PEERS = ("webrtc", "webrtc-smooth", "silero", "silero-onnx")
FRAME_MS = 30
SMOOTH_PADDING_MS = 300
SMOOTH_RATIO = 0.9


# --------------------------------------------------------------------- webrtc

def webrtc_frame_decisions(vad, pcm: np.ndarray) -> list[bool]:
    """Classify each complete 30 ms frame of int16 ``pcm`` once, in order."""
    frame_len = TARGET_RATE * FRAME_MS // 1000
    data = pcm.astype("<i2").tobytes()
    step = frame_len * 2
    return [vad.is_speech(data[off:off + step], TARGET_RATE)
            for off in range(0, len(data) - step + 1, step)]


def runs_to_segments(decisions: list[bool], frame_s: float) -> Segments:
    """Turn consecutive True frames into ``(start_s, end_s)`` segments."""
    segments = []
    start = None
    for i, speech in enumerate(decisions):
        if speech and start is None:
            start = i
        elif not speech and start is not None:
            segments.append((start * frame_s, i * frame_s))
            start = None
    if start is not None:
        segments.append((start * frame_s, len(decisions) * frame_s))
    return segments


def ring_buffer_segments(decisions: list[bool], frame_s: float,
                         window: int, ratio: float) -> Segments:
    """py-webrtcvad ``example.py`` collector applied to frame decisions."""
    ring: deque[tuple[int, bool]] = deque(maxlen=window)
    segments = []
    triggered = False
    start = 0
    for i, speech in enumerate(decisions):
        ring.append((i, speech))
        if not triggered:
            if sum(s for _, s in ring) > ratio * window:
                triggered = True
                start = ring[0][0]
                ring.clear()
        elif sum(not s for _, s in ring) > ratio * window:
            triggered = False
            segments.append((start * frame_s, (i + 1) * frame_s))
            ring.clear()
    if triggered:
        segments.append((start * frame_s, len(decisions) * frame_s))
    return segments


def make_webrtc(mode: int, smooth: bool) -> PeerFn:
    """Return a per-channel webrtc VAD function (fresh Vad per channel)."""
    import webrtcvad

    frame_s = FRAME_MS / 1000

    def run(pcm: np.ndarray) -> Segments:
        decisions = webrtc_frame_decisions(webrtcvad.Vad(mode), pcm)
        if smooth:
            window = SMOOTH_PADDING_MS // FRAME_MS
            return ring_buffer_segments(decisions, frame_s, window, SMOOTH_RATIO)
        return runs_to_segments(decisions, frame_s)

    return run


def webrtc_params(mode: int, smooth: bool) -> dict:
    """Parameters recorded in params.json for a webrtc peer."""
    params = {"mode": mode, "rate": TARGET_RATE, "frame_ms": FRAME_MS,
              "partial_last_frame": "dropped",
              "segments": "runs of consecutive speech frames, no smoothing",
              "package": _dist_version("webrtcvad-wheels", "webrtcvad")}
    if smooth:
        params["segments"] = ("py-webrtcvad example.py ring buffer, each frame "
                              "classified once")
        params["padding_ms"] = SMOOTH_PADDING_MS
        params["trigger_ratio"] = SMOOTH_RATIO
    return params


# --------------------------------------------------------------------- silero

def make_silero(onnx: bool, threads: int) -> tuple[PeerFn, dict]:
    """Return a per-channel silero function and the parameters it uses."""
    import inspect

    import torch
    from silero_vad import get_speech_timestamps, load_silero_vad

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # already set (second silero peer in this process)
        pass
    model = load_silero_vad(onnx=onnx)
    defaults = {name: p.default for name, p in
                inspect.signature(get_speech_timestamps).parameters.items()
                if p.default is not inspect.Parameter.empty
                and name not in ("progress_tracking_callback",)}

    def run(pcm: np.ndarray) -> Segments:
        audio = torch.from_numpy(pcm.astype(np.float32) / 32768.0)
        stamps = get_speech_timestamps(audio, model, sampling_rate=TARGET_RATE,
                                       return_seconds=False)
        return [(s["start"] / TARGET_RATE, s["end"] / TARGET_RATE) for s in stamps]

    run(np.zeros(TARGET_RATE, dtype=np.int16))  # warm-up, not timed
    params = {"model": "onnx (silero_vad.onnx, onnxruntime CPU)" if onnx
              else "jit (silero_vad.jit)",
              "get_speech_timestamps_defaults": {k: _jsonable(v)
                                                 for k, v in defaults.items()},
              "overrides": {"sampling_rate": TARGET_RATE, "return_seconds": False},
              "input": "int16 / 32768 as float32",
              "torch_threads": torch.get_num_threads(),
              "package": _dist_version("silero-vad"),
              "torch": torch.__version__}
    if onnx:
        params["onnxruntime"] = _dist_version("onnxruntime")
        params["onnx_threads"] = "intra_op=1, inter_op=1 (set by silero OnnxWrapper)"
    return run, params


# ----------------------------------------------------------------- utilities

def _jsonable(value):
    """Make a default value JSON-safe (inf becomes the string 'inf')."""
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value


def _dist_version(*names: str) -> str:
    """Version of the first installed distribution among ``names``."""
    for name in names:
        try:
            return f"{name}=={metadata.version(name)}"
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def build_peer(name: str, args) -> tuple[PeerFn, dict]:
    """Instantiate peer ``name`` and return (function, params)."""
    if name in ("webrtc", "webrtc-smooth"):
        smooth = name == "webrtc-smooth"
        return make_webrtc(args.webrtc_mode, smooth), webrtc_params(args.webrtc_mode, smooth)
    if name in ("silero", "silero-onnx"):
        return make_silero(name == "silero-onnx", args.threads)
    raise SystemExit(f"unknown peer {name!r}; choose from {', '.join(ALL_PEERS)}")


def process_file(peer: PeerFn, samples: np.ndarray) -> tuple[list, float]:
    """Run ``peer`` on each channel; return (RTTM segments, VAD wall seconds)."""
    names = speaker_names(samples.shape[0])
    segments = []
    t0 = time.perf_counter()
    per_channel = [peer(samples[c]) for c in range(samples.shape[0])]
    wall = time.perf_counter() - t0
    for c, segs in enumerate(per_channel):
        segments.extend((c + 1, start, end, names[c]) for start, end in segs)
    return segments, wall


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--in", dest="indirs", required=True, type=Path, action="append",
                   help="directory with *.wav files (stereo: ch1 agent, ch2 customer); "
                        "may be given several times (stems must be unique)")
    p.add_argument("--out", required=True, type=Path,
                   help="output directory; writes OUT/<peer>/<stem>.rttm and timing.json")
    p.add_argument("--peers", default="webrtc,silero",
                   help=f"comma-separated peers among {', '.join(ALL_PEERS)} "
                        "(default: webrtc,silero)")
    p.add_argument("--webrtc-smooth", action="store_true",
                   help="also run webrtc with py-webrtcvad ring-buffer smoothing "
                        "(reported as peer webrtc-smooth)")
    p.add_argument("--webrtc-mode", type=int, default=3, choices=range(4),
                   help="webrtcvad aggressiveness (default 3)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch intra-op threads for silero (default 1)")
    return p.parse_args(argv)


def write_timing(outdir: Path, name: str, files: dict) -> dict:
    """Write ``timing.json`` for one peer and return its content."""
    total_audio = sum(f["audio_s"] for f in files.values())
    total_wall = sum(f["vad_wall_s"] for f in files.values())
    timing = {"peer": name, "files": files,
              "total": {"audio_s": round(total_audio, 3),
                        "vad_wall_s": round(total_wall, 4),
                        "rtf": round(total_audio / total_wall, 1) if total_wall else None},
              "note": "rtf = audio seconds / VAD wall seconds; audio seconds = file "
                      "duration, all channels processed within the wall time; "
                      "decoding (sox to 16 kHz int16, shown separately as "
                      "decode_wall_s, shared by all peers) and model loading excluded"}
    (outdir / "timing.json").write_text(json.dumps(timing, indent=2) + "\n")
    return timing


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    names = [p.strip() for p in args.peers.split(",") if p.strip()]
    if args.webrtc_smooth and "webrtc-smooth" not in names:
        names.append("webrtc-smooth")
    wavs = sorted(w for d in args.indirs for w in d.glob("*.wav"))
    if not wavs:
        raise SystemExit(f"no *.wav in {', '.join(map(str, args.indirs))}")
    stems = [w.stem for w in wavs]
    if len(set(stems)) != len(stems):
        raise SystemExit("duplicate file stems across --in directories")

    peers = {}
    for name in names:
        fn, params = build_peer(name, args)
        outdir = args.out / name
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / "params.json").write_text(json.dumps(params, indent=2) + "\n")
        peers[name] = fn
    timings: dict[str, dict] = {name: {} for name in names}

    for wav in wavs:
        t0 = time.perf_counter()
        audio = read_audio(wav)  # decoded once, shared by all peers
        decode = time.perf_counter() - t0
        for name, fn in peers.items():
            segments, wall = process_file(fn, audio.samples)
            (args.out / name / f"{wav.stem}.rttm").write_text(
                format_rttm(wav.stem, segments))
            rtf = round(audio.duration / wall, 1) if wall else None
            timings[name][wav.stem] = {"audio_s": round(audio.duration, 3),
                                       "channels": audio.channels,
                                       "vad_wall_s": round(wall, 4), "rtf": rtf,
                                       "decode_wall_s": round(decode, 4)}
            print(f"{name:14s} {wav.stem:30s} {audio.duration:8.2f} s audio "
                  f"{wall:8.3f} s VAD  RTF x{rtf}", file=sys.stderr)

    for name in names:
        tot = write_timing(args.out / name, name, timings[name])["total"]
        print(f"{name}: {len(wavs)} files, {tot['audio_s']:.1f} s audio, "
              f"{tot['vad_wall_s']:.2f} s VAD wall, RTF x{tot['rtf']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
