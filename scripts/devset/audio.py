"""Audio I/O for the devset: loading sources through sox, resampling,
band-limiting, G.711 encoding, and writing/reading WAV files.

WAV files are written by hand (not by sox) so the header is exactly what the
format asks for: WAVE_FORMAT_PCM (1) for 8/16/24-bit integer PCM,
WAVE_FORMAT_IEEE_FLOAT (3) for 32-bit float, WAVE_FORMAT_ALAW (6) and
WAVE_FORMAT_MULAW (7) for G.711; non-PCM formats get an 18-byte fmt chunk
(cbSize = 0) and a fact chunk.  sox is run with -R (repeatable) and -D (no
dither) so every step is deterministic.
"""

import struct
import subprocess

import numpy as np

#: sample formats understood by write_wav: name -> (format tag, bits/sample)
FORMATS = {
    "pcm8": (1, 8),      # unsigned 8-bit PCM
    "pcm16": (1, 16),
    "pcm24": (1, 24),
    "f32": (3, 32),
    "alaw": (6, 8),
    "ulaw": (7, 8),
}

SOX = ["sox", "-R", "-D", "-V1"]


def run_sox(args, data=None):
    """Run sox with the given arguments, feeding `data` (bytes) on stdin and
    returning stdout bytes.  Raises RuntimeError with sox's message."""
    proc = subprocess.run(SOX + args, input=data, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError("sox %s failed: %s" % (" ".join(args), proc.stderr.decode()))
    return proc.stdout


def load_source(path, rate=16000, raw_rate=None, highpass_hz=70):
    """Load a mono source file as float64 at `rate`, high-passed at
    `highpass_hz` (removes DC and rumble).  `raw_rate` marks a headerless
    16-bit signed little-endian file at that rate."""
    inp = ["-t", "raw", "-r", str(raw_rate), "-e", "signed", "-b", "16", "-c", "1", path] \
        if raw_rate else [path]
    out = ["-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1", "-"]
    eff = ["rate", "-v", str(rate), "highpass", str(highpass_hz)]
    y = np.frombuffer(run_sox(inp + out + eff), dtype="<f4").astype(np.float64)
    # the first few ms of the high-pass can ring on a DC step: fade them in
    n = min(len(y), rate // 100)
    y[:n] *= np.linspace(0.0, 1.0, n)
    return y


def sox_process(x, rate_in, rate_out, effects=()):
    """Run a (n, channels) float array through sox effects (e.g. band-pass)
    and resample it to `rate_out`; returns a float64 (m, channels) array."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    ch = x.shape[1]
    eff = list(effects)
    if rate_out != rate_in:
        eff += ["rate", "-v", str(rate_out)]
    if not eff:
        return x.copy()
    fmt = ["-e", "floating-point", "-b", "32", "-c", str(ch)]
    out = run_sox(["-t", "raw", "-r", str(rate_in)] + fmt + ["-"] +
                  ["-t", "raw", "-r", str(rate_out)] + fmt + ["-"] + eff,
                  data=x.astype("<f4").tobytes())
    return np.frombuffer(out, dtype="<f4").astype(np.float64).reshape(-1, ch)


def g711_encode(x, rate, law):
    """Encode a (n, channels) float array in [-1, 1) as G.711 bytes
    (law 'ulaw' or 'alaw') with sox; returns interleaved bytes."""
    ch = x.shape[1]
    enc = {"ulaw": "u-law", "alaw": "a-law"}[law]
    fmt = ["-r", str(rate), "-c", str(ch)]
    return run_sox(["-t", "raw"] + fmt + ["-e", "floating-point", "-b", "32", "-"] +
                   ["-t", "raw"] + fmt + ["-e", enc, "-b", "8", "-"],
                   data=np.clip(x, -1.0, 1.0).astype("<f4").tobytes())


def quantize(x, fmt, rate):
    """Turn a (n, channels) float array into interleaved sample bytes for
    `fmt`.  Integer formats round to nearest and saturate (no dither)."""
    if fmt in ("ulaw", "alaw"):
        return g711_encode(x, rate, fmt)
    if fmt == "f32":
        return np.clip(x, -1.0, 1.0).astype("<f4").tobytes()
    bits = FORMATS[fmt][1]
    full = float(1 << (bits - 1))
    q = np.clip(np.round(x * full), -full, full - 1).astype(np.int32)
    if fmt == "pcm8":
        return (q + 128).astype(np.uint8).tobytes()
    if fmt == "pcm16":
        return q.astype("<i2").tobytes()
    # pcm24: the low three bytes of each little-endian int32
    b = q.astype("<i4").reshape(-1, 1).view(np.uint8)[:, :3]
    return b.tobytes()


def wav_header(fmt, rate, channels, n_frames):
    """RIFF/WAVE header for `n_frames` sample frames of `fmt`."""
    tag, bits = FORMATS[fmt]
    align = channels * bits // 8
    data_len = n_frames * align
    if tag == 1:
        fmt_chunk = struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits)
        extra = b""
    else:
        fmt_chunk = struct.pack("<HHIIHHH", tag, channels, rate, rate * align, align, bits, 0)
        extra = b"fact" + struct.pack("<II", 4, n_frames)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt_chunk)) + fmt_chunk + extra
    pad = data_len & 1
    riff_len = len(body) + 8 + data_len + pad
    return b"RIFF" + struct.pack("<I", riff_len) + body + b"data" + struct.pack("<I", data_len)


def write_wav(path, x, rate, fmt):
    """Write a float array (n,) or (n, channels) in [-1, 1) as a WAV file."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    data = quantize(x, fmt, rate)
    with open(path, "wb") as f:
        f.write(wav_header(fmt, rate, x.shape[1], x.shape[0]))
        f.write(data)
        if len(data) & 1:
            f.write(b"\0")


def read_wav_info(path):
    """Parse a WAV header: returns dict(tag, channels, rate, bits, n_frames,
    data_offset).  Used by the self-check."""
    with open(path, "rb") as f:
        head = f.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise ValueError("%s: not a RIFF/WAVE file" % path)
        info = {}
        while True:
            ck = f.read(8)
            if len(ck) < 8:
                raise ValueError("%s: no data chunk" % path)
            cid, size = ck[:4], struct.unpack("<I", ck[4:])[0]
            if cid == b"fmt ":
                fmt = f.read(size)
                tag, ch, rate, _, align, bits = struct.unpack("<HHIIHH", fmt[:16])
                info.update(tag=tag, channels=ch, rate=rate, bits=bits, align=align)
            elif cid == b"data":
                info["data_offset"] = f.tell()
                info["n_frames"] = size // info["align"]
                return info
            else:
                f.seek(size + (size & 1), 1)
