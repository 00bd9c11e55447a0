"""Background signals on the 16 kHz timeline: noise floor, babble, street,
office, music on hold; plus the echo path filter.

Every generator returns a float64 array of `n` samples normalised to unit
RMS (except music, which is placed by the caller); the caller scales it to
the wanted SNR.  Coloured noise is shaped in the frequency domain.
"""

import numpy as np

from .reference import RATE


def unit_rms(x):
    return x / max(float(np.sqrt(np.mean(np.square(x)))), 1e-12)


def shaped_noise(n, rng, shape):
    """Gaussian noise whose amplitude spectrum is `shape(freqs)`."""
    X = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / RATE)
    return unit_rms(np.fft.irfft(X * shape(f), n))


def pink(n, rng, lo=20.0):
    return shaped_noise(n, rng, lambda f: 1.0 / np.sqrt(np.maximum(f, lo)))


def brown(n, rng, lo=20.0):
    return shaped_noise(n, rng, lambda f: 1.0 / np.maximum(f, lo))


def band(n, rng, lo, hi, slope=0.5):
    """Noise in [lo, hi] Hz with a 1/f^slope tilt and soft 1-octave edges."""
    def shape(f):
        g = 1.0 / np.maximum(f, 1.0) ** slope
        g = g * np.clip(np.log2(np.maximum(f, 1e-3) / (lo / 2)), 0, 1)
        return g * np.clip(np.log2(2 * hi / np.maximum(f, 1e-3)), 0, 1)
    return shaped_noise(n, rng, shape)


def noise_floor(n, rng, level_dbfs=-72.0):
    """Faint pink noise present on every channel of every call, so that no
    recording has digital silence (microphone/line self-noise)."""
    return pink(n, rng) * 10 ** (level_dbfs / 20)


def bursts_envelope(n, centres, widths):
    """Sum of Gaussian bumps (in samples) - slow swells."""
    t = np.arange(n, dtype=np.float64)
    env = np.zeros(n)
    for c, w in zip(centres, widths):
        lo, hi = int(max(0, c - 4 * w)), int(min(n, c + 4 * w))
        env[lo:hi] += np.exp(-0.5 * ((t[lo:hi] - c) / w) ** 2)
    return env


def tone(freqs, dur, rng, partials=6, attack=0.02, release=0.05):
    """A harmonic tone burst (sum of `freqs`, each with 1/k partials)."""
    m = int(dur * RATE)
    t = np.arange(m) / RATE
    y = np.zeros(m)
    for f0 in freqs:
        for k in range(1, partials + 1):
            if k * f0 < RATE / 2:
                y += np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 2 * np.pi)) / k
    env = np.minimum(1.0, np.minimum(t / attack, (dur - t) / release))
    return y * np.clip(env, 0, 1)


def babble(n, rng, utts, streams=8):
    """Sum of `streams` independent talkers, each a chain of real utterances
    (random order, 0-0.3 s apart, +-3 dB), normalised to unit RMS."""
    out = np.zeros(n)
    for _ in range(streams):
        s = np.zeros(n)
        pos = -int(rng.integers(0, 4 * RATE))      # start mid-sentence
        while pos < n:
            u = utts[int(rng.integers(len(utts)))].samples
            u = unit_rms(u) * 10 ** (rng.uniform(-3, 3) / 20)
            a, b = max(pos, 0), min(pos + len(u), n)
            if b > a:
                s[a:b] += u[a - pos:b - pos]
            pos += len(u) + int(rng.integers(0, int(0.3 * RATE)))
        out += s
    return unit_rms(out)


def street(n, rng):
    """Brown + pink noise, low rumble, passing cars (slow band-noise swells
    every 6-15 s) and an occasional horn (two-tone harmonic burst)."""
    y = brown(n, rng) + 0.5 * pink(n, rng) + 1.2 * band(n, rng, 25, 120, slope=0.0)
    centres, c = [], rng.uniform(2, 8) * RATE
    while c < n:
        centres.append(c)
        c += rng.uniform(6, 15) * RATE
    widths = [rng.uniform(1.0, 2.5) * RATE for _ in centres]
    y += 2.0 * band(n, rng, 150, 2500) * bursts_envelope(n, centres, widths)
    for _ in range(max(1, int(n / RATE / 40))):
        f0 = rng.uniform(380, 480)
        h = tone([f0, f0 * 1.26], rng.uniform(0.3, 0.8), rng)
        at = int(rng.integers(0, max(1, n - len(h))))
        y[at:at + len(h)] += 1.5 * h / np.max(np.abs(h))
    return unit_rms(y)


def keyboard(n, rng):
    """Typing: episodes of 2-6 s every 4-15 s, keystrokes 80-250 ms apart,
    each a bright 4-8 ms decaying click."""
    y = np.zeros(n)
    pos = int(rng.uniform(1, 5) * RATE)
    while pos < n:
        end = pos + int(rng.uniform(2, 6) * RATE)
        while pos < min(end, n):
            m = int(rng.uniform(0.004, 0.008) * RATE)
            click = rng.standard_normal(m) * np.exp(-np.arange(m) / (0.0015 * RATE))
            click = np.diff(click, prepend=0.0) * rng.uniform(0.5, 1.0)  # brighten
            y[pos:pos + m] += click[:n - pos]
            pos += int(rng.uniform(0.08, 0.25) * RATE)
        pos = end + int(rng.uniform(4, 15) * RATE)
    return y


def office(n, rng, babble_utts):
    """Pink noise, keyboard bursts, 50 Hz hum with harmonics and faint
    distant babble."""
    t = np.arange(n) / RATE
    hum = sum(np.sin(2 * np.pi * 50 * k * t + rng.uniform(0, 2 * np.pi)) / k ** 1.3
              for k in range(1, 8))
    y = pink(n, rng) + 0.35 * unit_rms(hum) + 0.4 * babble(n, rng, babble_utts, streams=6)
    y += 1.2 * unit_rms(keyboard(n, rng) + 1e-12)
    return unit_rms(y)


NOTE_A4 = 440.0


def midi_hz(m):
    return NOTE_A4 * 2 ** ((m - 69) / 12.0)


def music(dur_s, rng):
    """Music-on-hold-like signal: I-V-vi-IV chords with harmonics, a melody
    on the beat with note envelopes, kick on every beat and hi-hat on the
    off-beats; unit RMS."""
    n = int(dur_s * RATE)
    bpm = rng.uniform(92, 120)
    beat = 60.0 / bpm
    key = 57 + int(rng.integers(0, 8))                  # A3..E4
    scale = [0, 2, 4, 5, 7, 9, 11]
    prog = [[0, 4, 7], [7, 11, 14], [9, 12, 16], [5, 9, 12]]
    y = np.zeros(n + RATE)

    def add(sig, at):
        a = int(at * RATE)
        if a < n:
            y[a:a + len(sig)] += sig[:len(y) - a]

    def note(m, dur, amp, partials):
        s = tone([midi_hz(m)], dur, rng, partials=partials, attack=0.01, release=0.08)
        t = np.arange(len(s)) / RATE
        return amp * s * (0.6 + 0.4 * np.exp(-t / 0.15))  # decay to sustain

    bar, t0 = 0, 0.0
    while t0 < dur_s:
        chord = prog[bar % 4]
        for iv in chord:                                 # chord: one bar
            add(note(key - 12 + iv, 4 * beat, 0.25, 4), t0)
        for b in range(4):                               # melody + drums
            tb = t0 + b * beat
            deg = chord[int(rng.integers(3))] if rng.random() < 0.6 else \
                scale[int(rng.integers(7))]
            add(note(key + 12 + deg, beat * rng.choice([0.5, 1.0]), 0.35, 6), tb)
            m = int(0.15 * RATE)
            tk = np.arange(m) / RATE
            kick = np.sin(2 * np.pi * (50 * tk + 70 * 0.03 * (1 - np.exp(-tk / 0.03))))
            add(0.6 * kick * np.exp(-tk / 0.05), tb)
            hh = np.diff(rng.standard_normal(int(0.03 * RATE)), prepend=0.0)
            add(0.08 * hh * np.exp(-np.arange(len(hh)) / (0.006 * RATE)), tb + beat / 2)
        bar, t0 = bar + 1, t0 + 4 * beat
    y = y[:n]
    ramp = int(0.3 * RATE)
    y[:ramp] *= np.linspace(0, 1, ramp)
    y[-ramp:] *= np.linspace(1, 0, ramp)
    return unit_rms(y)


def lowpass_fir(cutoff_hz, taps=63):
    """Windowed-sinc low-pass FIR (unit DC gain)."""
    k = np.arange(taps) - (taps - 1) / 2
    h = np.sinc(2 * cutoff_hz / RATE * k) * np.hamming(taps)
    return h / h.sum()


def echo_path(x, gain_db, delay_ms, lowpass_hz=None):
    """The echo of signal x: delayed by delay_ms (multiple of 1/16 ms),
    optionally low-passed, scaled by gain_db."""
    d = int(round(delay_ms * RATE / 1000))
    y = np.concatenate((np.zeros(d), x[:len(x) - d]))
    if lowpass_hz:
        h = lowpass_fir(lowpass_hz)
        y = np.convolve(y, h, mode="full")[(len(h) - 1) // 2:][:len(x)]
    return y * 10 ** (gain_db / 20)
