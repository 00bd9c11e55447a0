"""Self-check of generated ground truth: re-reads what was written."""

import json
import os

from . import audio
from .reference import overlap_frames, read_rttm

CHAN_OF = {"agent": "1", "customer": "2"}


def read_uem_frames(path):
    with open(path) as f:
        p = f.read().split()
    return round(float(p[3]) * 100)


def check_rttm(path, n_f):
    """Errors in one RTTM: sorting, per-speaker overlaps, bounds, format."""
    errs, prev_on = [], -1
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) != 10 or p[0] != "SPEAKER":
                errs.append("bad line: %r" % line)
                continue
            for v in (p[3], p[4]):
                if len(v.split(".")[-1]) != 2:
                    errs.append("not 2 decimals: %r" % line)
            on = round(float(p[3]) * 100)
            if on < prev_on:
                errs.append("not sorted by onset at %s" % p[3])
            prev_on = on
    for spk, ivs in read_rttm(path).items():
        if spk not in CHAN_OF:
            errs.append("unknown speaker %s" % spk)
            continue
        end = -1
        for on, off, chan, _, _ in ivs:
            if chan != CHAN_OF[spk]:
                errs.append("%s on channel %s" % (spk, chan))
            if off <= on:
                errs.append("%s empty interval at %d" % (spk, on))
            if on <= end:
                errs.append("%s intervals overlap/touch at %d" % (spk, on))
            if on < 0 or off > n_f:
                errs.append("%s interval %d-%d outside 0-%d" % (spk, on, off, n_f))
            end = off
    return errs


def check_events(rttm, meta):
    """Every intended interruption overlaps >= 0.30 s in the reference, and
    every backchannel is < 1 s and lies inside the other party's speech."""
    errs = []
    iv = {s: [(a, b) for a, b, *_ in v] for s, v in read_rttm(rttm).items()}
    def fr(t):
        return round(float(t) * 100)
    for e in meta["interruptions"]:
        at, end = fr(e["at"]), fr(e["interrupted_end"])
        a = [(max(s, at), min(t, end)) for s, t in iv.get(e["interrupter"], [])]
        b = [(max(s, at), min(t, end)) for s, t in iv.get(e["interrupted"], [])]
        got = overlap_frames([x for x in a if x[1] > x[0]], [x for x in b if x[1] > x[0]])
        if got < 30:
            errs.append("interruption at %s overlaps only %d ms" % (e["at"], 10 * got))
        if not any(s <= at < t and t == end for s, t in iv.get(e["interrupted"], [])):
            errs.append("interruption at %s: interrupted speech does not run to %s"
                        % (e["at"], e["interrupted_end"]))
    for e in meta["backchannels"]:
        at, end = fr(e["at"]), fr(e["end"])
        if not any(s == at and t == end for s, t in iv.get(e["interrupter"], [])):
            errs.append("backchannel at %s is not its own reference interval" % e["at"])
        if end - at >= 100:
            errs.append("backchannel at %s lasts >= 1 s" % e["at"])
        if not any(s <= at and end <= t for s, t in iv.get(e["interrupted"], [])):
            errs.append("backchannel at %s not inside %s's speech" % (e["at"], e["interrupted"]))
    return errs


def check_wav(path, rate, fmt, channels, n_f):
    info = audio.read_wav_info(path)
    tag, bits = audio.FORMATS[fmt]
    want = dict(tag=tag, bits=bits, rate=rate, channels=channels,
                n_frames=n_f * rate // 100)
    return ["%s: %s=%s, expected %s" % (os.path.basename(path), k, info[k], v)
            for k, v in want.items() if info[k] != v]


def check_call(paths, row, mono_fmt=None):
    """All checks for one call; returns a list of error strings."""
    base = paths["ref"]
    n_f = read_uem_frames(base + ".uem")
    with open(base + ".json") as f:
        meta = json.load(f)
    errs = check_rttm(base + ".rttm", n_f)
    errs += check_events(base + ".rttm", meta)
    errs += check_wav(paths["stereo"], row["rate"], row["format"], 2, n_f)
    errs += check_wav(paths["mono"], row["rate"], mono_fmt or row["format"], 1, n_f)
    with open(base + ".stm") as f:
        n_stm = sum(1 for line in f if not line.startswith(";;"))
    if n_stm != len(meta["utterances"]):
        errs.append("STM has %d lines for %d utterances" % (n_stm, len(meta["utterances"])))
    if len(meta["interruptions"]) < meta["required_transitions"].get("interrupt", 0):
        errs.append("fewer interruptions than required")
    return errs
