#!/usr/bin/env python3
"""Compare hearken with peer VADs on one data set, side by side, in one run.

For each data set (a directory with ``stereo/*.wav`` and ``ref/`` holding
``<stem>.rttm`` + ``<stem>.uem``):

1. ``hearken analyze stereo --out OUT/hearken -j 2 --quiet [--no-transcribe]``
   — its wall time (process start to exit: decoding, resampling, analysis,
   writing reports) is hearken's cost; best of ``--repeat`` runs.
   ``--no-transcribe`` is added when the binary has it (the peers do voice
   activity only), unless ``--transcribe``. One extra ``-j 1`` run
   gives the single-core figure (noted below the table).
2. ``vad_peers.py`` — webrtc (mode 3), silero (default parameters of
   ``get_speech_timestamps``), optionally webrtc-smooth; per channel, torch
   threads 1. Their time is the VAD calls only (sox decoding to 16 kHz and
   model loading excluded); the "incl. decode" column adds the sox decoding.
3. ``hearken eval --ref ref --hyp DIR --json`` scores every system: one
   scorer for all, collar 0, the reference UEMs.

Prints a Markdown table per data set (plus machine, versions and the exact
command) and writes the same text to ``--md`` (default docs/peers.md).
Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

# (figure in hearken eval JSON, column header, kind) — kind: pct (fraction
# shown as %), pts (already percentage points)
LABELS = {"spk_det": "per-speaker detection", "overlap_f1": "overlap F1",
          "interruption_precision": "interruption P", "interruption_recall": "interruption R",
          "talk_share_abs_error": "talk share", "silence_precision": "silence P",
          "silence_recall": "silence R", "echo": "echo call", "rtf": "speed"}
TARGETS = {
    "spk_det": ("≤ 5 %", lambda v: v <= 0.05),
    "overlap_f1": ("≥ 90 %", lambda v: v >= 0.90),
    "interruption_precision": ("≥ 95 %", lambda v: v >= 0.95),
    "interruption_recall": ("≥ 95 %", lambda v: v >= 0.95),
    "talk_share_abs_error": ("≤ 1.5", lambda v: v <= 1.5),
    "silence_precision": ("≥ 97 %", lambda v: v >= 0.97),
    "silence_recall": ("≥ 97 %", lambda v: v >= 0.97),
    "echo": ("≤ 8 %", lambda v: v <= 0.08),
    "rtf": ("≥ 3000× (VAD)", lambda v: v >= 3000),
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ running

def analyze_extra(hearken: Path, transcribe: bool) -> list[str]:
    """``--no-transcribe`` when this binary transcribes by default (the peers
    do voice activity only; transcription would dominate hearken's time)."""
    helptext = subprocess.run([str(hearken), "analyze", "--help"], capture_output=True,
                              text=True).stdout
    return ["--no-transcribe"] if "--no-transcribe" in helptext and not transcribe else []


def run_hearken(hearken: Path, audio: Path, out: Path, jobs: int, extra: list[str]) -> float:
    """One ``hearken analyze`` run into a fresh ``out``; returns wall seconds."""
    if out.exists():
        shutil.rmtree(out)
    cmd = [str(hearken), "analyze", str(audio), "--out", str(out), "-j", str(jobs), "--quiet",
           *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{shlex.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    if proc.stdout.strip():
        log(f"note: hearken analyze --quiet printed: {proc.stdout.strip()[:200]}")
    return wall


def run_peers(python: Path, audio: Path, out: Path, peers: list[str], threads: int) -> None:
    cmd = [str(python), str(HERE / "vad_peers.py"), "--in", str(audio), "--out", str(out),
           "--peers", ",".join(peers), "--threads", str(threads)]
    log(f"$ {shlex.join(cmd)}")
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS=str(threads))
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env)
    sys.stderr.write(proc.stdout)
    if proc.returncode != 0:
        raise SystemExit(f"vad_peers.py failed ({proc.returncode})")


def run_eval(hearken: Path, ref: Path, hyp: Path, save: Path) -> dict:
    cmd = [str(hearken), "eval", "--ref", str(ref), "--hyp", str(hyp), "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{shlex.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    save.write_text(proc.stdout)
    return json.loads(proc.stdout)


# ---------------------------------------------------------------- reporting

def fmt_pct(v, digits=1) -> str:
    return "–" if v is None else f"{100 * v:.{digits}f} %"


def fmt_rtf(v) -> str:
    if v is None:
        return "–"
    return f"{v:,.0f}×" if v >= 100 else f"{v:.1f}×"


def system_row(name: str, score: dict, echo: str, rtf: float, rtf_decode: float | None,
               hearken_rtf: float) -> tuple[list[str], dict]:
    p = score["pooled"]
    e = score["files"].get(echo, {})
    values = {
        "spk_det": p.get("per_speaker_detection_error_rate"),
        "overlap_f1": p.get("overlap_f1"),
        "interruption_precision": p.get("interruption_precision"),
        "interruption_recall": p.get("interruption_recall"),
        "talk_share_abs_error": p.get("talk_share_abs_error"),
        "silence_precision": p.get("silence_precision"),
        "silence_recall": p.get("silence_recall"),
        "echo": e.get("per_speaker_detection_error_rate"),
        "rtf": rtf,
    }
    cells = [
        name,
        f"{fmt_pct(values['spk_det'])} ({fmt_pct(p.get('per_speaker_miss_rate'))} / "
        f"{fmt_pct(p.get('per_speaker_false_alarm_rate'))})",
        fmt_pct(values["overlap_f1"]),
        f"{fmt_pct(values['interruption_precision'])} / {fmt_pct(values['interruption_recall'])}",
        "–" if values["talk_share_abs_error"] is None else f"{values['talk_share_abs_error']:.2f}",
        f"{fmt_pct(values['silence_precision'])} / {fmt_pct(values['silence_recall'])}",
        fmt_pct(values["echo"]),
        fmt_rtf(rtf),
        fmt_rtf(rtf_decode) if rtf_decode is not None else "(same)",
        ("1.00" if rtf_decode is None else
         f"{rtf / hearken_rtf:.2f} / {rtf_decode / hearken_rtf:.2f}") if hearken_rtf else "–",
    ]
    return cells, values


HEADER = ["system", "per-speaker detection error (miss / FA)", "overlap F1",
          "interruptions P / R", "talk-share abs. error (points)",
          "silences ≥ 2 s P / R", "echo call: per-speaker det. error",
          "speed (× real time)", "speed incl. decode", "speed ÷ hearken's (VAD only / incl. decode)"]


def md_table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |",
             "|" + "---|" + "---:|" * (len(HEADER) - 1)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def targets_row() -> list[str]:
    t = TARGETS
    return ["**issue targets**", t["spk_det"][0], t["overlap_f1"][0],
            f"{t['interruption_precision'][0]} / {t['interruption_recall'][0]}",
            t["talk_share_abs_error"][0],
            f"{t['silence_precision'][0]} / {t['silence_recall'][0]}",
            t["echo"][0], t["rtf"][0], "", ""]


def met(values: dict) -> list[str]:
    out = []
    for key, (label, ok) in TARGETS.items():
        v = values.get(key)
        if v is not None and ok(v):
            out.append(LABELS[key])
    return out


# ------------------------------------------------------------- environment

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_avg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def busy_warning(*loads: str) -> list[str]:
    """A warning paragraph when the 1-minute load exceeded the core count."""
    try:
        worst = max(float(l.split()[0]) for l in loads)
    except (ValueError, IndexError):
        return []
    cores = os.cpu_count() or 1
    if worst <= cores:
        return []
    return [f"> **Busy machine:** the 1-minute load average reached {worst:.1f} on {cores} "
            "cores during this run (other jobs). The accuracy columns are unaffected; the "
            "speed columns are not reliable — re-run on an idle machine before quoting them.",
            ""]


def venv_versions(python: Path) -> dict:
    code = ("import json,sys;from importlib import metadata as m\n"
            "out={'python':sys.version.split()[0]}\n"
            "for n in ['webrtcvad-wheels','webrtcvad','silero-vad','torch','onnxruntime',"
            "'numpy']:\n"
            "  try: out[n]=m.version(n)\n"
            "  except m.PackageNotFoundError: pass\n"
            "print(json.dumps(out))")
    proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    return json.loads(proc.stdout) if proc.returncode == 0 else {}


def hearken_version(hearken: Path) -> str:
    v = subprocess.run([str(hearken), "--version"], capture_output=True, text=True).stdout.strip()
    digest = hashlib.sha256(hearken.read_bytes()).hexdigest()[:12]
    mtime = dt.datetime.fromtimestamp(hearken.stat().st_mtime, dt.timezone.utc)
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "?"
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "src",
                            "Cargo.toml", "Cargo.lock"],
                           capture_output=True, text=True).stdout.strip()
    return (f"{v} (binary {hearken.relative_to(REPO) if hearken.is_relative_to(REPO) else hearken}, "
            f"built {mtime:%Y-%m-%d %H:%M} UTC, sha256 {digest}; HEAD {commit}"
            f"{' + uncommitted changes in src/' if dirty else ''})")


def sox_version() -> str:
    try:
        out = subprocess.run(["sox", "--version"], capture_output=True, text=True).stdout
        return out.strip().split()[-1]
    except OSError:
        return "?"


def criterion_vad() -> str | None:
    """Hearken's VAD-only throughput from the criterion bench, if it was run."""
    d = REPO / "target/criterion/stages/vad_stereo/new"
    try:
        bench = json.loads((d / "benchmark.json").read_text())
        est = json.loads((d / "estimates.json").read_text())
    except (OSError, ValueError):
        return None
    secs = bench.get("throughput", {}).get("Elements")
    median_ns = est["median"]["point_estimate"]
    if not secs:
        return None
    when = dt.datetime.fromtimestamp((d / "estimates.json").stat().st_mtime, dt.timezone.utc)
    return (f"{secs / (median_ns * 1e-9):,.0f}× real time (criterion `stages/vad_stereo`: "
            f"{secs} s of 16 kHz stereo in {median_ns / 1e6:.2f} ms, median; measured "
            f"{when:%Y-%m-%d %H:%M} UTC)")


# --------------------------------------------------------------------- main

def compare_set(args, set_dir: Path, audio: Path, ref: Path) -> tuple[str, dict]:
    name = set_dir.name if set_dir else audio.parent.name
    out = args.out / name
    out.mkdir(parents=True, exist_ok=True)
    wavs = sorted(audio.glob("*.wav"))
    if not wavs:
        raise SystemExit(f"no *.wav in {audio}")
    log(f"== {name}: {len(wavs)} files in {audio}")

    # 1. hearken
    walls = []
    for i in range(args.repeat):
        w = run_hearken(args.hearken, audio, out / "hearken", args.jobs, args.extra)
        walls.append(w)
        log(f"hearken analyze -j {args.jobs} run {i + 1}/{args.repeat}: {w:.3f} s")
    wall_j1 = run_hearken(args.hearken, audio, out / "hearken-j1", 1, args.extra)
    log(f"hearken analyze -j 1: {wall_j1:.3f} s")
    shutil.rmtree(out / "hearken-j1")
    durations = {}
    for rep in sorted((out / "hearken").glob("*.json")):
        try:
            d = json.loads(rep.read_text())
        except ValueError:
            continue
        if "schema_version" in d:
            durations[rep.stem] = d["input"]["duration_s"]
    audio_s = sum(durations.values())
    hk_wall = min(walls)
    hk_rtf = audio_s / hk_wall

    # 2. peers
    peers = ["webrtc", "silero"] + (["webrtc-smooth"] if args.webrtc_smooth else [])
    run_peers(args.python, audio, out / "peers", peers, args.threads)

    # 3. scores, one scorer for all
    systems = [("hearken", out / "hearken")] + [(p, out / "peers" / p) for p in peers]
    rows, values, timing = [], {}, {}
    for sys_name, hyp in systems:
        score = run_eval(args.hearken, ref, hyp, out / f"eval_{sys_name}.json")
        missing = sorted(set(w.stem for w in wavs) - set(score["files"]))
        if missing:
            raise SystemExit(f"{sys_name}: not scored: {', '.join(missing)}")
        if sys_name == "hearken":
            rtf, rtf_dec = hk_rtf, None
            timing[sys_name] = {"audio_s": audio_s, "wall_s": walls, "best_wall_s": hk_wall,
                                "rtf": hk_rtf, "wall_j1_s": wall_j1}
        else:
            t = json.loads((hyp / "timing.json").read_text())
            p_audio = t["total"]["audio_s"]
            vad = t["total"]["vad_wall_s"]
            dec = sum(f["decode_wall_s"] for f in t["files"].values())
            rtf, rtf_dec = p_audio / vad, p_audio / (vad + dec)
            timing[sys_name] = {"audio_s": p_audio, "vad_wall_s": vad, "decode_wall_s": dec,
                                "rtf": rtf, "rtf_incl_decode": rtf_dec}
            if abs(p_audio - audio_s) > 0.05 * len(wavs):
                log(f"warning: {sys_name} audio {p_audio:.2f} s vs hearken {audio_s:.2f} s")
        cells, vals = system_row(sys_name, score, args.echo, rtf, rtf_dec, hk_rtf)
        rows.append(cells)
        values[sys_name] = vals
    rows.append(targets_row())
    (out / "timing_summary.json").write_text(json.dumps(timing, indent=2) + "\n")

    n_ref = score["pooled"].get("reference_speech_s")
    text = [f"### {name}: {len(wavs)} stereo calls, {audio_s / 60:.1f} min of audio "
            f"(`{audio.relative_to(REPO) if audio.is_relative_to(REPO) else audio}`)", "",
            md_table(rows), ""]
    n_acc = len(TARGETS) - 1
    hk_met = [m for m in met(values["hearken"]) if m != LABELS["rtf"]]
    text.append(f"Accuracy targets met (of {n_acc}): hearken {len(hk_met)}"
                + (f" ({', '.join(hk_met)})" if hk_met else "") + "; "
                + "; ".join(f"{p} {len([m for m in met(values[p]) if m != LABELS['rtf']])}"
                            for p in peers)
                + ". The speed target is for the VAD alone: see the speed note below.")
    text.append("")
    text.append(f"Speed detail: hearken `-j {args.jobs}` wall {hk_wall:.2f} s (best of "
                f"{args.repeat}: {', '.join(f'{w:.2f}' for w in walls)} s); `-j 1` "
                f"{wall_j1:.2f} s = {fmt_rtf(audio_s / wall_j1)} on one core. "
                + "; ".join(f"{p}: VAD {timing[p]['vad_wall_s']:.2f} s + sox decode "
                            f"{timing[p]['decode_wall_s']:.2f} s" for p in peers)
                + (f". Reference speech {n_ref:.0f} s (sum over speakers)." if n_ref else "."))
    return "\n".join(text), values


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("set", nargs="?", type=Path, default=REPO / "target/devset",
                   help="data set directory with stereo/ and ref/ (default target/devset)")
    p.add_argument("--audio", type=Path, help="audio directory (default SET/stereo)")
    p.add_argument("--ref", type=Path, help="reference directory (default SET/ref)")
    p.add_argument("--also", type=Path, action="append", default=[],
                   help="another data set directory (stereo/ + ref/), e.g. target/devset2; "
                        "may be repeated")
    p.add_argument("--webrtc-smooth", action="store_true",
                   help="also run webrtc with py-webrtcvad's ring-buffer smoothing")
    p.add_argument("--repeat", type=int, default=3,
                   help="hearken analyze runs; the best wall time counts (default 3)")
    p.add_argument("--jobs", "-j", type=int, default=2, help="hearken -j (default 2)")
    p.add_argument("--threads", type=int, default=1, help="torch threads for silero (default 1)")
    p.add_argument("--transcribe", action="store_true",
                   help="let hearken analyze transcribe (default: --no-transcribe when the "
                        "binary has it; the peers do voice activity only)")
    p.add_argument("--echo", default="echo30-01", help="the echo call's stem (default echo30-01)")
    p.add_argument("--hearken", type=Path, default=REPO / "target/release/hearken")
    p.add_argument("--python", type=Path, default=REPO / "target/peers-venv/bin/python",
                   help="python of the peers venv")
    p.add_argument("--out", type=Path, default=REPO / "target/peers/compare",
                   help="work directory (default target/peers/compare)")
    p.add_argument("--md", type=Path, default=REPO / "docs/peers.md",
                   help="Markdown output (default docs/peers.md); '-' for none")
    return p.parse_args(argv)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    command = os.environ.get("HEARKEN_COMPARE_CMD") or shlex.join(
        ["scripts/peers/compare.py", *argv])
    for path, what in [(args.hearken, "hearken binary"), (args.python, "peers venv python")]:
        if not path.exists():
            raise SystemExit(f"missing {what}: {path}")
    sets = [(args.set, args.audio or args.set / "stereo", args.ref or args.set / "ref")]
    sets += [(d, d / "stereo", d / "ref") for d in args.also]
    hk_version_start = hearken_version(args.hearken)
    args.extra = analyze_extra(args.hearken, args.transcribe)
    analyze_cmd = " ".join(["hearken analyze DIR --out OUT", f"-j {args.jobs}", "--quiet",
                            *args.extra])
    load_start = load_avg()
    started = dt.datetime.now(dt.timezone.utc)
    sections = []
    for set_dir, audio, ref in sets:
        text, _ = compare_set(args, set_dir, audio.resolve(), ref.resolve())
        sections.append(text)
    load_end = load_avg()

    hk_version = hearken_version(args.hearken)
    if hk_version != hk_version_start:
        hk_version = (f"**the binary changed during the run** — at start: {hk_version_start}; "
                      f"at end: {hk_version}")
    vv = venv_versions(args.python)
    webrtc_v = vv.get("webrtcvad-wheels") or vv.get("webrtcvad", "?")
    crit = criterion_vad()
    doc = [
        "# hearken vs peer VADs",
        "",
        "Generated by",
        "",
        "```sh",
        command,
        "```",
        "",
        f"on {started:%Y-%m-%d %H:%M} UTC. Machine: {cpu_model()}, {os.cpu_count()} cores "
        f"(shared; load average {load_start} at start, {load_end} at end), "
        f"{platform.system()} {platform.release()}.",
        "",
        *busy_warning(load_start, load_end),
        *[s + "\n" for s in sections],
        "**Columns.** All systems are scored by the same scorer, `hearken eval --json` "
        "(collar 0, the references' UEMs; rates pooled over files: total error time / total "
        "reference time, events summed over files). Per-speaker detection error = (miss + "
        "false alarm) / reference speech, each channel's track against the reference track of "
        "the same speaker. Overlap F1 is time based. Interruptions match by onset (± 0.5 s) "
        "and interrupter; silences ≥ 2 s match as segments with IoU ≥ 0.5; reference events "
        "are derived from the reference RTTM with hearken's own definitions, the same code "
        "that derives them from every hypothesis. Talk-share error = mean over speakers of "
        "|share of speech (ref) − share (hyp)| in percentage points. Echo call = "
        f"`{args.echo}`'s per-speaker detection error.",
        "",
        "**Speed** = audio seconds / wall seconds (a stereo file counts its duration once). "
        f"hearken: wall time of the whole `{analyze_cmd}` process, end to end — decoding, "
        "resampling, VAD, conversation analysis and writing the reports"
        + (" (transcription off: the peers do voice activity only)"
           if "--no-transcribe" in args.extra else "")
        + f" — best of {args.repeat} runs, {args.jobs} calls in parallel. Peers: the VAD "
        "calls only, one thread, summed over files (`vad_peers.py`; model loading, warm-up and the sox decoding to 16 kHz int16 "
        "excluded); \"incl. decode\" adds the sox decoding wall time and is the column to "
        "set against hearken's end-to-end figure. The ≥ 3000× target is for the VAD alone; "
        "hearken's figure in the table is end to end"
        + (f"; its VAD stage alone runs at {crit}." if crit else
           "; run `make bench` for the VAD-only figure (criterion `stages/vad_stereo`)."),
        "",
        "**Peers.** webrtc = `webrtcvad.Vad(3)` on 30 ms frames, runs of speech frames as "
        "segments, no smoothing; webrtc-smooth = the same frames with py-webrtcvad "
        "`example.py`'s 300 ms ring buffer; silero = `load_silero_vad()` (TorchScript) + "
        "`get_speech_timestamps` with its defaults (threshold 0.5, min speech 250 ms, min "
        "silence 100 ms, pad 30 ms), torch threads 1. Each peer runs per channel, channel 1 "
        "= agent, channel 2 = customer (`scripts/peers/README.md`).",
        "",
        f"**Versions.** hearken: {hk_version}. Python {vv.get('python', '?')}, "
        f"webrtcvad-wheels {webrtc_v}, silero-vad {vv.get('silero-vad', '?')}, torch "
        f"{vv.get('torch', '?')}, onnxruntime {vv.get('onnxruntime', '?')}, numpy "
        f"{vv.get('numpy', '?')}, sox {sox_version()}. Work files (hypotheses, eval JSON, "
        f"timings): `{args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}`.",
        "",
    ]
    text = "\n".join(doc)
    print(text)
    if str(args.md) != "-":
        args.md.parent.mkdir(parents=True, exist_ok=True)
        args.md.write_text(text)
        log(f"wrote {args.md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
