"""Turn a call spec into audio + ground truth files."""

import os
import zlib

import numpy as np

from . import audio, calls, noise, reference as ref
from .conversation import AGENT, CUSTOMER, ROLE_NAMES, Planner
from .reference import FRAME, RATE
from .sources import LICENCES, SPEAKERS

NOMINAL_LEVEL_DB = {AGENT: -24.0, CUSTOMER: -26.0}   # active speech level, dBFS
QUIET_DB = -12.0
CLIP_GAIN_DB, CLIP_FS = 15.0, 0.6
DC_VALUE = 0.08
MUSIC_BELOW_SPEECH_DB = 4.0
TEL_BAND = (300, 3400)
MONO_GAIN_DB = -3.0
IGNORE = "ignore_time_segment_in_scoring"
DEVSET_DUR_RANGE = (60.0, 120.0)     # seconds, every devset call


def rngs_for(seed, name):
    """Independent, stable RNG streams (plan, noise) for one call: the same
    seed and name always give the same call, whatever else is generated."""
    ss = np.random.SeedSequence([seed, zlib.crc32(name.encode())])
    return [np.random.default_rng(s) for s in ss.spawn(2)]


def channel_levels(spec):
    lv = dict(NOMINAL_LEVEL_DB)
    if "quiet" in spec:
        lv[spec["quiet"]] += QUIET_DB
    return [lv[AGENT], lv[CUSTOMER]]


def plan(spec, pool, rng):
    """Plan the conversation, redrawing until the call length falls in the
    spec's dur_range (default 60-120 s)."""
    agent, cust = spec["pair"]
    for _ in range(50):
        req = calls.required_transitions(spec, rng)
        p = Planner(rng, [pool[agent], pool[cust]], channel_levels(spec),
                    int(spec["dur"] * 100), req)
        items, ints, bcs, holds = p.plan()
        tail = int(rng.integers(50, 151))
        n_f = max(max(it.end_f for it in items), max(it.ref_extent()[1] for it in items) + tail)
        lo, hi = spec.get("dur_range", DEVSET_DUR_RANGE)
        if lo <= n_f / 100 <= hi:
            return items, ints, bcs, holds, n_f, req
    raise RuntimeError("%s: no plan within dur_range" % spec["name"])


def mix_speech(items, n_f):
    """Clean speech per channel (16 kHz) and the reference masks."""
    speech = np.zeros((2, n_f * FRAME))
    masks = np.zeros((2, n_f), dtype=bool)
    for it in items:
        a = it.start_f * FRAME
        speech[it.channel, a:a + len(it.samples)] += it.samples
        seg = masks[it.channel, it.start_f:it.start_f + len(it.ref)]
        assert not (seg & it.ref).any(), "same-channel reference overlap"
        seg |= it.ref
    return speech, masks


def background(kind, n, rng, babble_utts):
    if kind == "babble":
        return noise.babble(n, rng, babble_utts)
    if kind == "street":
        return noise.street(n, rng)
    if kind == "office":
        return noise.office(n, rng, babble_utts)
    raise ValueError(kind)


def add_conditions(spec, speech, masks, holds, rng, pool):
    """Channel signals before echo/clipping: speech + music on hold + noise
    at the wanted SNR + noise floor.  Returns (signals, metadata)."""
    x = speech.copy()
    n = x.shape[1]
    levels = [ref.active_level_db(speech[ch], masks[ch]) for ch in (0, 1)]
    meta = {"active_level_dbfs": {ROLE_NAMES[c]: round(levels[c], 2) for c in (0, 1)}}
    for (a, b) in holds:
        m = noise.music((b - a) / 100, rng) * 10 ** ((levels[AGENT] - MUSIC_BELOW_SPEECH_DB) / 20)
        x[AGENT, a * FRAME:a * FRAME + len(m)] += m
    meta["hold"] = [{"start": a / 100, "end": b / 100, "channel": "agent",
                     "music_level_dbfs": round(levels[AGENT] - MUSIC_BELOW_SPEECH_DB, 2)}
                    for a, b in holds]
    used = set(spec["pair"])
    babble_spk = sorted(s for s in SPEAKERS if s not in used and pool[s]["utts"])
    babble_utts = [u for s in babble_spk for u in pool[s]["utts"]]
    meta["noise"] = []
    for kind, ch, snr in spec.get("noise", []):
        bg = background(kind, n, rng, babble_utts)          # unit RMS
        x[ch] += bg * 10 ** ((levels[ch] - snr) / 20)
        d = {"type": kind, "channel": ROLE_NAMES[ch], "snr_db": snr,
             "snr_definition": "channel active speech level (mean power over its reference "
                               "speech frames) minus mean noise power over the whole call"}
        if kind in ("babble", "office"):
            d["babble_speakers"] = babble_spk
        meta["noise"].append(d)
    for ch in (0, 1):
        x[ch] += noise.noise_floor(n, rng)
    return x, meta


def clip(x):
    return np.clip(x * 10 ** (CLIP_GAIN_DB / 20), -CLIP_FS, CLIP_FS)


def finish(spec, x):
    """Telephone band-limit and/or resample a (n, ch) 16 kHz array to the
    output rate (exactly n * rate / 16000 samples)."""
    eff = ["sinc", "%d-%d" % TEL_BAND] if spec.get("tel") else []
    y = audio.sox_process(x, RATE, spec["rate"], eff)
    n_out = int(round(x.shape[0] * spec["rate"] / RATE))
    return np.vstack((y, np.zeros((max(0, n_out - len(y)), y.shape[1]))))[:n_out]


def render(spec, pre):
    """Final-rate (stereo, mono) from the pre-echo channel signals, in this
    order: echo into one channel (stereo only) -> band-limit/resample ->
    clipping of one channel -> DC offset on one channel -> (mono: sum of the
    two no-echo channels at -3 dB each).  Clipping and DC come after the
    resampler so the file really has flat tops at +-0.6 and a DC of 0.08."""
    with_echo = pre.copy()
    if "echo" in spec:
        into, g, d, lp = spec["echo"]
        with_echo[into] += noise.echo_path(pre[1 - into], g, d, lp)
    stereo = finish(spec, with_echo.T)
    no_echo = finish(spec, pre.T) if "echo" in spec else stereo.copy()
    for y in (stereo, no_echo):
        if "clip" in spec:
            y[:, spec["clip"]] = clip(y[:, spec["clip"]])
        if "dc" in spec:
            y[:, spec["dc"]] += DC_VALUE
    mono = (no_echo[:, 0] + no_echo[:, 1]) * 10 ** (MONO_GAIN_DB / 20)
    return stereo, mono[:, None]


def utterance_rows(items):
    rows = []
    for it in sorted(items, key=lambda i: (i.start_f, i.channel)):
        u = it.utt
        rs, re_ = it.ref_extent()
        text = None if it.truncated else u.text
        rows.append({
            "speaker": ROLE_NAMES[it.channel], "speaker_id": u.speaker, "role": it.role,
            "source": u.path, "source_id": u.source,
            "source_offset_s": round(u.offset_f / 100, 2),
            "source_dur_s": round(len(it.samples) / RATE, 2),
            "start_s": round(it.start_f / 100, 2), "end_s": round(it.end_f / 100, 2),
            "ref_start_s": round(rs / 100, 2), "ref_end_s": round(re_ / 100, 2),
            "gain_db": round(it.gain_db, 2), "truncated": it.truncated,
            "text": text, "source_text": u.text, "text_source": u.text_source,
            # for the STM writer
            "channel": it.channel, "ref_start_f": rs, "ref_end_f": re_,
            "stm_text": text or IGNORE,
        })
    return rows


def secs(frames):
    return round(frames / 100, 2)


def events_meta(ints, bcs):
    """Intended interruptions and backchannels, times in seconds.  For a
    backchannel, 'interrupter' is who says it and 'interrupted' who keeps
    talking."""
    return ([{"at": secs(e["at_f"]), "interrupted_end": secs(e["end_f"]),
              "interrupter": e["interrupter"], "interrupted": e["interrupted"],
              "overlap_s": secs(e["overlap_f"])} for e in ints],
            [{"at": secs(e["at_f"]), "end": secs(e["end_f"]), "interrupter": e["by"],
              "interrupted": e["over"]} for e in bcs])


def long_silences(masks, min_f=200):
    """Stretches of >= 2 s where neither reference has speech."""
    return [{"start": secs(a), "end": secs(b), "dur": secs(b - a)}
            for a, b in ref.runs(~(masks[0] | masks[1])) if b - a >= min_f]


def speaker_meta(speaker, items):
    """Who a channel's speaker is, which files were used, under which licence."""
    pkgs = sorted({i.utt.package for i in items})
    return {"speaker_id": speaker, "description": SPEAKERS[speaker][0],
            "sex_estimate": SPEAKERS[speaker][1],
            "source_files": sorted({i.utt.path for i in items}),
            "licences": {p: LICENCES[p] for p in pkgs}}


def devset_paths(out, name):
    """Where a devset call's files go."""
    return {"stereo": os.path.join(out, "stereo", name + ".wav"),
            "mono": os.path.join(out, "mono", name + ".wav"),
            "ref": os.path.join(out, "ref", name)}


def build_call(spec, pool, seed, paths):
    """Generate one call: audio (stereo + mono), RTTM/UEM/STM/JSON at
    `paths` (see devset_paths).  Returns the manifest row."""
    name = spec["name"]
    plan_rng, noise_rng = rngs_for(seed, name)
    items, ints, bcs, holds, n_f, req = plan(spec, pool, plan_rng)
    speech, masks = mix_speech(items, n_f)
    pre, cond_meta = add_conditions(spec, speech, masks, holds, noise_rng, pool)
    stereo, mono = render(spec, pre)
    dc_ch = spec.get("dc")
    for p in (paths["stereo"], paths["mono"], paths["ref"]):
        os.makedirs(os.path.dirname(p) or ".", exist_ok=True)
    audio.write_wav(paths["stereo"], stereo, spec["rate"], spec["fmt"])
    audio.write_wav(paths["mono"], mono, spec["rate"], spec.get("mono_fmt", spec["fmt"]))

    rows = utterance_rows(items)
    base = paths["ref"]
    ref.write_rttm(base + ".rttm", name, masks)
    ref.write_uem(base + ".uem", name, n_f)
    ref.write_stm(base + ".stm", name, rows)
    ints_m, bcs_m = events_meta(ints, bcs)
    meta = {
        "call": name, "duration_s": secs(n_f), "conditions": calls.conditions(spec),
        "rate": spec["rate"], "format": spec["fmt"],
        "wav_format_tag": audio.FORMATS[spec["fmt"]][0],
        "mono_format": spec.get("mono_fmt", spec["fmt"]),
        "channels": {"1": "agent", "2": "customer"},
        "agent": speaker_meta(spec["pair"][0], [i for i in items if i.channel == AGENT]),
        "customer": speaker_meta(spec["pair"][1], [i for i in items if i.channel == CUSTOMER]),
        "telephone": {"band_hz": list(TEL_BAND), "resampled_to": spec["rate"]}
        if spec.get("tel") else None,
        "quiet": {"channel": ROLE_NAMES[spec["quiet"]], "gain_db": QUIET_DB}
        if "quiet" in spec else None,
        "clipping": {"channel": ROLE_NAMES[spec["clip"]], "gain_db": CLIP_GAIN_DB,
                     "clip_fs": CLIP_FS} if "clip" in spec else None,
        "dc_offset": {"channel": ROLE_NAMES[dc_ch], "value_fs": DC_VALUE}
        if dc_ch is not None else None,
        "echo": {"into": ROLE_NAMES[spec["echo"][0]], "from": ROLE_NAMES[1 - spec["echo"][0]],
                 "gain_db": spec["echo"][1], "delay_ms": spec["echo"][2],
                 "lowpass_hz": spec["echo"][3], "in_mono": False} if "echo" in spec else None,
        "noise_floor_dbfs": -72.0,
        "required_transitions": req,
        "interruptions": ints_m, "backchannels": bcs_m,
        "long_silences": long_silences(masks),
        "utterances": [{k: v for k, v in r.items()
                        if k not in ("channel", "ref_start_f", "ref_end_f", "stm_text")}
                       for r in rows],
    }
    meta.update(cond_meta)
    ref.write_json(base + ".json", meta)
    return {"call": name, "conditions": "+".join(calls.conditions(spec)),
            "rate": spec["rate"], "format": spec["fmt"], "duration_s": ref.fmt_t(n_f),
            "n_utterances": len(items), "n_interruptions": len(ints),
            "n_backchannels": len(bcs)}
