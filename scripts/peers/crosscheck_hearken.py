#!/usr/bin/env python3
"""Cross-check ``hearken eval`` against pyannote.metrics and jiwer.

For every case (a reference, an optional UEM, a hypothesis) and collar, the
same files are scored by ``hearken eval --json`` and by the reference
scorers; the figures are compared per file and pooled, in percentage points.
Exit status 1 when any gated difference exceeds ``--tolerance`` (0.1 point),
with the list of them; the table goes to stdout and ``--md``
(docs/crosscheck.md).

Reference side (percent figures of pyannote.metrics 4.x, jiwer 4.x):

- ``detection_error_rate``, ``miss_rate``, ``false_alarm_rate``:
  ``DetectionErrorRate(collar, skip_overlap=False)``, speakers merged.
- ``per_speaker_*``: pyannote's ``DetectionErrorRate`` on each reference
  speaker's track against the hypothesis track of the same label, **plus**
  every hypothesis label absent from the reference scored against an empty
  reference (all its speech inside the UEM is false alarm). That is
  hearken's convention; ``crosscheck.py`` leaves such labels out (shown as
  the info row ``per_speaker_detection_error_rate [hyp-only labels ignored]``).
- ``der``: ``DiarizationErrorRate(collar, skip_overlap=False)``;
  ``jer``: ``JaccardErrorRate(collar, skip_overlap=False)`` (pooled = mean
  over all (file, reference speaker) pairs, pyannote's accumulation).
- ``wer``, ``cer``: jiwer ``process_words`` / ``process_characters`` on text
  normalised exactly as hearken does (a port of ``src/eval/text.rs``:
  lower case, numbers spelled out, bracketed tags dropped, punctuation
  removed except word-internal apostrophes); CER on the words joined
  by single spaces (jiwer's default and hearken's); streams per (file, reference
  speaker), lines in start order, hypothesis lines whose midpoint lies in a
  reference ``ignore_time_segment_in_scoring`` line of that speaker dropped
  (hearken's and sclite's convention; ``crosscheck.py`` does not drop them).
  Info row ``cer [spaces not counted]``: CER on the words joined without
  spaces.

Rows marked *info* are shown, not gated.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import random
import shlex
import shutil
import subprocess
import sys
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

warnings.filterwarnings("ignore", message=".*'uem' was approximated.*")

import jiwer  # noqa: E402
from pyannote.core import Annotation, Timeline  # noqa: E402
from pyannote.metrics.detection import DetectionErrorRate  # noqa: E402
from pyannote.metrics.diarization import DiarizationErrorRate, JaccardErrorRate  # noqa: E402

import crosscheck as cc  # noqa: E402

GATED = ["detection_error_rate", "miss_rate", "false_alarm_rate",
         "per_speaker_detection_error_rate", "per_speaker_miss_rate",
         "per_speaker_false_alarm_rate", "der", "jer", "wer", "cer"]
INFO_PS = "per_speaker_detection_error_rate [hyp-only labels ignored]"
INFO_CER = "cer [spaces not counted]"
INFO_DET = "detection_error_rate [collars at speech-region boundaries]"


# ------------------------------------------------ hearken's text normalisation

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
        "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _below_hundred(n: int, out: list) -> None:
    if n < 20:
        out.append(ONES[n])
    else:
        out.append(TENS[n // 10])
        if n % 10:
            out.append(ONES[n % 10])


def _cardinal(n: int, out: list) -> None:
    if n < 100:
        _below_hundred(n, out)
        return
    for unit, name in [(10**9, "billion"), (10**6, "million"), (1000, "thousand"),
                       (100, "hundred")]:
        if n >= unit:
            _cardinal(n // unit, out)
            out.append(name)
            if n % unit:
                _cardinal(n % unit, out)
            return


def _spell_number(num: str, year_like: bool, out: list) -> None:
    if "." in num:
        integer, frac = num.split(".", 1)
        _spell_number(integer, False, out)
        out.append("point")
        out.extend(ONES[int(d)] for d in frac if d.isdigit())
        return
    if len(num) > 9 or (len(num) > 1 and num.startswith("0")):
        out.extend(ONES[int(d)] for d in num if d.isdigit())
        return
    try:
        n = int(num)
    except ValueError:
        return
    if year_like and 1100 <= n < 2000 and n % 100:
        _below_hundred(n // 100, out)
        if n % 100 < 10:
            out.append("oh")
        _below_hundred(n % 100, out)
        return
    _cardinal(n, out)


def _is_ascii_digit(c: str) -> bool:
    return "0" <= c <= "9"


def hearken_normalise(text: str) -> list[str]:
    """Python port of hearken's ``eval::text::normalize`` (returns words)."""
    cleaned = []
    depth = 0
    for c in text:
        if c in "[(<{":
            depth += 1
        elif c in "])>}":
            depth = max(depth - 1, 0)
        elif depth > 0:
            pass
        elif c == "%":
            cleaned.append(" percent ")
        elif c == "&":
            cleaned.append(" and ")
        elif c in "'\u2019":
            cleaned.append("'")
        elif c.isalnum():
            cleaned.append(c.lower())
        elif c in ".,":
            cleaned.append(c)
        else:
            cleaned.append(" ")
    words: list[str] = []
    for token in "".join(cleaned).split():
        chars = list(token)
        i = 0
        while i < len(chars):
            if _is_ascii_digit(chars[i]):
                start = i
                while i < len(chars) and (
                        _is_ascii_digit(chars[i])
                        or (chars[i] in ".," and i + 1 < len(chars)
                            and _is_ascii_digit(chars[i + 1]))):
                    i += 1
                raw = "".join(chars[start:i])
                _spell_number(raw.replace(",", ""), "," not in raw, words)
            elif chars[i].isalnum() or chars[i] == "'":
                start = i
                while i < len(chars) and ((chars[i].isalnum() and not _is_ascii_digit(chars[i]))
                                          or chars[i] == "'"):
                    i += 1
                w = "".join(chars[start:i]).strip("'")
                if w:
                    words.append(w)
            else:
                i += 1
    return words


# ------------------------------------------------------------- text scoring

@dataclass
class StmLine:
    file: str
    speaker: str
    start: float
    end: float
    text: str
    ignore: bool


def read_stm(paths: list[Path]) -> list[StmLine]:
    out = []
    for p in paths:
        for line in p.read_text().splitlines():
            if not line.strip() or line.lstrip().startswith(";;"):
                continue
            f = line.split()
            rest = f[5:]
            if rest and rest[0].startswith("<") and rest[0].endswith(">"):
                rest = rest[1:]
            text = " ".join(rest)
            ignore = text.lower() == cc.IGNORE_TEXT
            out.append(StmLine(f[0], f[2], float(f[3]), float(f[4]),
                               "" if ignore else text, ignore))
    return out


def jiwer_counts(ref_words: list[str], hyp_words: list[str], chars_joiner: str) -> tuple[int, int]:
    """(errors, reference length) by jiwer; words if joiner is None."""
    if chars_joiner is None:
        if not ref_words:
            return len(hyp_words), 0
        o = jiwer.process_words(" ".join(ref_words), " ".join(hyp_words))
        return o.substitutions + o.deletions + o.insertions, o.hits + o.substitutions + o.deletions
    r, h = chars_joiner.join(ref_words), chars_joiner.join(hyp_words)
    if not r:
        return len(h), 0
    o = jiwer.process_characters(r, h)
    return o.substitutions + o.deletions + o.insertions, o.hits + o.substitutions + o.deletions


def report_transcripts(hyp_dir: Path) -> tuple[list[StmLine], set[str]]:
    """Transcript lines of the hearken reports in ``hyp_dir`` (as hearken's
    ``hyp_from_report`` reads them) and the stems whose report has one."""
    lines, stems = [], set()
    for f in sorted(hyp_dir.glob("*.json")):
        try:
            d = json.loads(f.read_text())
        except ValueError:
            continue
        if "schema_version" not in d or d.get("transcript") is None:
            continue
        stems.add(f.stem)
        lines += [StmLine(f.stem, u["speaker"], float(u["start_s"]), float(u["end_s"]),
                          u["text"], False) for u in d["transcript"]]
    return lines, stems


def text_scores(ref: list[StmLine], hyp: list[StmLine],
                hyp_stems: set[str]) -> dict[str, dict]:
    """Per file: word/char error counts with jiwer, hearken's grouping.
    A file is scored when its reference has lines and its hypothesis has a
    transcript (``hyp_stems``; possibly empty)."""
    out = {}
    for stem in sorted({l.file for l in ref}):
        r_lines = [l for l in ref if l.file == stem]
        h_lines = [l for l in hyp if l.file == stem]
        if stem not in hyp_stems:
            continue
        ref_ids = sorted({l.speaker for l in r_lines})
        merged = not any(l.speaker in ref_ids for l in h_lines)

        def ignored(l: StmLine, speaker) -> bool:
            mid = (round(l.start * 16000) + round(l.end * 16000)) // 2  # samples
            return any(r.ignore and (speaker is None or r.speaker == speaker)
                       and round(r.start * 16000) <= mid < round(r.end * 16000)
                       for r in r_lines)

        def join(lines: list[StmLine]) -> list[str]:
            text = " ".join(l.text for l in sorted(lines, key=lambda x: x.start))
            return hearken_normalise(text)

        if merged:
            groups = [(join([l for l in r_lines if not l.ignore]),
                       join([l for l in h_lines if not ignored(l, None)]))]
        else:
            groups = [(join([l for l in r_lines if not l.ignore and l.speaker == s]),
                       join([l for l in h_lines if l.speaker == s and not ignored(l, s)]))
                      for s in ref_ids]
        c = defaultdict(int)
        for rw, hw in groups:
            for key, joiner in [("w", None), ("c", ""), ("cs", " ")]:
                e, n = jiwer_counts(rw, hw, joiner)
                c[key + "_err"] += e
                c[key + "_ref"] += n
        out[stem] = dict(c)
    return out


# --------------------------------------------------------- pyannote scoring

@dataclass
class Acc:
    """Accumulated components for one scope."""
    det: dict = field(default_factory=lambda: defaultdict(float))
    ps: dict = field(default_factory=lambda: defaultdict(float))
    ps_ignore: dict = field(default_factory=lambda: defaultdict(float))
    det_support: dict = field(default_factory=lambda: defaultdict(float))
    der: dict = field(default_factory=lambda: defaultdict(float))
    jer: dict = field(default_factory=lambda: defaultdict(float))
    text: dict = field(default_factory=lambda: defaultdict(int))
    has_text: bool = False

    def add(self, o: "Acc") -> None:
        for k in ("det", "ps", "ps_ignore", "det_support", "der", "jer", "text"):
            mine, theirs = getattr(self, k), getattr(o, k)
            for kk, v in theirs.items():
                mine[kk] += v
        self.has_text |= o.has_text

    def figures(self) -> dict:
        def r(num, den):
            return None if den <= 0 else 100.0 * num / den
        d, p, pi = self.det, self.ps, self.ps_ignore
        out = {
            "detection_error_rate": r(d["miss"] + d["false alarm"], d["total"]),
            "miss_rate": r(d["miss"], d["total"]),
            "false_alarm_rate": r(d["false alarm"], d["total"]),
            "per_speaker_detection_error_rate": r(p["miss"] + p["false alarm"], p["total"]),
            "per_speaker_miss_rate": r(p["miss"], p["total"]),
            "per_speaker_false_alarm_rate": r(p["false alarm"], p["total"]),
            INFO_PS: r(pi["miss"] + pi["false alarm"], pi["total"]),
            INFO_DET: r(self.det_support["miss"] + self.det_support["false alarm"],
                        self.det_support["total"]),
            "_merged_miss_rate": r(self.det_support["miss"], self.det_support["total"]),
            "_merged_false_alarm_rate": r(self.det_support["false alarm"],
                                          self.det_support["total"]),
            "der": r(self.der["missed detection"] + self.der["false alarm"]
                     + self.der["confusion"], self.der["total"]),
            "jer": r(self.jer["speaker error"], self.jer["speaker count"]),
        }
        t = self.text
        out["wer"] = r(t["w_err"], t["w_ref"]) if self.has_text else None
        out["cer"] = r(t["cs_err"], t["cs_ref"]) if self.has_text else None
        out[INFO_CER] = r(t["c_err"], t["c_ref"]) if self.has_text else None
        return out


def _components(metric, ref, hyp, uem) -> dict:
    return metric.compute_components(ref, hyp, uem=uem)


def score_file_pyannote(ref: Annotation, hyp: Annotation, uem: Timeline | None,
                        collar: float) -> Acc:
    a = Acc()
    uri = ref.uri
    for k, v in _components(DetectionErrorRate(collar=collar, skip_overlap=False),
                            ref, hyp, uem).items():
        a.det[k] += v
    # The same, with the reference merged first, so that the collars sit only
    # at the boundaries of speech regions (not inside overlaps).
    merged = cc.single_label(ref.get_timeline(), uri)
    for k, v in _components(DetectionErrorRate(collar=collar, skip_overlap=False),
                            merged, hyp, uem).items():
        a.det_support[k] += v
    for label in ref.labels():
        r = cc.single_label(ref.label_timeline(label), uri)
        h = cc.single_label(hyp.label_timeline(label) if label in hyp.labels()
                            else Timeline(uri=uri), uri)
        comp = _components(DetectionErrorRate(collar=collar, skip_overlap=False), r, h, uem)
        for k, v in comp.items():
            a.ps[k] += v
            a.ps_ignore[k] += v
    for label in sorted(set(hyp.labels()) - set(ref.labels())):
        r = Annotation(uri=uri)
        h = cc.single_label(hyp.label_timeline(label), uri)
        comp = _components(DetectionErrorRate(collar=collar, skip_overlap=False), r, h, uem)
        for k, v in comp.items():
            a.ps[k] += v
    for k, v in _components(DiarizationErrorRate(collar=collar, skip_overlap=False),
                            ref, hyp, uem).items():
        a.der[k] += v
    if ref.labels():
        for k, v in _components(JaccardErrorRate(collar=collar, skip_overlap=False),
                                ref, hyp, uem).items():
            a.jer[k] += v
    return a


# ------------------------------------------------------------------- cases

@dataclass
class Case:
    name: str
    ref: Path          # directory: <stem>.rttm (+ .stm)
    hyp: Path          # directory: <stem>.rttm (+ .json, .stm)
    uem: Path | None   # directory of <stem>.uem, or None = no UEM
    note: str = ""


def copy_files(src: Path, dst: Path, exts: tuple[str, ...]) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for f in sorted(src.iterdir()):
        if f.is_file() and f.suffix.lstrip(".") in exts:
            shutil.copy2(f.resolve(), dst / f.name)


def perturb_stm(ref_dir: Path, out_dir: Path, seed: int) -> None:
    """A hypothesis transcript per reference STM: words deleted, substituted,
    inserted (some as digits), case and punctuation changed, lines out of
    order, words inside ignored regions, a few lines dropped."""
    rng = random.Random(seed)
    vocab = sorted({w for p in ref_dir.glob("*.stm") for l in p.read_text().splitlines()
                    for w in l.split()[5:] if w != cc.IGNORE_TEXT})
    extras = ["42", "1990", "3.5", "7", "100%", "rock & roll", "[noise]", "(laughs)"]
    for p in sorted(ref_dir.glob("*.stm")):
        out = []
        for line in p.read_text().splitlines():
            f = line.split()
            if len(f) < 6:
                continue
            if f[5] == cc.IGNORE_TEXT:
                if rng.random() < 0.5:
                    out.append(f[:5] + [rng.choice(vocab), rng.choice(vocab)])
                continue
            if rng.random() < 0.04:
                continue
            words = []
            for w in f[5:]:
                x = rng.random()
                if x < 0.05:
                    continue
                if x < 0.10:
                    w = rng.choice(vocab)
                elif x < 0.13:
                    w = w.upper()
                elif x < 0.16:
                    w = w + rng.choice([",", ".", "?", "!"])
                words.append(w)
                if rng.random() < 0.04:
                    words.append(rng.choice(extras if rng.random() < 0.3 else vocab))
            out.append(f[:5] + words)
        rng.shuffle(out)
        (out_dir / p.name).write_text("".join(" ".join(x) + "\n" for x in out))


def build_cases(args, work: Path) -> list[Case]:
    fx = HERE / "fixtures"
    cases = []

    def case(name, ref_src, hyp_src, uem, stm=None, hyp_stm=None, empty=(), note=""):
        d = work / name
        if d.exists():
            shutil.rmtree(d)
        copy_files(ref_src, d / "ref", ("rttm",))
        copy_files(hyp_src, d / "hyp", ("rttm", "json"))
        if stm:
            shutil.copy2(stm, d / "ref" / stm.name)
        if hyp_stm:
            if hyp_stm.is_dir():
                copy_files(hyp_stm, d / "hyp", ("stm",))
            else:
                shutil.copy2(hyp_stm, d / "hyp" / hyp_stm.name)
        for stem in empty:  # hearken refuses a reference without hypothesis
            (d / "hyp" / f"{stem}.rttm").write_text("")
        u = None
        if uem:
            copy_files(uem, d / "uem", ("uem",))
            u = d / "uem"
        cases.append(Case(name, d / "ref", d / "hyp", u, note))

    case("fixtures/sys", fx / "ref", fx / "hyp_sys", fx / "uem", fx / "ref.stm",
         fx / "hyp.stm", note="hand-made fixtures (README); f2 has a UEM")
    case("fixtures/sys-text2", fx / "ref", fx / "hyp_sys", fx / "uem", fx / "ref.stm",
         fx / "hyp_text.stm", note="second hypothesis transcript: tags, ignored region")
    case("fixtures/sys-nouem", fx / "ref", fx / "hyp_sys", None,
         note="no UEM: pyannote scores the extent of ref ∪ hyp, hearken 0..max end")
    case("fixtures/empty", fx / "ref", fx / "hyp_empty", fx / "uem", empty=["f3"],
         note="empty hypotheses (f3 given as an empty RTTM)")
    case("fixtures/extra", fx / "ref", fx / "hyp_extra", fx / "uem",
         note="overlapping/touching turns, hypothesis-only labels, tied mapping")

    dev = args.devset
    if dev and (dev / "ref").is_dir():
        peers = args.peers_dir
        for sub in ("stereo", "mono"):
            for peer in ("webrtc", "webrtc-smooth", "silero", "silero-onnx"):
                src = peers / sub / peer
                if not list(src.glob("*.rttm")):
                    continue
                name = f"devset/{peer}" if sub == "stereo" else f"devset/mono-{peer}"
                extra = {}
                if sub == "stereo" and peer == "silero":
                    txt = work / "_perturbed_stm"
                    if txt.exists():
                        shutil.rmtree(txt)
                    txt.mkdir(parents=True)
                    perturb_stm(dev / "ref", txt, args.seed)
                    extra = {"stm": None, "hyp_stm": txt}
                note = ("mono hypothesis (one label `speaker`)" if sub == "mono" else
                        "+ perturbed transcripts (WER/CER)" if extra else "")
                case(name, dev / "ref", src, dev / "ref", hyp_stm=extra.get("hyp_stm"),
                     note=note)
                if extra:  # the reference STMs
                    copy_files(dev / "ref", work / name / "ref", ("stm",))
        silero = peers / "stereo" / "silero"
        if list(silero.glob("*.rttm")):
            case("devset/silero-nouem", dev / "ref", silero, None,
                 note="UEMs not used")
        hk = args.hearken_out
        if hk is None:
            hk = work / "_hearken_analyze"
            if hk.exists():
                shutil.rmtree(hk)
            # always fresh, so that it is this binary's output (~2 s; with
            # --transcribe a few minutes)
            helptext = subprocess.run([str(args.hearken), "analyze", "--help"],
                                      capture_output=True, text=True).stdout
            extra = (["--no-transcribe"] if "--no-transcribe" in helptext
                     and not args.transcribe else [])
            cmd = [str(args.hearken), "analyze", str(dev / "stereo"), "--out", str(hk),
                   "-j", "2", "--quiet", *extra]
            print(f"$ {shlex.join(cmd)}", file=sys.stderr)
            subprocess.run(cmd, check=True)
        with_text = args.transcribe or args.hearken_out is not None
        case("devset/hearken", dev / "ref", hk, dev / "ref",
             note="hearken analyze output (report JSON + RTTM)"
             + ("; WER/CER of its own transcripts (report `transcript`) against the "
                "reference STMs" if with_text else ""))
        if with_text:
            copy_files(dev / "ref", work / "devset/hearken" / "ref", ("stm",))
    return cases


# --------------------------------------------------------------- comparison

def run_hearken_eval(hearken: Path, case: Case, collar: float, empty_uem: Path) -> dict:
    cmd = [str(hearken), "eval", "--ref", str(case.ref), "--hyp", str(case.hyp),
           "--uem", str(case.uem or empty_uem), "--collar", f"{collar:g}", "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{shlex.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    d = json.loads(proc.stdout)

    def pct(figs: dict) -> dict:
        out = {k: (None if figs.get(k) is None else 100.0 * figs[k]) for k in GATED}
        out[INFO_CER] = out["cer"]
        out[INFO_PS] = None
        out[INFO_DET] = out["detection_error_rate"]
        return out
    return {"files": {k: pct(v) for k, v in d["files"].items()}, "pooled": pct(d["pooled"])}


def run_reference(case: Case, collar: float) -> dict:
    pooled = Acc()
    files = {}
    ref_stm = sorted(case.ref.glob("*.stm"))
    hyp_stm = sorted(case.hyp.glob("*.stm"))
    hyp_lines = read_stm(hyp_stm)
    stems = {l.file for l in hyp_lines}
    rep_lines, rep_stems = report_transcripts(case.hyp)
    hyp_lines += rep_lines
    stems |= rep_stems
    text = text_scores(read_stm(ref_stm), hyp_lines, stems) if ref_stm and stems else {}
    hyps = cc.rttm_files(case.hyp)
    for stem, path in cc.rttm_files(case.ref).items():
        ref = cc.load_rttm(path, stem)
        hyp = cc.load_rttm(hyps[stem], stem) if stem in hyps else Annotation(uri=stem)
        uem_path = case.uem / f"{stem}.uem" if case.uem else None
        uem = cc.load_uem(uem_path, stem) if uem_path and uem_path.exists() else None
        a = score_file_pyannote(ref, hyp, uem, collar)
        if stem in text:
            a.has_text = True
            for k, v in text[stem].items():
                a.text[k] += v
        pooled.add(a)
        files[stem] = a.figures()
    return {"files": files, "pooled": pooled.figures()}


def diff(h, r):
    if h is None and r is None:
        return 0.0
    if h is None or r is None:
        return math.inf
    return h - r


def sign(d: float) -> str:
    """Signed difference, 4 decimals, without a spurious '-0.0000'."""
    return "0" if abs(d) < 5e-5 else f"{d:+.4f}"


def fmt(v) -> str:
    return "–" if v is None else f"{v:.4f}"


@dataclass
class Failure:
    case: str
    collar: float
    figure: str
    pooled: tuple          # (hearken, reference, delta)
    files: list            # [(stem, hearken, reference, delta)] over tolerance
    explained: bool = False  # matches pyannote once the reference is merged


def compare(cases: list[Case], collars: list[float], hearken: Path, tol: float,
            empty_uem: Path):
    rows, failures, infos = [], [], []
    n_checked = 0
    for case in cases:
        for collar in collars:
            hk = run_hearken_eval(hearken, case, collar, empty_uem)
            ref = run_reference(case, collar)
            missing = sorted(set(ref["files"]) ^ set(hk["files"]))
            if missing:
                failures.append(Failure(case.name, collar, "files scored by one side only",
                                        (None, None, math.inf), [(m, None, None, math.inf)
                                                                 for m in missing]))
            for fig in GATED + [INFO_DET, INFO_PS, INFO_CER]:
                gated = fig in GATED
                hv, rv = hk["pooled"].get(fig), ref["pooled"].get(fig)
                if hv is None and rv is None:
                    continue
                if fig == INFO_PS and rv == ref["pooled"]["per_speaker_detection_error_rate"]:
                    continue  # no hypothesis-only label: same as the gated row
                if fig == INFO_DET and (collar == 0 or rv == ref["pooled"]["detection_error_rate"]):
                    continue  # same as the gated row
                d = diff(hv, rv) if fig != INFO_PS else None
                worst, worst_file, over = 0.0, "", []
                if gated:
                    for stem in ref["files"]:
                        h1 = hk["files"].get(stem, {}).get(fig)
                        r1 = ref["files"][stem].get(fig)
                        fd = diff(h1, r1)
                        n_checked += 1 if (h1 is not None or r1 is not None) else 0
                        if abs(fd) > abs(worst) and abs(fd) >= 5e-5:
                            worst, worst_file = fd, stem
                        if abs(fd) > tol:
                            over.append((stem, h1, r1, fd))
                    n_checked += 1
                    if abs(d) > tol or over:
                        f = Failure(case.name, collar, fig, (hv, rv, d), over)
                        if fig in ("detection_error_rate", "miss_rate", "false_alarm_rate"):
                            f.explained = explained_by_merged_collars(hk, ref, fig, tol)
                        failures.append(f)
                status = ("ok" if gated and abs(d) <= tol and abs(worst) <= tol else
                          "**FAIL**" if gated else "info")
                if not gated and d is not None and abs(d) > tol:
                    infos.append(f"{case.name} collar {collar:g} {fig}: hearken {fmt(hv)} vs "
                                 f"{fmt(rv)} (Δ {d:+.4f})")
                rows.append([case.name, f"{collar:g}", fig, fmt(hv), fmt(rv),
                             "–" if d is None else sign(d),
                             f"{sign(worst)} ({worst_file})" if worst_file else
                             ("0" if gated else "–"), status])
    return rows, failures, infos, n_checked


def explained_by_merged_collars(hk: dict, ref: dict, fig: str, tol: float) -> bool:
    """True when pyannote with the reference merged into speech regions first
    (collars only at region boundaries) gives hearken's detection error on
    every file and pooled, for this figure."""
    scopes = [(hk["pooled"], ref["pooled"])] + [
        (hk["files"].get(stem, {}), r) for stem, r in ref["files"].items()]
    other = {"detection_error_rate": INFO_DET, "miss_rate": "_merged_miss_rate",
             "false_alarm_rate": "_merged_false_alarm_rate"}[fig]
    return all(abs(diff(h.get(fig), r.get(other))) <= tol for h, r in scopes)


def failure_lines(failures: list[Failure], tol: float) -> list[str]:
    out = []
    for f in failures:
        h, r, d = f.pooled
        line = (f"`{f.case}` collar {f.collar:g} **{f.figure}**: pooled hearken {fmt(h)} vs "
                f"reference {fmt(r)} (Δ {d:+.4f})")
        if f.files:
            stem, h1, r1, d1 = max(f.files, key=lambda x: abs(x[3]))
            line += (f"; {len(f.files)} file(s) over {tol:g}, worst {stem}: {fmt(h1)} vs "
                     f"{fmt(r1)} (Δ {d1:+.4f})")
        if f.explained:
            line += " — explained: collar placement (above)"
        out.append(line)
    return out


def summary(rows: list[list[str]]) -> str:
    """Per case and collar: the largest |Δ| (file or pooled) of the detection
    figures and of all other gated figures."""
    det = {"detection_error_rate", "miss_rate", "false_alarm_rate"}
    agg: dict = {}
    for case, collar, fig, _h, _r, d, worst, status in rows:
        if status == "info":
            continue
        a = agg.setdefault((case, collar), {"det": 0.0, "other": 0.0, "figs": []})
        m = max(0.0 if d in ("0", "–") else abs(float(d)),
                0.0 if worst in ("0", "–") else abs(float(worst.split()[0])))
        k = "det" if fig in det else "other"
        a[k] = max(a[k], m)
        a["figs"].append(fig)
    lines = ["| case | collar (s) | largest Δ, detection error / miss / FA | largest Δ, other "
             "figures | other figures compared |", "|---|---:|---:|---:|---|"]
    for (case, collar), a in agg.items():
        short = {"per_speaker_detection_error_rate": "per-speaker", "per_speaker_miss_rate":
                 "its miss", "per_speaker_false_alarm_rate": "its FA"}
        others = [short.get(f, f.upper()) for f in a["figs"] if f not in det]
        lines.append(f"| {case} | {collar} | {a['det']:.4f} | {a['other']:.4f} | "
                     f"{', '.join(others)} |")
    return "\n".join(lines)


def md(rows: list[list[str]]) -> str:
    head = ["case", "collar (s)", "figure", "hearken eval (%)", "pyannote / jiwer (%)",
            "Δ pooled (points)", "largest per-file Δ (file)", "status"]
    lines = ["| " + " | ".join(head) + " |", "|---|---:|---|---:|---:|---:|---:|---|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def versions() -> str:
    from importlib import metadata
    hk = subprocess.run([str(ARGS.hearken), "--version"], capture_output=True,
                        text=True).stdout.strip()
    path = ARGS.hearken.resolve()
    shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
    built = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return (f"{hk} (`{shown}`, built {built:%Y-%m-%d %H:%M} UTC, sha256 {digest}), "
            f"pyannote.metrics {metadata.version('pyannote.metrics')}, "
            f"pyannote.core {metadata.version('pyannote.core')}, jiwer "
            f"{metadata.version('jiwer')}, Python {sys.version.split()[0]}")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hearken", type=Path, default=REPO / "target/release/hearken")
    p.add_argument("--devset", type=Path, default=REPO / "target/devset",
                   help="dev set with ref/ and stereo/ (default target/devset); '' to skip")
    p.add_argument("--peers-dir", type=Path, default=REPO / "target/peers",
                   help="vad_peers.py outputs: PEERS/{stereo,mono}/<peer>/*.rttm")
    p.add_argument("--hearken-out", type=Path,
                   help="a hearken analyze output for the dev set (default: analyse "
                        "DEVSET/stereo into the work directory on every run)")
    p.add_argument("--transcribe", action="store_true",
                   help="let hearken analyze transcribe the dev set (whisper; minutes) and "
                        "cross-check WER/CER of its transcripts (default: --no-transcribe)")
    p.add_argument("--collars", default="0,0.25", help="collars in seconds (pyannote "
                   "convention: total width), comma-separated (default 0,0.25)")
    p.add_argument("--tolerance", type=float, default=0.1, help="points (default 0.1)")
    p.add_argument("--seed", type=int, default=7, help="seed of the perturbed transcripts")
    p.add_argument("--work", type=Path, default=REPO / "target/peers/crosscheck")
    p.add_argument("--md", type=Path, default=REPO / "docs/crosscheck.md",
                   help="Markdown output (default docs/crosscheck.md); '-' for none")
    return p.parse_args(argv)


ARGS = None


def main(argv=None) -> int:
    global ARGS
    argv = sys.argv[1:] if argv is None else argv
    ARGS = args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not args.hearken.exists():
        raise SystemExit(f"missing {args.hearken}")
    if str(args.devset) in ("", "."):
        args.devset = None
    args.work.mkdir(parents=True, exist_ok=True)
    empty_uem = args.work / "_no_uem"
    empty_uem.mkdir(exist_ok=True)
    # Sanity check of the port on digit-free text against crosscheck.py's
    # independent normaliser.
    for s in ["Hello, how can I help you today?", "Thank you — twenty-one", "what's 'this'"]:
        assert hearken_normalise(s) == cc.normalise(s).split(), s
    cases = build_cases(args, args.work)
    collars = [float(c) for c in args.collars.split(",")]
    rows, failures, infos, n_checked = compare(cases, collars, args.hearken,
                                                args.tolerance, empty_uem)
    command = os.environ.get("HEARKEN_CROSSCHECK_CMD") or shlex.join(
        ["scripts/peers/crosscheck_hearken.py", *argv])
    out = ["# hearken eval vs pyannote.metrics / jiwer", "",
           "Generated by", "", "```sh", command, "```", "",
           f"Run {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC. "
           f"Versions: {versions()}. Tolerance {args.tolerance:g} point; every file and the "
           "pooled value are checked; rows marked *info* are not gated.", "",
           "Cases (`target/peers/crosscheck/<case>/{ref,hyp,uem}`):", ""]
    out += [f"- `{c.name}`" + (f": {c.note}" if c.note else "") for c in cases]
    out += ["", "Like-for-like conventions: per-speaker detection counts hypothesis labels "
            "absent from the reference as false alarm on both sides (hearken's convention; "
            f"`{INFO_PS}` shows pyannote with them left out, as `crosscheck.py` does); WER/CER "
            "use hearken's normalisation on both sides (numbers spelled out), hypothesis lines "
            "centred in an ignored reference region dropped, CER with the spaces between "
            f"words counted, as jiwer's default (`{INFO_CER}` shows it without them).", ""]
    if failures:
        n_files = sum(max(len(f.files), 1) for f in failures)
        figs = sorted({f.figure for f in failures})
        coll = sorted({f.collar for f in failures})
        out += [f"**Result: {len(failures)} case/figure rows with differences above "
                f"{args.tolerance:g} point ({n_files} file or pooled values) out of "
                f"{n_checked} checked values** — figures: {', '.join(figs)}; collars: "
                f"{', '.join(f'{c:g}' for c in coll)}.", ""]
        if any(f.explained for f in failures):
            out += [
                "All of them have one cause, the **collar of the speaker-agnostic detection "
                "error**. pyannote's `DetectionErrorRate` removes ±collar/2 around every "
                "boundary of every reference segment of every speaker "
                "(`UEMSupportMixin.extrude` iterates `reference.itersegments()` before the "
                "speakers are merged), so boundaries *inside* speech — where one speaker "
                "starts or stops during the other's turn (overlaps, interruptions, "
                "backchannels) — get a collar too. `hearken eval` (`src/eval/mod.rs`, "
                "`score_file`: `scored_region(&uem, &[&rsup], collar)`) places the collars "
                "only at the boundaries of the merged speech regions. Proof: pyannote fed "
                "the merged reference (row "
                f"`{INFO_DET}`) gives hearken's value on every file and pooled. At collar 0 "
                "everything agrees. DER and JER use the boundaries of every reference "
                "speaker on both sides and agree.", ""]
        out += ["Differences:", ""] + [f"- {l}" for l in failure_lines(failures, args.tolerance)]
        out += [""]
    else:
        out += [f"**Result: all {n_checked} checked values agree within "
                f"{args.tolerance:g} point.**", ""]
    if infos:
        out += ["Informational differences (conventions, not gated):", ""]
        out += [f"- {f}" for f in infos] + [""]
        if any(INFO_CER in f for f in infos):
            out += ["jiwer's `cer` (and `process_characters`) keeps the single spaces between "
                    "words as characters (`jiwer.cer('ab cd', 'abcd')` = 0.2: the deleted space "
                    "is an error), and so does hearken's CER. The info row shows the "
                    "space-free variant.", ""]
    out += ["## Summary (points; per file or pooled)", "", summary(rows), "",
            "## Table", "", md(rows), ""]
    text = "\n".join(out)
    print(text)
    if str(args.md) != "-":
        args.md.parent.mkdir(parents=True, exist_ok=True)
        args.md.write_text(text)
    if failures:
        print(f"FAIL: {len(failures)} case/figure row(s) with differences above "
              f"{args.tolerance:g} point",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
