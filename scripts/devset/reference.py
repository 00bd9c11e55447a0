"""Reference speech (ground truth) and the files that carry it.

The rule (see make_devset.py's docstring for the full statement):
10 ms frames of the placed, clean, single-speaker utterance; a frame is
speech when its RMS level is >= the utterance's peak frame level - 35 dB;
then gaps shorter than 100 ms between speech frames are filled, then speech
islands shorter than 30 ms are dropped.

Times are kept as integer frame counts (1 frame = 10 ms) and only formatted
as seconds when written, so every onset/duration is an exact multiple of
0.01 s.
"""

import json

import numpy as np

RATE = 16000            # call timeline rate
FRAME = RATE // 100     # 10 ms = 160 samples
THRESHOLD_DB = 35.0     # speech if level >= peak - 35 dB
MAX_GAP_FRAMES = 9      # gaps shorter than 100 ms (<= 9 frames) are filled
MIN_ISLAND_FRAMES = 3   # islands shorter than 30 ms (<= 2 frames) are dropped


def frame_levels_db(x):
    """RMS level in dB of each non-overlapping 10 ms frame of `x` (its
    length must be a multiple of FRAME)."""
    assert len(x) % FRAME == 0, "utterance length must be a multiple of 10 ms"
    p = np.mean(np.square(x.reshape(-1, FRAME)), axis=1)
    return 10.0 * np.log10(np.maximum(p, 1e-20))


def runs(mask):
    """(start, end) index pairs of the runs of True in a boolean array."""
    m = np.concatenate(([False], np.asarray(mask, dtype=bool), [False]))
    d = np.flatnonzero(m[1:] != m[:-1])
    return list(zip(d[0::2].tolist(), d[1::2].tolist()))


def fill_gaps(mask, max_gap):
    """Set to True every run of False of length <= max_gap that lies
    between two True frames."""
    out = mask.copy()
    r = runs(mask)
    for (_, e0), (s1, _) in zip(r, r[1:]):
        if s1 - e0 <= max_gap:
            out[e0:s1] = True
    return out


def drop_islands(mask, min_len):
    """Clear every run of True shorter than min_len frames."""
    out = mask.copy()
    for s, e in runs(mask):
        if e - s < min_len:
            out[s:e] = False
    return out


def reference_frames(x):
    """Boolean speech/non-speech per 10 ms frame of a placed utterance."""
    db = frame_levels_db(x)
    speech = db >= db.max() - THRESHOLD_DB
    speech = fill_gaps(speech, MAX_GAP_FRAMES)
    return drop_islands(speech, MIN_ISLAND_FRAMES)


def active_level_db(x, ref):
    """Active speech level: mean power over the reference speech frames, dB."""
    p = np.mean(np.square(x.reshape(-1, FRAME)), axis=1)[ref]
    return 10.0 * np.log10(max(float(np.mean(p)), 1e-20))


def fmt_t(frames):
    """Frames (10 ms) as seconds with exactly two decimals."""
    return "%d.%02d" % divmod(int(frames), 100)


# --- writing -----------------------------------------------------------------

CHANNELS = {0: ("1", "agent"), 1: ("2", "customer")}


def write_rttm(path, call, chan_masks):
    """One SPEAKER line per contiguous reference interval, sorted by onset."""
    rows = []
    for ch, mask in enumerate(chan_masks):
        for s, e in runs(mask):
            rows.append((s, ch, e))
    rows.sort()
    with open(path, "w") as f:
        for s, ch, e in rows:
            num, spk = CHANNELS[ch]
            f.write("SPEAKER %s %s %s %s <NA> <NA> %s <NA> <NA>\n"
                    % (call, num, fmt_t(s), fmt_t(e - s), spk))


def write_uem(path, call, n_frames):
    with open(path, "w") as f:
        f.write("%s 1 0.00 %s\n" % (call, fmt_t(n_frames)))


def write_stm(path, call, utterances):
    """One line per placed utterance, sorted by channel then start; the span
    is the utterance's reference speech extent."""
    rows = sorted(utterances, key=lambda u: (u["channel"], u["ref_start_f"]))
    with open(path, "w") as f:
        for u in rows:
            num, spk = CHANNELS[u["channel"]]
            text = u["stm_text"]
            f.write("%s %s %s %s %s %s\n" % (call, num, spk, fmt_t(u["ref_start_f"]),
                                              fmt_t(u["ref_end_f"]), text))


def write_json(path, meta):
    with open(path, "w") as f:
        json.dump(meta, f, indent=1, sort_keys=False)
        f.write("\n")


# --- reading back (self-check) -------------------------------------------------

def read_rttm(path):
    """{speaker: [(onset_frames, end_frames, chan), ...]} from an RTTM file."""
    out = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if not p or p[0] != "SPEAKER":
                continue
            on = round(float(p[3]) * 100)
            dur = round(float(p[4]) * 100)
            out.setdefault(p[7], []).append((on, on + dur, p[2], p[3], p[4]))
    return out


def overlap_frames(a, b):
    """Total overlap in frames between two lists of (start, end) intervals."""
    tot = 0
    for s0, e0 in a:
        for s1, e1 in b:
            tot += max(0, min(e0, e1) - max(s0, s1))
    return tot
