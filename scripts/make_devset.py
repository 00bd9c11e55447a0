#!/usr/bin/env python3
"""Build hearken's development set of stereo test calls from real recorded
speech, with exact ground truth.

Usage:
  scripts/fetch-sources.sh target/sources
  python3 scripts/make_devset.py --sources target/sources --out target/devset \\
      [--seed 1] [--only NAME ...] [--long 10 60 [--no-calls]] [--verify]
  python3 scripts/make_devset.py --sources target/sources --sample --out samples

Deterministic: the same sources, seed and code give byte-identical files
(numpy RNG streams seeded per call from (seed, crc32(call name)), sox run
with -R -D).  Dependencies: numpy, sox.

Calls
-----
Channel 0 (RTTM/STM channel 1) is the agent, channel 1 (channel 2) the
customer; the two are always different real speakers (devset/sources.py).
Utterances are 1-8 s pieces of real recordings cut at pauses; backchannels
are single words cut at pauses with < 1 s of reference speech.  Every
placed utterance starts at a multiple of 10 ms of the 16 kHz call timeline
and its length is a multiple of 10 ms.  See devset/conversation.py for the
turn-taking (gaps, long silences, overlaps, interruptions, backchannels,
hold) and devset/calls.py for the conditions of each call.

Ground truth (the reference)
----------------------------
1. Reference speech is computed per placed utterance, on the clean
   single-speaker signal at the gain it is placed with (before any mixing,
   noise, music, echo, clipping, DC, band-limiting, resampling or coding):
   non-overlapping 10 ms frames (160 samples at 16 kHz) aligned to the
   call timeline; frame level = 10*log10(mean(x^2)) dB; a frame is speech
   iff its level >= (the utterance's highest frame level - 35 dB).
2. Then, within the utterance, runs of non-speech frames shorter than
   100 ms (<= 9 frames) lying between speech frames become speech, and then
   runs of speech shorter than 30 ms (<= 2 frames) become non-speech.
3. An interrupted utterance is first cut where the overlap ends, with a
   30 ms linear fade-out ending at the cut; its reference is computed on
   the cut, faded signal.
4. A channel's reference is the union of its utterances' references (one
   speaker per channel; same-channel utterances never overlap).  Gaps
   between utterances are not filled.
5. Echo, noise and music never count as speech, even when audible: the
   echo of the agent in the customer channel is not customer speech, music
   on hold is not speech.
6. The mono mix (sum of the channels at -3 dB each, no echo) has the same
   reference (both speakers).

Files
-----
OUT/stereo/<call>.wav   the call, in its condition's rate/encoding
OUT/mono/<call>.wav     mono mix, same rate/encoding, same impairments but echo
OUT/ref/<call>.rttm     SPEAKER <call> <chan> <onset> <dur> <NA> <NA> <spk> <NA> <NA>:
                        chan 1 = agent, 2 = customer; one line per contiguous
                        reference interval; sorted by onset; times in seconds
                        with exactly 2 decimals (exact multiples of 10 ms)
OUT/ref/<call>.uem      <call> 1 0.00 <duration>
OUT/ref/<call>.stm      sclite STM, one line per placed utterance:
                        <call> <chan> <speaker> <start> <end> <text>, with
                        start/end = the utterance's reference extent; text
                        lowercase without punctuation (word-internal
                        apostrophes kept, hyphens split); unknown or
                        truncated-by-interruption text is
                        ignore_time_segment_in_scoring
OUT/ref/<call>.json     conditions and their parameters, every placed
                        utterance (speaker, source, offsets, times, text,
                        role turn/interruption/backchannel/overlap), the
                        intended interruptions (at, interrupted_end,
                        interrupter, interrupted, overlap_s), backchannels
                        (at, end, interrupter = who says it, interrupted =
                        who keeps talking) and long_silences (>= 2 s with
                        no reference speech); times in seconds
OUT/manifest.csv        call, conditions, rate, format, duration_s,
                        n_utterances, n_interruptions, n_backchannels
OUT/long/long-<N>min.*  (--long N) stereo 8 kHz 16-bit benchmark files + RTTM/UEM

Definitions used by the plan: an *interruption* overlaps 0.30-1.2 s in the
reference and the interrupted party stops (is cut); a non-interrupting
*overlap* starts 0.10-0.25 s before the other party's natural end; a
*backchannel* has < 1 s of reference speech and lies entirely inside the
other party's reference speech (>= 0.5 s of it on both sides).
SNR = channel active speech level (mean power over its reference frames)
minus the mean power of the noise over the whole call.
"""

import argparse
import csv
import os
import sys
import time

sys.dont_write_bytecode = True     # keep scripts/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from devset import build, calls, long as longcalls, sources, verify  # noqa: E402

MANIFEST_FIELDS = ["call", "conditions", "rate", "format", "duration_s", "n_utterances",
                   "n_interruptions", "n_backchannels"]


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sources", default="target/sources", help="fetch-sources.sh output dir")
    ap.add_argument("--out", default=None,
                    help="output dir (default target/devset, or samples with --sample)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", nargs="+", metavar="NAME", help="build only these calls")
    ap.add_argument("--long", nargs="+", type=int, metavar="MINUTES",
                    help="also write OUT/long/long-<N>min.wav for each N")
    ap.add_argument("--no-calls", action="store_true",
                    help="with --long: write only the long files")
    ap.add_argument("--sample", action="store_true",
                    help="write the bundled demo sample (demo-call.*, demo-mono.wav)")
    ap.add_argument("--verify", action="store_true",
                    help="only re-check an existing OUT (no generation)")
    ap.add_argument("--list", action="store_true", help="list the calls and exit")
    return ap.parse_args(argv)


def write_manifest(path, rows):
    """Merge rows into manifest.csv (keeps other calls' rows with --only)."""
    old = {}
    if os.path.exists(path):
        with open(path) as f:
            old = {r["call"]: r for r in csv.DictReader(f)}
    for r in rows:
        old[r["call"]] = r
    order = [c["name"] for c in calls.CALLS]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=MANIFEST_FIELDS, lineterminator="\n")
        w.writeheader()
        for name in sorted(old, key=lambda n: order.index(n) if n in order else 999):
            w.writerow(old[name])


def read_manifest(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def verify_devset(out, names=None):
    """Re-check every call in the manifest; returns the number of errors."""
    n_err = 0
    for row in read_manifest(os.path.join(out, "manifest.csv")):
        if names and row["call"] not in names:
            continue
        row["rate"] = int(row["rate"])
        errs = verify.check_call(build.devset_paths(out, row["call"]), row)
        for e in errs:
            print("VERIFY %s: %s" % (row["call"], e))
        n_err += len(errs)
    return n_err


def sample_paths(out):
    return {"stereo": os.path.join(out, "demo-call.wav"),
            "mono": os.path.join(out, "demo-mono.wav"),
            "ref": os.path.join(out, "demo-call")}


def make_sample(pool, seed, out):
    spec = calls.SAMPLE
    row = build.build_call(spec, pool, seed, sample_paths(out))
    errs = verify.check_call(sample_paths(out), row, mono_fmt=spec["mono_fmt"])
    for e in errs:
        print("VERIFY demo-call: %s" % e)
    print("sample: %s s, %d utterances, %d interruption(s), %d backchannel(s)"
          % (row["duration_s"], row["n_utterances"], row["n_interruptions"],
             row["n_backchannels"]))
    return len(errs)


def make_devset(pool, seed, out, only):
    specs = [c for c in calls.CALLS if not only or c["name"] in only]
    missing = set(only or []) - {c["name"] for c in calls.CALLS}
    if missing:
        sys.exit("unknown call(s): %s (see --list)" % ", ".join(sorted(missing)))
    rows = []
    for spec in specs:
        t0 = time.time()
        rows.append(build.build_call(spec, pool, seed, build.devset_paths(out, spec["name"])))
        r = rows[-1]
        print("%-30s %6s s  %5d Hz %-5s  utts=%3d int=%d bc=%d  (%.1f s)"
              % (r["call"], r["duration_s"], r["rate"], r["format"], r["n_utterances"],
                 r["n_interruptions"], r["n_backchannels"], time.time() - t0), flush=True)
    write_manifest(os.path.join(out, "manifest.csv"), rows)
    return verify_devset(out, {r["call"] for r in rows})


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        for c in calls.CALLS:
            print("%-30s %s" % (c["name"], "+".join(calls.conditions(c))))
        return 0
    out = args.out or ("samples" if args.sample else "target/devset")
    if args.verify:
        n_err = verify_devset(out, set(args.only) if args.only else None)
        print("verify: %d error(s)" % n_err)
        return 1 if n_err else 0
    t0 = time.time()
    pool = sources.load_all(args.sources)
    voice_errs = sources.one_voice_each(pool)
    for e in voice_errs:
        print("VERIFY sources: %s" % e)
    if args.sample:
        n_err = make_sample(pool, args.seed, out)
    else:
        n_err = 0 if args.no_calls else make_devset(pool, args.seed, out, args.only)
        for minutes in args.long or []:
            r = longcalls.build_long(minutes, pool, args.seed, os.path.join(out, "long"))
            print("long: %s (%d interruptions, %d backchannels)"
                  % (r["file"], r["interruptions"], r["backchannels"]))
    n_err += len(voice_errs)
    print("done in %.1f s, %d verification error(s)" % (time.time() - t0, n_err))
    return 1 if n_err else 0


if __name__ == "__main__":
    sys.exit(main())
