#!/usr/bin/env bash
# Issue 9's figures for one development set: analyses its mono mixes and its
# stereo calls with the same binary, then scores both against the same
# references, pooled per group of calls:
#   wide = calls sampled at >= 16 kHz, 8k = calls at 8 kHz,
#   tel  = calls with a telephone codec (mu-law, A-law, 8-bit PCM), all = every call,
#   sure = calls whose mono report does not mark the speaker split uncertain.
# DER has a 0.25 s collar and scores overlapped speech (hearken eval's default).
#
# Usage: scripts/mono_figures.sh DEVSET [--config FILE] [--keep DIR]
#   DEVSET holds stereo/, mono/, ref/ and manifest.csv (scripts/make_devset.py).
set -euo pipefail
dev=${1:?usage: scripts/mono_figures.sh DEVSET [--config FILE] [--keep DIR]}
shift
cfg=()
work=$(mktemp -d)
keep=""
while [ $# -gt 0 ]; do
    case $1 in
        --config) cfg=(--config "$2"); shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
trap '[ -z "$keep" ] && rm -rf "$work"' EXIT
[ -n "$keep" ] && { rm -rf "$keep"; mkdir -p "$keep"; work=$keep; }
bin=${HEARKEN:-target/release/hearken}
for kind in mono stereo; do
    t0=$(date +%s.%N)
    "$bin" analyze --no-transcribe --quiet --jobs 1 "${cfg[@]}" --out "$work/$kind" "$dev/$kind" >/dev/null
    t1=$(date +%s.%N)
    audio=$(awk -F, 'NR > 1 { s += $5 } END { printf "%.0f", s }' "$dev/manifest.csv")
    echo "$kind: ${audio} s of audio analysed in $(echo "$t1 - $t0" | bc) s wall (--jobs 1)"
done
group() { # name, awk condition on manifest fields ($3 rate, $4 format)
    local g=$1 cond=$2
    for kind in mono stereo; do
        local d="$work/groups/$g-$kind"
        mkdir -p "$d/ref" "$d/hyp"
        awk -F, "NR > 1 && ($cond) { print \$1 }" "$dev/manifest.csv" | while read -r call; do
            ln -sf "$(realpath "$dev/ref")/$call".* "$d/ref/"
            ln -sf "$(realpath "$work/$kind/$call").json" "$d/hyp/"
        done
        printf '%-6s %-6s ' "$g" "$kind"
        "$bin" eval "${cfg[@]}" --ref "$d/ref" --hyp "$d/hyp" --collar 0.25 --json \
            | python3 -c '
import json, sys
p = json.load(sys.stdin)["pooled"]
def pct(k):
    v = p.get(k)
    return "-" if v is None else "%.1f%%" % (100 * v)
share = p.get("talk_share_abs_error")
print("calls %2s  DER %6s (miss %s, FA %s, conf %s)  ovl F1 %6s  int P/R %s / %s  share err %s" % (
    sys.argv[1], pct("der"), pct("der_miss"), pct("der_false_alarm"), pct("der_confusion"),
    pct("overlap_f1"), pct("interruption_precision"), pct("interruption_recall"),
    "-" if share is None else "%.2f" % share))
' "$(ls "$d/ref"/*.rttm | wc -l)"
    done
}
group wide '$3 >= 16000'
group 8k '$3 < 16000'
group tel '$4 == "ulaw" || $4 == "alaw" || $4 == "pcm8"'
group all '1'
# The calls whose mono split hearken did not mark uncertain (diarization.uncertain).
sure=$(python3 -c '
import json, pathlib, sys
for p in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
    if not json.loads(p.read_text()).get("diarization", {}).get("uncertain"):
        print(p.stem)
' "$work/mono" | tr '\n' ' ')
group sure "index(\" $sure \", \" \" \$1 \" \") > 0"
