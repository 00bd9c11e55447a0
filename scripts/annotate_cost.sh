#!/usr/bin/env bash
# What the annotations add to `hearken analyze --no-transcribe`: runs the
# batch with and without them, alternating, N times each, and prints the
# median wall and user times and the ratio. Usage:
#   scripts/annotate_cost.sh [DIR] [N] [-- extra analyze flags]
set -euo pipefail
dir=${1:-target/devset/stereo}
n=${2:-11}
shift $(( $# > 2 ? 2 : $# )) || true
[[ ${1:-} == -- ]] && shift
bin=${HEARKEN_BIN:-target/release/hearken}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() { /usr/bin/time -f "%e %U" "$bin" analyze --no-transcribe --quiet --out "$out" "$@" "$dir" 2>&1 >/dev/null | tail -1; }
run "$@" >/dev/null # warm the page cache
on=() off=()
for ((i = 0; i < n; i++)); do
    off+=("$(run --no-annotate "$@")")
    on+=("$(run "$@")")
done
python3 - "${#on[@]}" "${on[@]}" "${off[@]}" <<'PY'
import statistics, sys
n = int(sys.argv[1])
on = [tuple(map(float, s.split())) for s in sys.argv[2:2 + n]]
off = [tuple(map(float, s.split())) for s in sys.argv[2 + n:]]
for k, name in ((0, "wall"), (1, "user")):
    a = statistics.median(x[k] for x in on)
    b = statistics.median(x[k] for x in off)
    print(f"{name}: with annotations {a:.3f} s, without {b:.3f} s, +{100 * (a / b - 1):.1f}%")
PY
