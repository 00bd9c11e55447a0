"""Long conversations for throughput/memory benchmarks: stereo 8 kHz 16-bit,
built block by block (5-minute conversations back to back, each planned
like a devset call) and streamed to disk, with one RTTM/UEM for the file.
The reference follows the same rule as the devset (computed on the 16 kHz
clean placed utterances); audio is taken to 8 kHz by FFT decimation of each
placed utterance (they start and end at zero, so no edge effects)."""

import os

import numpy as np

from . import audio, reference as ref
from .build import rngs_for
from .conversation import Planner


RATE_OUT = 8000
FRAME_OUT = RATE_OUT // 100
BLOCK_S = 300
PAIR = ("sonnet", "an4")
LEVELS = [-24.0, -26.0]
FLOOR_DBFS = -72.0


def decimate2(x):
    """16 kHz -> 8 kHz by truncating the spectrum (len(x) is even)."""
    n = len(x) // 2
    return np.fft.irfft(np.fft.rfft(x)[:n // 2 + 1], n) * 0.5


def block_plan(rng, pool, target_f):
    req = dict(interrupt=8, bc=8, overlap=5, long=3, vlong=1)   # per 5 min
    p = Planner(rng, [pool[PAIR[0]], pool[PAIR[1]]], LEVELS, target_f, req)
    items, ints, bcs, _ = p.plan()
    return items, ints, bcs


def render_block(items, n_f, rng):
    """(n, 2) float32 8 kHz audio and (2, n_f) reference masks of a block."""
    y = np.zeros((n_f * FRAME_OUT, 2), dtype=np.float32)
    masks = np.zeros((2, n_f), dtype=bool)
    for it in items:
        a = it.start_f * FRAME_OUT
        s = decimate2(it.samples)
        y[a:a + len(s), it.channel] += s.astype(np.float32)
        masks[it.channel, it.start_f:it.start_f + len(it.ref)] |= it.ref
    y += (rng.standard_normal(y.shape) * 10 ** (FLOOR_DBFS / 20)).astype(np.float32)
    return y, masks


def build_long(minutes, pool, seed, out_dir):
    """Write long-<N>min.wav/.rttm/.uem in out_dir; returns counts."""
    name = "long-%dmin" % minutes
    os.makedirs(out_dir, exist_ok=True)
    total_f = minutes * 6000
    plan_rng, noise_rng = rngs_for(seed, name)
    wav_path = os.path.join(out_dir, name + ".wav")
    rows, t_f, n_int, n_bc = [], 0, 0, 0
    with open(wav_path, "wb") as f:
        f.write(audio.wav_header("pcm16", RATE_OUT, 2, total_f * FRAME_OUT))
        while t_f < total_f:
            left = total_f - t_f
            target = min(BLOCK_S * 100, left - 1500)
            items, ints, bcs, n_f = [], [], [], left   # too short to talk: silence
            for _ in range(50 if target >= 3000 else 0):
                items, ints, bcs = block_plan(plan_rng, pool, target)
                n_f = max(it.end_f for it in items) + int(plan_rng.integers(30, 100))
                if n_f <= left:
                    break
            else:
                items, ints, bcs, n_f = [], [], [], left
            y, masks = render_block(items, n_f, noise_rng)
            f.write(audio.quantize(y, "pcm16", RATE_OUT))
            for ch in (0, 1):
                rows += [(t_f + s, ch, t_f + e) for s, e in ref.runs(masks[ch])]
            t_f, n_int, n_bc = t_f + n_f, n_int + len(ints), n_bc + len(bcs)
    with open(os.path.join(out_dir, name + ".rttm"), "w") as f:
        for s, ch, e in sorted(rows):
            num, spk = ref.CHANNELS[ch]
            f.write("SPEAKER %s %s %s %s <NA> <NA> %s <NA> <NA>\n"
                    % (name, num, ref.fmt_t(s), ref.fmt_t(e - s), spk))
    ref.write_uem(os.path.join(out_dir, name + ".uem"), name, total_f)
    return {"file": wav_path, "interruptions": n_int, "backchannels": n_bc}
