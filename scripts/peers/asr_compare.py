#!/usr/bin/env python3
"""hearken vs faster-whisper: word error rate and speed on the same calls.

Both systems run the same Whisper tiny.en weights (the CTranslate2 directory
that ``scripts/fetch-model.sh`` downloads, ``models/ct2-tiny.en``; hearken
uses its ggml conversion, by default quantised to iq4_nl), greedy decoding,
on the same two CPU threads, per channel of each stereo call:

hearken
    ``hearken analyze --jobs 1 --workers W --threads T --format stm``
    (W·T = 2; the whole analysis: decoding, VAD, packing, transcription,
    annotation, reports). Wall time of the process.
faster-whisper
    ``WhisperModel(ct2_dir, device="cpu", compute_type=..., cpu_threads=2)``;
    each channel transcribed separately with ``vad_filter=True`` (its Silero
    VAD), ``beam_size=1``, temperatures 0, 0.2, ..., 1 (greedy with
    Whisper's fallback, as hearken's ``temperature_inc = 0.2``),
    ``language="en"``, ``word_timestamps=False`` (hearken produces word
    times; faster-whisper is spared that cost in the timed pass, and asked
    for word times in a second, untimed pass that is scored). Wall time of the
    ``transcribe`` calls including their own decoding of the audio (the
    generators are consumed); model loading and the sox extraction of each
    channel to 16 kHz mono WAV are not timed.

Both hypotheses are written as STM and scored by the same scorer,
``hearken eval --json`` (normalisation stated in ``src/eval/text.rs``:
lower case, digits spelled out, punctuation removed except apostrophes
inside words, bracketed tags dropped). WER is pooled over files: total
errors / total reference words.

Usage:
    target/peers-venv/bin/python scripts/peers/asr_compare.py \\
        --in target/devset/stereo --ref target/devset/ref \\
        --out target/peers/asr [--compute-type int8] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def duration_s(path: Path) -> float:
    return float(run(["soxi", "-D", str(path)]).stdout.strip())


def hearken_run(bin_: Path, files: list[Path], out: Path, workers: int, threads: int,
                model: Path) -> float:
    """Runs hearken analyze on each file in turn; returns total wall seconds.

    hearken's defaults: greedy, with Whisper's fallback to higher
    temperatures (steps of 0.2) when a window decodes badly."""
    out.mkdir(parents=True, exist_ok=True)
    total = 0.0
    for f in files:
        t0 = time.perf_counter()
        run([str(bin_), "analyze", "--jobs", "1", "--workers", str(workers),
             "--threads", str(threads), "--model", str(model), "--quiet",
             "--format", "json,stm", "--out", str(out), str(f)])
        total += time.perf_counter() - t0
    return total


def hearken_word_stm(reports: Path, out: Path) -> None:
    """One STM line per word, from the word times of hearken's JSON reports."""
    out.mkdir(parents=True, exist_ok=True)
    for rep in sorted(reports.glob("*.json")):
        d = json.loads(rep.read_text())
        if "transcript" not in d:
            continue
        chan = {s["id"]: s["channel"] + 1 for s in d["speakers"]}
        lines = []
        for u in d["transcript"]:
            for w in u.get("words", []):
                text = w["w"].strip()
                if text:
                    lines.append((w["start_s"], f"{rep.stem} {chan.get(u['speaker'], 1)} {u['speaker']} "
                                  f"{w['start_s']:.2f} {w['end_s']:.2f} {text}"))
        lines.sort()
        (out / f"{rep.stem}.stm").write_text("".join(l + "\n" for _, l in lines))


# Greedy decoding with Whisper's fallback schedule, as hearken does
# (whisper.cpp's temperature_inc 0.2; faster-whisper's own default list).
# Without the fallback both models loop on some noisy windows.
FALLBACK = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]


def fw_run(files: list[Path], out: Path, ct2: Path, compute_type: str,
           words: bool = False) -> tuple[float, float]:
    """Transcribes each channel with faster-whisper; returns (wall s, sox s).

    With ``words``, asks for word timestamps and writes one STM line per
    word (the untimed scoring pass)."""
    from faster_whisper import WhisperModel

    out.mkdir(parents=True, exist_ok=True)
    model = WhisperModel(str(ct2), device="cpu", compute_type=compute_type,
                         cpu_threads=2, num_workers=1)
    total = 0.0
    sox_total = 0.0
    speakers = {1: "agent", 2: "customer"}
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            lines = []
            for chan, spk in speakers.items():
                wav = Path(tmp) / f"{f.stem}-{chan}.wav"
                t0 = time.perf_counter()
                run(["sox", str(f), "-r", "16000", "-b", "16", str(wav), "remix", str(chan)])
                sox_total += time.perf_counter() - t0
                t0 = time.perf_counter()
                segments, _info = model.transcribe(
                    str(wav), language="en", beam_size=1, best_of=1,
                    temperature=FALLBACK,
                    vad_filter=True, word_timestamps=words)
                segs = list(segments)
                total += time.perf_counter() - t0
                for s in segs:
                    if words:
                        for w in s.words or []:
                            t = w.word.strip()
                            if t:
                                lines.append((w.start, f"{f.stem} {chan} {spk} {w.start:.2f} {w.end:.2f} {t}"))
                        continue
                    text = s.text.strip()
                    if text:
                        lines.append((s.start, f"{f.stem} {chan} {spk} {s.start:.2f} {s.end:.2f} {text}"))
            lines.sort()
            (out / f"{f.stem}.stm").write_text("".join(l + "\n" for _, l in lines))
    return total, sox_total


def score(bin_: Path, ref: Path, hyp: Path) -> dict:
    res = run([str(bin_), "eval", "--ref", str(ref), "--hyp", str(hyp), "--json",
               "--missing-as-empty"])
    return json.loads(res.stdout)


def wer_of(report: dict) -> tuple[float, int]:
    pooled = report["pooled"]
    for key in ("wer", "WER"):
        if key in pooled:
            w = pooled[key]
            break
    else:
        raise SystemExit(f"no WER in eval output: {sorted(pooled)}")
    return w, len(report.get("files", {}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--in", dest="inp", type=Path, required=True, help="directory of stereo WAVs")
    ap.add_argument("--ref", type=Path, required=True, help="directory of reference STM (+UEM)")
    ap.add_argument("--out", type=Path, default=REPO / "target/peers/asr")
    ap.add_argument("--ct2", type=Path, default=REPO / "models/ct2-tiny.en")
    ap.add_argument("--model", type=Path, default=REPO / "models/ggml-tiny.en-iq4_nl.bin")
    ap.add_argument("--hearken", type=Path, default=REPO / "target/release/hearken")
    ap.add_argument("--compute-type", default="int8",
                    help="faster-whisper compute type (int8 is its fastest on CPU)")
    ap.add_argument("--workers", type=int, default=2, help="hearken Whisper workers")
    ap.add_argument("--threads", type=int, default=1, help="hearken threads per worker")
    ap.add_argument("--limit", type=int, default=0, help="first N files only")
    args = ap.parse_args()

    files = sorted(args.inp.glob("*.wav"))
    if args.limit:
        files = files[: args.limit]
    if not files:
        print(f"no WAV files in {args.inp}", file=sys.stderr)
        return 1
    audio = sum(duration_s(f) for f in files)
    load = os.getloadavg()

    h_out = args.out / "hearken"
    f_out = args.out / f"faster-whisper-{args.compute_type}"
    h_wall = hearken_run(args.hearken, files, h_out, args.workers, args.threads, args.model)
    f_wall, sox_wall = fw_run(files, f_out, args.ct2, args.compute_type)
    # Scored per word: the references leave some utterances untranscribed
    # (ignore_time_segment_in_scoring), and a hypothesis line is dropped
    # when its middle falls in such a region. faster-whisper's segments
    # run over several utterances, hearken's follow the voice detector's,
    # so segment lines would be dropped unevenly; one line per word drops
    # exactly the words spoken in the ignored regions, for both systems.
    h_words = args.out / "hearken-words"
    f_words = args.out / f"faster-whisper-{args.compute_type}-words"
    hearken_word_stm(h_out, h_words)
    fw_run(files, f_words, args.ct2, args.compute_type, words=True)
    h_score = score(args.hearken, args.ref, h_words)
    f_score = score(args.hearken, args.ref, f_words)
    h_seg = wer_of(score(args.hearken, args.ref, h_out))[0]
    f_seg = wer_of(score(args.hearken, args.ref, f_out))[0]

    rows = []
    for name, wall, sc in (("hearken", h_wall, h_score),
                           (f"faster-whisper {args.compute_type}", f_wall, f_score)):
        w, n = wer_of(sc)
        rows.append({"system": name, "wer": w, "files": n,
                     "wall_s": wall, "x_real_time": audio / wall})
    summary = {
        "files": len(files), "audio_s": audio, "sox_extract_s": sox_wall,
        "load_before": load, "load_after": os.getloadavg(),
        "hearken": {"workers": args.workers, "threads": args.threads, "model": str(args.model)},
        "rows": rows,
        "wer_segment_lines": {"hearken": h_seg, "faster-whisper": f_seg},
        "per_file": {
            "hearken": {k: v.get("wer") for k, v in h_score.get("files", {}).items()},
            "faster-whisper": {k: v.get("wer") for k, v in f_score.get("files", {}).items()},
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"{len(files)} calls, {audio / 60:.1f} min of stereo audio; load {load[0]:.2f} -> {os.getloadavg()[0]:.2f}")
    print("| system | WER | × real time (call duration / wall) | wall s |")
    print("|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['system']} | {100 * r['wer']:.1f} % | {r['x_real_time']:.1f}× | {r['wall_s']:.1f} |")
    print(f"(segment-level lines instead of words: hearken {100 * h_seg:.1f} %, "
          f"faster-whisper {100 * f_seg:.1f} %)")
    speedup = f_wall / h_wall
    print(f"hearken is {speedup:.2f}× faster than faster-whisper (target ≥ 1.3×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
