#!/usr/bin/env python3
"""Run crosscheck.py on the hand-made fixtures and compare with expected.json.

Each case of ``fixtures/expected.json`` is scored (table printed), then
every expected value is compared with crosscheck's JSON output within
0.005 percentage points. Exit status 1 if any value differs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import crosscheck  # noqa: E402

TOLERANCE = 0.005


def run_case(args: list[str]) -> tuple[dict, str]:
    """Crosscheck result dict and printed table for ``args`` (fixtures cwd)."""
    ns = crosscheck.parse_args(args)
    with contextlib.redirect_stderr(io.StringIO()):
        result = crosscheck.crosscheck(ns)
    return result, crosscheck.format_table(result)


def compare(expect: dict, got: dict, where: str) -> list[str]:
    """Differences between expected and obtained values, as messages."""
    errors = []
    for key, want in expect.items():
        have = got.get(key)
        if isinstance(want, dict):
            errors += compare(want, have or {}, f"{where}.{key}")
        elif have is None or abs(have - want) > TOLERANCE:
            errors.append(f"{where}.{key}: expected {want}, got {have}")
    return errors


def segmenting_checks() -> list[str]:
    """Checks of the webrtc frame-to-segment logic and RTTM formatting."""
    from audio_io import format_rttm
    from vad_peers import ring_buffer_segments, runs_to_segments

    f, t = False, True
    checks = {
        "runs": (runs_to_segments([f, t, t, f, t], 0.03),
                 [(0.03, 0.09), (0.12, 0.15)]),
        "runs_empty": (runs_to_segments([f, f], 0.03), []),
        # trigger once a full 10-frame window is speech (frames 2..11),
        # detrigger after 10 non-speech frames (22..31): frames 2..31
        "ring": (ring_buffer_segments([f] * 2 + [t] * 20 + [f] * 15, 0.03, 10, 0.9),
                 [(0.06, 0.96)]),
        # still triggered at the end: ends with the last frame
        "ring_open": (ring_buffer_segments([t] * 12, 0.03, 10, 0.9), [(0.0, 0.36)]),
        "rttm": (format_rttm("x", [(2, 1.0, 2.5, "customer"), (1, 0.25, 1.0004, "agent")]),
                 "SPEAKER x 1 0.250 0.750 <NA> <NA> agent <NA> <NA>\n"
                 "SPEAKER x 2 1.000 1.500 <NA> <NA> customer <NA> <NA>\n"),
    }
    errors = []
    for name, (got, want) in checks.items():
        if isinstance(want, list):
            ok = len(got) == len(want) and all(
                abs(a - c) < 1e-9 and abs(b - d) < 1e-9 for (a, b), (c, d) in zip(got, want))
        else:
            ok = got == want
        if not ok:
            errors.append(f"segmenting.{name}: expected {want!r}, got {got!r}")
    return errors, len(checks)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quiet", action="store_true", help="do not print tables")
    args = p.parse_args(argv)
    spec = json.loads((HERE / "fixtures" / "expected.json").read_text())
    os.chdir(HERE / "fixtures")
    failures, checks = segmenting_checks()
    for name, case in spec["cases"].items():
        result, table = run_case(case["args"])
        if not args.quiet:
            print(f"== {name}: crosscheck.py {' '.join(case['args'])}")
            print(table + "\n")
        errs = compare(case["expect"], result, name)
        checks += sum(1 for _ in _leaves(case["expect"]))
        failures += errs
    for msg in failures:
        print("FAIL", msg)
    print(f"selftest: {checks - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


def _leaves(d: dict):
    for v in d.values():
        if isinstance(v, dict):
            yield from _leaves(v)
        else:
            yield v


if __name__ == "__main__":
    sys.exit(main())
