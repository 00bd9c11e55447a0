#!/usr/bin/env bash
# make_annotate_fixtures.sh: regenerate tests/fixtures/annotate/ (the speech
# the pitch and pace tests of src/annotate measure) with espeak-ng and sox.
#
# Everything is synthetic speech whose truth is known by construction:
#
# * pitch_*.wav: one sentence with a flat pitch contour (SSML
#   <prosody range="0">). With the pitch range at zero, espeak-ng's wavegen
#   holds F0 at (pitch_base * pitch_adjust_tab[p] / 128 + pitch_range * 18)
#   / 4096 Hz, with pitch_base = (lo - 9) << 12 and pitch_range = (hi - lo) *
#   108 from the voice's "pitch lo hi" line (default voice: 80 118; variant
#   m1: 75 109; f1: 140 200), plus a small zero-mean "flutter". The expected
#   Hz go in the manifest, and beside them the median of an independent
#   reference tracker (a normalised autocorrelation written here in numpy)
#   that confirms them.
# * pace_s*.wav: one passage at several espeak-ng speeds, natural
#   intonation. espeak's -s is only nominal, so the truth is measured: words
#   (and hand-counted syllables) over the duration of the rendered speech.
#   The reference tracker's median pitch is stored too (natural contour).
# * pace_words.wav: the passage rendered word by word at -s 175 and joined
#   with known gaps (some of them pauses >= 250 ms): word boundaries exact
#   to the sample.
# * calibration.txt (kept, not generated): call-centre dialogue whose
#   syllables per word, counted from espeak-ng's phonemes, calibrate the
#   acoustic pace (src/annotate/pace.rs).
#
# Every file is stored as a call arrives, 8 kHz G.711 mu-law WAV (and small:
# about 8 KB per second); times in the manifest are samples at 16 kHz, the
# rate the tests analyse at after resampling.
#
# manifest.json holds all of it. Output is deterministic for a given
# espeak-ng and sox (no dither). Needs espeak-ng, sox (with FLAC) and
# python3 with numpy. Run from anywhere; writes into the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
for t in espeak-ng sox python3; do
    command -v "$t" >/dev/null 2>&1 || { echo "make_annotate_fixtures: '$t' not found" >&2; exit 1; }
done
python3 -c 'import numpy' 2>/dev/null || { echo "make_annotate_fixtures: python3 numpy not found" >&2; exit 1; }

OUT=tests/fixtures/annotate
mkdir -p "$OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

python3 - "$OUT" "$TMP" <<'PY'
import json, os, subprocess, sys, wave
import numpy as np

OUT, TMP = sys.argv[1], sys.argv[2]
SR = 16000

# espeak-ng's pitch_adjust_tab (wavegen.c): 128 * 2^x, x = -1..1 over p = 0..99+.
PITCH_ADJUST = [
    64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79,
    80, 81, 82, 83, 84, 86, 87, 88, 89, 91, 92, 93, 94, 96, 97, 98,
    100, 101, 103, 104, 105, 107, 108, 110, 111, 113, 115, 116, 118, 119, 121, 123,
    124, 126, 128, 130, 132, 133, 135, 137, 139, 141, 143, 145, 147, 149, 151, 153,
    155, 158, 160, 162, 164, 167, 169, 171, 174, 176, 179, 181, 184, 186, 189, 191,
    194, 197, 199, 202, 205, 208, 211, 214, 217, 220, 223, 226, 229, 232, 236, 239,
    242, 246, 249, 252, 254, 255]
# "pitch lo hi" of each voice (voices.c default; espeak-ng-data/voices/!v/*).
VOICE_PITCH = {"en-us": (80, 118), "en-us+m1": (75, 109), "en-us+f1": (140, 200)}


def expected_flat_hz(voice, p):
    lo, hi = VOICE_PITCH[voice]
    base = ((lo - 9) << 12) * PITCH_ADJUST[p] // 128 + (hi - lo) * 108 * 18
    return base / 4096.0


def render(text, voice, speed=175, pitch=50, ssml=False):
    raw, out = os.path.join(TMP, "raw.wav"), os.path.join(TMP, "r16.wav")
    args = ["espeak-ng", "-z", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", raw]
    if ssml:
        args.append("-m")
    subprocess.run(args + [text], check=True)
    subprocess.run(["sox", "-D", raw, "-r", str(SR), "-b", "16", out, "rate", "-v"], check=True)
    with wave.open(out) as w:
        assert w.getframerate() == SR and w.getnchannels() == 1
        x = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.int32)
    return x


def trim(x, thr=100):
    """Cut to the first and last sample above thr (about -50 dBFS)."""
    nz = np.nonzero(np.abs(x) > thr)[0]
    return x[nz[0]:nz[-1] + 1]


def write_telephone(name, x):
    """Stores 16 kHz speech as a call would arrive: 8 kHz G.711 mu-law WAV
    (format tag 7). The tests bring it back to 16 kHz through hearken's own
    reader and resampler."""
    wav = os.path.join(TMP, name + ".wav")
    with wave.open(wav, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(np.clip(x, -32768, 32767).astype("<i2").tobytes())
    out = os.path.join(OUT, name + ".wav")
    subprocess.run(["sox", "-D", wav, "-r", "8000", "-e", "u-law", "-b", "8", out, "rate", "-v"],
                   check=True)
    return name + ".wav"


def reference_f0(x, win=0.05, hop=0.01, fmin=50, fmax=500):
    """An independent pitch reference: the normalised autocorrelation of
    50 ms Hann-windowed frames divided by the window's own (Boersma 1993),
    the shortest-lag peak within 10% of the highest above 0.7, parabolic
    interpolation. Frames below -40 dBFS are skipped. Returns voiced F0s."""
    x = x.astype(float) / 32768
    n, h = int(win * SR), int(hop * SR)
    w = np.hanning(n)
    nfft = 4 * n
    wac = np.fft.irfft(np.abs(np.fft.rfft(w, nfft)) ** 2)[:n]
    wac /= wac[0]
    lo, hi = int(SR / fmax), int(SR / fmin)
    out = []
    for s in range(0, len(x) - n, h):
        f = x[s:s + n] - x[s:s + n].mean()
        if np.sqrt((f ** 2).mean()) < 0.01:
            continue
        ac = np.fft.irfft(np.abs(np.fft.rfft(f * w, nfft)) ** 2)[:n]
        r = ac / ac[0] / np.maximum(wac, 1e-3)
        k = lo + int(np.argmax(r[lo:hi]))
        if r[k] < 0.7:
            continue
        for kk in range(lo, hi - 1):
            if r[kk] >= r[kk - 1] and r[kk] >= r[kk + 1] and r[kk] >= 0.9 * r[k]:
                k = kk
                break
        a, b, c = r[k - 1], r[k], r[k + 1]
        out.append(SR / (k + 0.5 * (a - c) / (a - 2 * b + c)))
    return np.array(out)


manifest = {"rate": SR, "pitch": [], "continuous": [], "words": None,
            "espeak_ng": subprocess.run(["espeak-ng", "--version"], capture_output=True,
                                        text=True).stdout.strip()}
pad = np.zeros(int(0.1 * SR), np.int32)

# --- flat pitch ------------------------------------------------------------
PITCH_TEXT = "How are you doing today?"
for voice, p in [("en-us+m1", 50), ("en-us", 80), ("en-us+f1", 50), ("en-us+f1", 99)]:
    ssml = '<speak><prosody range="0">%s</prosody></speak>' % PITCH_TEXT
    x = np.concatenate([pad, trim(render(ssml, voice, pitch=p, ssml=True)), pad])
    name = "pitch_%s_p%d" % (voice.replace("en-us+", "").replace("en-us", "en"), p)
    ref = reference_f0(x)
    manifest["pitch"].append({
        "file": write_telephone(name, x), "voice": voice, "espeak_pitch": p, "text": PITCH_TEXT,
        "expected_hz": round(expected_flat_hz(voice, p), 3),
        "reference_median_hz": round(float(np.median(ref)), 3),
        "reference_voiced_frames": int(len(ref)),
    })

# --- pace: one passage, several speeds ---------------------------------------
# Syllables per word counted by hand (American English, careful speech).
PASSAGE = [("I", 1), ("can", 1), ("see", 1), ("the", 1), ("payment", 2), ("went", 1),
           ("through", 1), ("on", 1), ("Monday", 2), ("but", 1), ("the", 1), ("refund", 2),
           ("has", 1), ("not", 1), ("been", 1), ("issued", 2), ("to", 1), ("your", 1),
           ("card", 1), ("yet", 1)]
text = " ".join(w for w, _ in PASSAGE)
n_words, n_syll = len(PASSAGE), sum(s for _, s in PASSAGE)
for speed in (130, 175, 240):
    x = trim(render(text, "en-us", speed=speed))
    dur = len(x) / SR
    ref = reference_f0(x)
    manifest["continuous"].append({
        "file": write_telephone("pace_s%d" % speed, np.concatenate([pad, x, pad])),
        "voice": "en-us", "espeak_speed": speed, "text": text,
        "words": n_words, "syllables": n_syll,
        "speech_start": len(pad), "speech_end": len(pad) + len(x),
        "wpm": round(n_words / dur * 60, 3),
        "syllables_per_s": round(n_syll / dur, 4),
        "reference_median_hz": round(float(np.median(ref)), 3),
    })

# --- pace: the passage word by word, with known gaps ----------------------------
# Gaps after each word, ms: short joins, and two pauses (>= 250 ms).
GAPS = [40, 60, 30, 50, 80, 40, 60, 30, 450, 50, 30, 70, 40, 50, 60, 300, 40, 30, 60]
parts, bounds, t = [pad], [], len(pad)
for i, (w, _) in enumerate(PASSAGE):
    x = trim(render(w, "en-us", speed=175))
    parts.append(x)
    bounds.append([t, t + len(x)])
    t += len(x)
    if i < len(GAPS):
        g = np.zeros(int(GAPS[i] * SR / 1000), np.int32)
        parts.append(g)
        t += len(g)
parts.append(pad)
x = np.concatenate(parts)
span = bounds[-1][1] - bounds[0][0]
pauses = [bounds[i + 1][0] - bounds[i][1] for i in range(len(bounds) - 1)]
long_pauses = [p for p in pauses if p >= 0.25 * SR]
manifest["words"] = {
    "file": write_telephone("pace_words", x), "voice": "en-us", "espeak_speed": 175,
    "words": [{"w": w, "syllables": s, "start": b[0], "end": b[1]}
              for (w, s), b in zip(PASSAGE, bounds)],
    "syllables": n_syll,
    "wpm": round(n_words / (span / SR) * 60, 3),
    "articulation_wpm": round(n_words / ((span - sum(long_pauses)) / SR) * 60, 3),
    "pauses": len(long_pauses),
    "pause_total_s": round(sum(long_pauses) / SR, 5),
    "longest_pause_s": round(max(long_pauses) / SR, 5),
}

# --- syllables per word of call-centre speech ---------------------------------
# calibration.txt is hand-written call-centre dialogue (both roles). Its
# syllables are counted from espeak-ng's phonemisation: one syllable per run
# of IPA vowel symbols (a diphthong is one run).
import re
VOWELS = "aeiouɑɐɒæɔəɘɚɛɜɝɞɨɪʉʊʌʏøœɤɯɵɶyᵻ"


def syllables(text):
    ipa = subprocess.run(["espeak-ng", "-q", "--ipa", "-v", "en-us", text],
                         capture_output=True, text=True, check=True).stdout.replace("ː", "")
    return len(re.findall("[%s]+" % VOWELS, ipa))


cal_words = cal_syll = 0
with open(os.path.join(OUT, "calibration.txt")) as f:
    for line in f:
        if line.strip():
            cal_words += len(re.findall(r"[A-Za-z']+", line))
            cal_syll += syllables(line.strip())
manifest["calibration"] = {"file": "calibration.txt", "words": cal_words,
                           "syllables": cal_syll,
                           "syllables_per_word": round(cal_syll / cal_words, 4)}
manifest["passage_syllables_espeak"] = syllables(text)

with open(os.path.join(OUT, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
    f.write("\n")
total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
print("make_annotate_fixtures: wrote %s (%d files, %.0f KB)" % (OUT, len(os.listdir(OUT)), total / 1024))
PY
