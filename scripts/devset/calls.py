"""The development-set calls: one spec per call.

Fields of a spec (all optional except name/rate/fmt/dur/pair):
  rate, fmt   output sample rate and WAV encoding (audio.FORMATS)
  dur         target duration in seconds (the plan lands within a few s)
  pair        (agent speaker, customer speaker), keys of sources.SPEAKERS
  tel         telephone channel: band-pass 300-3400 Hz before resampling
  noise       [(kind, channel, snr_db)], kind in babble | street | office
  moh         music on hold on the agent channel during one hold
  quiet       channel whose speech is placed 12 dB lower
  clip        channel clipped: +15 dB gain then hard clip at +-0.6 FS
  dc          channel with +0.08 FS DC offset added
  echo        (into, gain_db, delay_ms, lowpass_hz or None): the other
              channel's signal leaks into channel `into`
Channels: 0 = agent, 1 = customer.
"""

A, C = 0, 1

CALLS = [
    dict(name="clean16k-01", rate=16000, fmt="pcm16", dur=60, pair=("sonnet", "an4")),
    dict(name="clean8k-01", rate=8000, fmt="pcm16", dur=75, pair=("austen", "c2f16k")),
    dict(name="clean48k-01", rate=48000, fmt="pcm16", dur=60, pair=("c2f16k", "an4")),
    dict(name="clean44k-01", rate=44100, fmt="pcm16", dur=60, pair=("austen", "sonnet")),
    dict(name="ulaw8k-01", rate=8000, fmt="ulaw", dur=90, pair=("sonnet", "c2f16k"), tel=True),
    dict(name="alaw8k-01", rate=8000, fmt="alaw", dur=80, pair=("austen", "an4"), tel=True),
    dict(name="pcm8bit8k-01", rate=8000, fmt="pcm8", dur=70, pair=("sonnet", "psmisc"),
         tel=True),
    dict(name="babble10-01", rate=8000, fmt="pcm16", dur=70, pair=("austen", "c2f16k"),
         noise=[("babble", C, 10)]),
    dict(name="babble20-01", rate=8000, fmt="pcm16", dur=65, pair=("sonnet", "cqref"),
         noise=[("babble", C, 20)]),
    dict(name="street15-01", rate=8000, fmt="pcm16", dur=70, pair=("austen", "an4"),
         noise=[("street", C, 15)]),
    dict(name="office15-01", rate=8000, fmt="pcm16", dur=70, pair=("c2f16k", "psmisc"),
         noise=[("office", A, 15)]),
    dict(name="moh-01", rate=8000, fmt="pcm16", dur=95, pair=("sonnet", "an4"), moh=True),
    dict(name="quietcust-01", rate=8000, fmt="pcm16", dur=65, pair=("austen", "c2f16k"),
         quiet=C),
    dict(name="quietagent-01", rate=8000, fmt="pcm24", dur=64, pair=("sonnet", "austen"),
         quiet=A),
    dict(name="clipped-01", rate=8000, fmt="pcm16", dur=64, pair=("austen", "an4"), clip=C),
    dict(name="dcoffset-01", rate=8000, fmt="f32", dur=64, pair=("sonnet", "c2f16k"), dc=A),
    dict(name="echo30-01", rate=8000, fmt="pcm16", dur=90, pair=("sonnet", "an4"),
         echo=(C, -30, 120, None)),
    dict(name="echo20-01", rate=8000, fmt="pcm16", dur=64, pair=("austen", "c2f16k"),
         echo=(C, -20, 40, 3000)),
    dict(name="echo40-01", rate=8000, fmt="pcm16", dur=64, pair=("c2f16k", "an4"),
         echo=(A, -40, 200, None)),
    dict(name="ulaw8k-babble15-echo25-01", rate=8000, fmt="ulaw", dur=90,
         pair=("sonnet", "psmisc"), tel=True, noise=[("babble", C, 15)],
         echo=(C, -25, 80, 3000)),
    dict(name="alaw8k-street10-01", rate=8000, fmt="alaw", dur=75, pair=("austen", "an4"),
         tel=True, noise=[("street", C, 10)]),
    dict(name="ulaw8k-moh-office20-01", rate=8000, fmt="ulaw", dur=100,
         pair=("sonnet", "c2f16k"), tel=True, moh=True, noise=[("office", A, 20)]),
    dict(name="ulaw8k-quietcust-babble20-01", rate=8000, fmt="ulaw", dur=70,
         pair=("austen", "an4"), tel=True, quiet=C, noise=[("babble", C, 20)]),
    dict(name="alaw8k-clipped-echo35-01", rate=8000, fmt="alaw", dur=70,
         pair=("c2f16k", "an4"), tel=True, clip=A, echo=(C, -35, 150, None)),
]

#: the bundled demo sample (samples/): ~36 s so that it stays under 1.5 MB
SAMPLE = dict(name="demo-call", rate=8000, fmt="pcm16", dur=36, pair=("sonnet", "austen"),
              tel=True, noise=[("street", C, 25)], mono_fmt="ulaw",
              required=dict(interrupt=1, bc=1, long=1), dur_range=(34.0, 37.5))


def conditions(spec):
    """Condition labels of a call, for the manifest and metadata."""
    c = []
    if spec.get("tel"):
        c.append("telephone")
    for kind, ch, snr in spec.get("noise", []):
        c.append("%s%d-%s" % (kind, snr, "agent" if ch == A else "customer"))
    if spec.get("moh"):
        c.append("moh")
    if "quiet" in spec:
        c.append("quiet-" + ("agent" if spec["quiet"] == A else "customer"))
    if "clip" in spec:
        c.append("clipped-" + ("agent" if spec["clip"] == A else "customer"))
    if "dc" in spec:
        c.append("dcoffset-" + ("agent" if spec["dc"] == A else "customer"))
    if "echo" in spec:
        into, g, d, _ = spec["echo"]
        c.append("echo%d-%dms-into-%s" % (-g, d, "agent" if into == A else "customer"))
    return c or ["clean"]


def required_transitions(spec, rng):
    """How many of each special transition a call must contain."""
    if "required" in spec:
        return dict(spec["required"])
    long_call = spec["dur"] >= 85 and not spec.get("moh")
    req = dict(interrupt=int(rng.integers(2, 4)) + long_call,
               bc=int(rng.integers(2, 4)) + long_call,
               overlap=int(rng.integers(1, 3)), long=1, vlong=1)
    if spec.get("moh"):
        req["hold"] = 1
    return req
