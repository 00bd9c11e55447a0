#!/usr/bin/env python3
"""Score hypothesis RTTMs (and optionally STMs) with the reference scorers.

This is the yardstick for ``hearken eval``: the same numbers computed by
``pyannote.metrics`` (and ``jiwer`` for WER/CER). Reference and hypothesis
files are matched by stem (``REF/<stem>.rttm`` vs ``HYP/<stem>.rttm``); a
missing hypothesis file counts as an empty hypothesis.

Metrics (all rates in percent; durations in seconds)
----------------------------------------------------
detection_error_rate, miss, false_alarm
    ``DetectionErrorRate(collar, skip_overlap=False)``: speaker labels are
    ignored; speech = union of all segments. miss and false_alarm are the
    missed / falsely detected speech durations as a percentage of reference
    speech, so ``detection_error_rate = miss + false_alarm``.
per_speaker_detection_error_rate, per_speaker_miss, per_speaker_false_alarm
    For each speaker label present in the reference file: detection error of
    that speaker's reference segments against the hypothesis segments with
    the same label (absent label = empty). Pooled = sum of (miss + FA) over
    sum of reference speech, over speakers (per file) or speakers and files
    (pooled). Hypothesis-only labels are not scored here (listed in JSON as
    ``unscored_hyp_speakers``). ``per_speaker`` breaks it down by label.
der, der_miss, der_false_alarm, confusion
    ``DiarizationErrorRate(collar, skip_overlap=False)`` with pyannote's
    optimal (Hungarian) speaker mapping.
jer
    ``JaccardErrorRate(collar, skip_overlap=False)``; pooled JER is
    pyannote's accumulation: sum of speaker errors / number of reference
    speakers over all files.
wer, cer
    With ``--wer REF_STM HYP_STM``: jiwer on the text of each
    (file, speaker) concatenated in order of segment start time. Normalisation:
    lowercase; every Unicode punctuation character (category P*) becomes a
    space except apostrophes between two letters/digits ("don't" stays,
    "twenty-one" -> "twenty one", "'quoted'" -> "quoted"); whitespace
    collapsed; numbers and other symbols are left as they are (the dev set's
    STM convention, plus digits kept). CER counts characters of
    the normalised text including the single spaces between words. Reference
    lines whose text is ``ignore_time_segment_in_scoring`` are skipped
    (hypothesis text is not filtered by time). Rates are pooled: sum of
    S+D+I over sum of reference words (characters), per file over its
    speakers, pooled over all files.

Collar: pyannote's ``collar`` is the *total* width of the no-score zone
centred on each reference boundary, i.e. +/- collar/2 (md-eval's ``-c`` is
the half-width). Without a UEM, pyannote evaluates the span from the
earliest to the latest segment of reference or hypothesis.

Pooled values use pyannote's accumulation (``abs(metric)``): total error
duration over total reference duration, not a mean of per-file rates.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import unicodedata
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pyannote.core import Annotation, Segment, Timeline
from pyannote.metrics.detection import DetectionErrorRate
from pyannote.metrics.diarization import DiarizationErrorRate, JaccardErrorRate

try:  # pyannote.database's loaders, as researchers use them
    from pyannote.database.util import load_rttm as _pa_load_rttm
    from pyannote.database.util import load_uem as _pa_load_uem
except ImportError:  # pragma: no cover - fallback parser below
    _pa_load_rttm = _pa_load_uem = None

warnings.filterwarnings("ignore", message=".*'uem' was approximated.*")

IGNORE_TEXT = "ignore_time_segment_in_scoring"


# ------------------------------------------------------------------- loading

def _content_lines(path: Path) -> list[str]:
    """Non-empty, non-comment lines of a text file."""
    return [l for l in path.read_text().splitlines()
            if l.strip() and not l.lstrip().startswith(";;")]


def load_rttm(path: Path, uri: str) -> Annotation:
    """All SPEAKER turns of an RTTM file as one Annotation named ``uri``.

    Overlapping or touching turns of the same speaker are merged
    (``Annotation.support()``): pyannote's DER would otherwise count a
    doubly-annotated stretch twice.
    """
    return _read_rttm(path, uri).support()


def _read_rttm(path: Path, uri: str) -> Annotation:
    """SPEAKER turns of ``path`` as they are, one track per line."""
    lines = [l for l in _content_lines(path) if l.split()[0] == "SPEAKER"]
    ann = Annotation(uri=uri)
    if not lines:
        return ann
    has_comments = any(l.lstrip().startswith(";;") for l in path.read_text().splitlines())
    if _pa_load_rttm is not None and not has_comments:
        for sub in _pa_load_rttm(str(path)).values():
            for seg, _, label in sub.itertracks(yield_label=True):
                ann[seg, ann.new_track(seg)] = label
        return ann
    for line in lines:  # fallback: own parser
        f = line.split()
        start, dur = float(f[3]), float(f[4])
        seg = Segment(start, start + dur)
        ann[seg, ann.new_track(seg)] = f[7]
    return ann


def load_uem(path: Path, uri: str) -> Timeline:
    """All regions of a UEM file as one Timeline named ``uri``."""
    if _pa_load_uem is not None:
        segments = [s for tl in _pa_load_uem(str(path)).values() for s in tl]
    else:
        segments = [Segment(float(f[2]), float(f[3]))
                    for f in (l.split() for l in _content_lines(path))]
    return Timeline(segments=segments, uri=uri)


def rttm_files(path: Path) -> dict[str, Path]:
    """Stem -> RTTM path for a directory (or a single file)."""
    if path.is_file():
        return {path.stem: path}
    return {p.stem: p for p in sorted(path.glob("*.rttm"))}


# ---------------------------------------------------------- detection scores

def single_label(timeline: Timeline, uri: str, label: str = "speech") -> Annotation:
    """Annotation with every segment of ``timeline`` labelled ``label``."""
    ann = Annotation(uri=uri)
    for seg in timeline.support():
        ann[seg] = label
    return ann


@dataclass
class Scorers:
    """Accumulating pyannote metrics for one scope (a file, or pooled)."""

    collar: float
    detection: DetectionErrorRate = None
    per_speaker: DetectionErrorRate = None
    by_label: dict = field(default_factory=dict)
    der: DiarizationErrorRate = None
    jer: JaccardErrorRate = None

    def __post_init__(self):
        self.detection = DetectionErrorRate(collar=self.collar, skip_overlap=False)
        self.per_speaker = DetectionErrorRate(collar=self.collar, skip_overlap=False)
        self.der = DiarizationErrorRate(collar=self.collar, skip_overlap=False)
        self.jer = JaccardErrorRate(collar=self.collar, skip_overlap=False)

    def label_metric(self, label: str) -> DetectionErrorRate:
        if label not in self.by_label:
            self.by_label[label] = DetectionErrorRate(collar=self.collar,
                                                      skip_overlap=False)
        return self.by_label[label]


def score_pair(scopes: list[Scorers], ref: Annotation, hyp: Annotation,
               uem: Timeline | None) -> list[str]:
    """Feed one file to every scope; return hypothesis-only speaker labels."""
    uri = ref.uri
    for sc in scopes:
        sc.detection(ref, hyp, uem=uem)
        sc.der(ref, hyp, uem=uem)
        sc.jer(ref, hyp, uem=uem)
    for label in ref.labels():
        r = single_label(ref.label_timeline(label), uri)
        h = single_label(hyp.label_timeline(label) if label in hyp.labels()
                         else Timeline(uri=uri), uri)
        for sc in scopes:
            sc.per_speaker(r, h, uem=uem)
            sc.label_metric(label)(r, h, uem=uem)
    return sorted(set(hyp.labels()) - set(ref.labels()))


def _pct(x: float) -> float:
    return round(100.0 * x, 4)


def detection_summary(metric: DetectionErrorRate, prefix: str = "") -> dict:
    """Rate and components (percent of reference speech) of a detection metric."""
    acc = metric.accumulated_
    total, miss, fa = acc["total"], acc["miss"], acc["false alarm"]
    out = {f"{prefix}reference_s": round(total, 4),
           f"{prefix}miss_s": round(miss, 4), f"{prefix}false_alarm_s": round(fa, 4)}
    name = "per_speaker_detection_error_rate" if prefix else "detection_error_rate"
    out[name] = _pct(abs(metric))
    out[f"{prefix}miss"] = _pct(miss / total) if total else None
    out[f"{prefix}false_alarm"] = _pct(fa / total) if total else None
    return out


def summarise(sc: Scorers) -> dict:
    """Plain-named JSON summary of one scope."""
    res = detection_summary(sc.detection)
    res.update(detection_summary(sc.per_speaker, prefix="per_speaker_"))
    res["per_speaker"] = {label: {k.replace("per_speaker_", ""): v for k, v in
                                  detection_summary(m, "per_speaker_").items()}
                          for label, m in sorted(sc.by_label.items())}
    acc = sc.der.accumulated_
    res["der"] = _pct(abs(sc.der))
    total = acc["total"]
    res["der_miss"] = _pct(acc["missed detection"] / total) if total else None
    res["der_false_alarm"] = _pct(acc["false alarm"] / total) if total else None
    res["confusion"] = _pct(acc["confusion"] / total) if total else None
    res["jer"] = _pct(abs(sc.jer)) if sc.jer.accumulated_["speaker count"] else None
    return res


# ------------------------------------------------------------------ WER/CER

APOSTROPHES = "'\u2019\u02bc"


def normalise(text: str) -> str:
    """Lowercase; punctuation to spaces except word-internal apostrophes.

    Every Unicode punctuation character (category P*: hyphens, dashes,
    commas, periods, quotes, ...) becomes a space, except apostrophes
    (' U+2019 U+02BC, written as ') between two word characters;
    digits and other symbols stay; whitespace is collapsed.
    """
    text = text.lower()
    out = []
    for i, ch in enumerate(text):
        if ch in APOSTROPHES:
            inner = (0 < i < len(text) - 1 and text[i - 1].isalnum()
                     and text[i + 1].isalnum())
            out.append("'" if inner else " ")
        elif unicodedata.category(ch).startswith("P"):
            out.append(" ")
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def load_stm(path: Path) -> dict[tuple[str, str], list[tuple[float, str]]]:
    """(file, speaker) -> [(begin, text)] from an STM file or a directory of them."""
    files = sorted(path.glob("*.stm")) if path.is_dir() else [path]
    turns: dict = defaultdict(list)
    for f in files:
        for line in _content_lines(f):
            parts = line.split(None, 5)
            if len(parts) < 5:
                continue
            rec, _chan, spk, begin = parts[0], parts[1], parts[2], float(parts[3])
            text = parts[5] if len(parts) > 5 else ""
            if text.startswith("<"):  # optional <label> field
                text = text.split(">", 1)[1] if ">" in text else ""
            if text.strip().lower() == IGNORE_TEXT:
                continue
            turns[(rec, spk)].append((begin, text))
    return turns


def stream_text(turns: list[tuple[float, str]]) -> str:
    """Normalised text of turns concatenated in order of start time."""
    return normalise(" ".join(t for _, t in sorted(turns, key=lambda x: x[0])))


def edit_counts(ref: str, hyp: str) -> dict[str, int]:
    """Word and character S+D+I error counts and reference lengths (jiwer)."""
    import jiwer

    ref_w, hyp_w = ref.split(), hyp.split()
    if not ref_w:  # jiwer rejects empty references: all hypothesis is inserted
        return {"word_err": len(hyp_w), "words": 0, "char_err": len(hyp), "chars": 0}
    w = jiwer.process_words(ref, hyp if hyp_w else "")
    c = jiwer.process_characters(ref, hyp)
    return {"word_err": w.substitutions + w.deletions + w.insertions,
            "words": w.hits + w.substitutions + w.deletions,
            "char_err": c.substitutions + c.deletions + c.insertions,
            "chars": c.hits + c.substitutions + c.deletions}


def score_text(ref_stm: Path, hyp_stm: Path) -> tuple[dict, dict]:
    """Per-file and pooled WER/CER (percent) from two STM sources."""
    ref, hyp = load_stm(ref_stm), load_stm(hyp_stm)
    per_file: dict = defaultdict(lambda: defaultdict(int))
    for key in sorted(set(ref) | {k for k in hyp if k[0] in {r for r, _ in ref}}):
        counts = edit_counts(stream_text(ref.get(key, [])), stream_text(hyp.get(key, [])))
        for k, v in counts.items():
            per_file[key[0]][k] += v
    pooled = defaultdict(int)
    for counts in per_file.values():
        for k, v in counts.items():
            pooled[k] += v
    return ({f: _rates(c) for f, c in per_file.items()}, _rates(pooled))


def _rates(c: dict) -> dict:
    return {"wer": _pct(c["word_err"] / c["words"]) if c["words"] else None,
            "cer": _pct(c["char_err"] / c["chars"]) if c["chars"] else None,
            "ref_words": c["words"], "word_errors": c["word_err"]}


# -------------------------------------------------------------------- output

COLUMNS = [("detection_error_rate", "DetER"), ("miss", "miss"), ("false_alarm", "FA"),
           ("per_speaker_detection_error_rate", "spkDetER"), ("per_speaker_miss", "spkMiss"),
           ("per_speaker_false_alarm", "spkFA"), ("der", "DER"), ("jer", "JER"),
           ("wer", "WER"), ("cer", "CER")]


def format_table(result: dict) -> str:
    """Aligned text table: one row per file, then the pooled row."""
    rows = list(result["files"].items()) + [("POOLED", result["pooled"])]
    width = max([len(n) for n, _ in rows] + [4])
    head = f"{'file':<{width}} {'ref_s':>8} " + " ".join(f"{h:>8}" for _, h in COLUMNS)
    lines = [head, "-" * len(head)]
    for name, res in rows:
        ref_s = res.get("reference_s")
        cells = [f"{res[k]:8.2f}" if isinstance(res.get(k), (int, float))
                 and not math.isnan(res[k]) else f"{'-':>8}" for k, _ in COLUMNS]
        ref_txt = f"{ref_s:8.2f}" if ref_s is not None else f"{'-':>8}"
        lines.append(f"{name:<{width}} {ref_txt} " + " ".join(cells))
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ref", required=True, type=Path,
                   help="reference RTTM directory (<stem>.rttm) or a single RTTM")
    p.add_argument("--hyp", required=True, type=Path,
                   help="hypothesis RTTM directory (<stem>.rttm) or a single RTTM "
                        "(paired with --ref whatever its name if both are files)")
    p.add_argument("--uem-dir", type=Path,
                   help="directory of <stem>.uem files; files without one are "
                        "scored over the extent of reference and hypothesis")
    p.add_argument("--collar", type=float, default=0.0,
                   help="pyannote collar in seconds: total width centred on each "
                        "reference boundary, i.e. +/- collar/2 (default 0)")
    p.add_argument("--wer", nargs=2, type=Path, metavar=("REF_STM", "HYP_STM"),
                   help="also compute WER/CER; each an STM file or a directory of *.stm")
    p.add_argument("--json", action="store_true",
                   help="print a JSON object {files: {stem: {...}}, pooled: {...}} "
                        "instead of the table")
    return p.parse_args(argv)


def crosscheck(args) -> dict:
    """Compute all requested scores; return {"files": ..., "pooled": ...}."""
    refs = rttm_files(args.ref)
    if not refs:
        raise SystemExit(f"no reference RTTM in {args.ref}")
    hyps = rttm_files(args.hyp) if args.hyp.exists() else {}
    if args.ref.is_file() and args.hyp.is_file():  # two single files: pair them
        hyps = {args.ref.stem: args.hyp}
    for stem in sorted(set(hyps) - set(refs)):
        print(f"warning: hypothesis {stem} has no reference; ignored", file=sys.stderr)
    pooled = Scorers(args.collar)
    files = {}
    for stem, ref_path in refs.items():
        ref = load_rttm(ref_path, stem)
        if stem in hyps:
            hyp = load_rttm(hyps[stem], stem)
        else:
            print(f"warning: no hypothesis for {stem}; scored as empty", file=sys.stderr)
            hyp = Annotation(uri=stem)
        uem_path = args.uem_dir / f"{stem}.uem" if args.uem_dir else None
        uem = load_uem(uem_path, stem) if uem_path and uem_path.exists() else None
        scope = Scorers(args.collar)
        extra = score_pair([scope, pooled], ref, hyp, uem)
        files[stem] = summarise(scope)
        files[stem]["uem"] = uem_path.name if uem is not None else None
        if extra:
            files[stem]["unscored_hyp_speakers"] = extra
    result = {"files": files, "pooled": summarise(pooled)}
    if args.wer:
        per_file, pooled_text = score_text(*args.wer)
        for stem, rates in per_file.items():
            result["files"].setdefault(stem, {}).update(rates)
        result["pooled"].update(pooled_text)
    return result


def main(argv=None) -> int:
    args = parse_args(argv)
    result = crosscheck(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"collar={args.collar} (pyannote: total width, +/-{args.collar / 2:g} s), "
              f"skip_overlap=False, rates in %")
        print(format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
