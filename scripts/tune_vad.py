#!/usr/bin/env python3
"""Coordinate-descent tuning of hearken's [vad] settings on a development set.

    python3 scripts/tune_vad.py --ref target/devset/ref --audio target/devset/stereo \
        [--check target/devset2] [--rounds 2] [--out tuned.toml]

Each candidate setting is written to a temporary config and scored with
`hearken eval --json` (the very command users run). The objective is the
pooled per-speaker detection error, plus smaller terms for overlap F1,
interruption precision/recall and the talk-share error, so that a setting
does not buy detection error at the cost of the conversation metrics:

    J = DER + 0.25 (1 - overlap F1) + 0.1 (2 - int P - int R) + 0.002 share_err

With --check, the best setting is also scored on a second development set
built with another seed (same sources, other placements and noises): a gain
that does not carry over there is overfitting. This is how the defaults in
src/vad/mod.rs and config/default.toml were chosen; the README quotes the
figures.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HEARKEN = os.environ.get("HEARKEN", "target/release/hearken")

# name -> candidate values (the current value is always kept as a candidate)
GRID = {
    "onset": [0.4, 0.5, 0.6, 0.7],
    "offset": [0.2, 0.3, 0.35, 0.45],
    "snr_mid_db": [3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
    "snr_scale_db": [1.0, 2.0, 3.0],
    "periodicity_weight": [0.0, 0.5, 1.0, 2.0],
    "periodicity_mid": [0.4, 0.5, 0.6],
    "relative_floor_db": [35.0, 40.0, 45.0, 60.0],
    "min_speech_ms": [0, 30, 60, 100],
    "min_gap_ms": [80, 100, 120, 150, 200],
    "pad_onset_ms": [0, 10, 20, 40],
    "pad_offset_ms": [0, 10, 20, 40, 60],
    "noise_cap_db": [6.0, 9.0, 12.0, 15.0],
    "noise_tau_ms": [100.0, 300.0, 1000.0],
    "noise_slow_tau_ms": [2000.0, 5000.0, 15000.0],
    "noise_window_s": [1.0, 1.5, 2.5],
    "hidden_gap_ms_per_db": [0.0, 8.0, 15.0, 25.0],
    "hidden_pad_ms_per_db": [0.0, 2.0, 3.0, 5.0],
    "smooth_half_width": [0, 1, 2],
    "voiced_periodicity": [0.5, 0.6, 0.7],
    "min_voiced_frames": [0, 3, 6],
    "crosstalk_margin_db": [3.0, 6.0, 9.0],
    "music_steady_fraction": [0.08, 0.12, 0.2, 0.3],
    "edge_rel_db": [30.0, 35.0, 40.0],
    "edge_snr_db": [3.0, 6.0, 10.0],
    "edge_max_frames": [2, 4, 6, 8],
}


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v)


def score(ref, audio, params, jobs):
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write("[vad]\n")
        for k, v in params.items():
            f.write(f"{k} = {toml_value(v)}\n")
        cfg = f.name
    try:
        files = sorted(os.path.join(audio, x) for x in os.listdir(audio) if x.endswith(".wav"))
        out = subprocess.run(
            [HEARKEN, "eval", "--ref", ref, "--json", "--config", cfg, "-j", str(jobs), *files],
            capture_output=True, text=True, check=True,
        )
    finally:
        os.unlink(cfg)
    p = json.loads(out.stdout)["pooled"]
    der = p["per_speaker_detection_error_rate"]
    f1 = p["overlap_f1"] or 0.0
    ip = p["interruption_precision"] or 0.0
    ir = p["interruption_recall"] or 0.0
    share = p["talk_share_abs_error"] or 0.0
    j = der + 0.25 * (1 - f1) + 0.1 * (2 - ip - ir) + 0.002 * share
    return j, p


def summary(p):
    return (f"DER {100*p['per_speaker_detection_error_rate']:.2f}% "
            f"(miss {100*p['per_speaker_miss_rate']:.2f} fa {100*p['per_speaker_false_alarm_rate']:.2f}) "
            f"ovlF1 {100*(p['overlap_f1'] or 0):.1f} intP {100*(p['interruption_precision'] or 0):.1f} "
            f"intR {100*(p['interruption_recall'] or 0):.1f} share {p['talk_share_abs_error']:.2f} "
            f"silP {100*(p['silence_precision'] or 0):.1f} silR {100*(p['silence_recall'] or 0):.1f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref", required=True)
    ap.add_argument("--audio", required=True)
    ap.add_argument("--check", help="second devset dir (with ref/ and stereo/)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", nargs="*", help="tune only these parameters")
    ap.add_argument("--start", help="TOML-ish file of name = value lines to start from")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default="tuned-vad.toml")
    a = ap.parse_args()

    params = {}
    if a.start:
        for line in open(a.start):
            line = line.split("#")[0].strip()
            if "=" in line and not line.startswith("["):
                k, v = (x.strip() for x in line.split("=", 1))
                params[k] = json.loads(v.replace("true", "true"))
    best_j, best_p = score(a.ref, a.audio, params, a.jobs)
    print(f"start J={best_j:.4f} {summary(best_p)}", flush=True)
    names = a.only or list(GRID)
    for r in range(a.rounds):
        improved = False
        for name in names:
            for v in GRID[name]:
                if params.get(name) == v:
                    continue
                trial = dict(params, **{name: v})
                j, p = score(a.ref, a.audio, trial, a.jobs)
                mark = ""
                if j < best_j - 1e-4:
                    best_j, best_p, params, improved, mark = j, p, trial, True, " *"
                print(f"r{r} {name}={v}: J={j:.4f} {summary(p)}{mark}", flush=True)
        with open(a.out, "w") as f:
            f.write("[vad]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in sorted(params.items())))
        print(f"round {r}: J={best_j:.4f} {summary(best_p)}\n  {params}", flush=True)
        if not improved:
            break
    if a.check:
        j, p = score(os.path.join(a.check, "ref"), os.path.join(a.check, "stereo"), params, a.jobs)
        j0, p0 = score(os.path.join(a.check, "ref"), os.path.join(a.check, "stereo"), {}, a.jobs)
        print(f"check (defaults): J={j0:.4f} {summary(p0)}")
        print(f"check (tuned):    J={j:.4f} {summary(p)}")


if __name__ == "__main__":
    sys.exit(main())
