#!/usr/bin/env bash
# html-perf.sh: size and load time of the HTML page of a real 60-minute call.
#
# Builds a 60-minute stereo call by repeating samples/demo-call.wav 103 times
# (sox), analyses it with the release binary (--format json,html), and opens
# the page in headless Chromium three times. Prints the page size and the
# time from navigation start until the page script has drawn everything and
# the page is laid out (the page writes it into <html data-render-ms>), best
# of three, plus the wall time of the whole Chromium process (browser
# start-up included).
#
# Limits from issue #6: under 2 MB, under 2 s.
#
#   scripts/html-perf.sh [work-dir]     (default: target/html-perf)
#
# Needs: sox, chromium (or HEARKEN_CHROMIUM=/path/to/chrome), cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-target/html-perf}
CHROME=${HEARKEN_CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
[[ -n "$CHROME" ]] || { echo "html-perf: chromium not found (apt-get install chromium)" >&2; exit 1; }
command -v sox >/dev/null || { echo "html-perf: sox not found" >&2; exit 1; }
mkdir -p "$WORK"

if [[ ! -f "$WORK/long-call.wav" ]]; then
    inputs=()
    for _ in $(seq 103); do inputs+=(samples/demo-call.wav); done
    sox "${inputs[@]}" "$WORK/long-call.wav"
fi
cargo build --release --quiet --no-default-features
./target/release/hearken analyze "$WORK/long-call.wav" --out "$WORK/out" --format json,html --quiet

page="$WORK/out/long-call.html"
url="file://$(realpath "$page")"
bytes=$(stat -c %s "$page")
best=""
wall_best=""
for _ in 1 2 3; do
    profile=$(mktemp -d)
    t0=$(date +%s.%N)
    dom=$("$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --dump-dom "$url" 2>/dev/null)
    t1=$(date +%s.%N)
    rm -rf "$profile"
    tag=$(grep -o '<html[^>]*>' <<<"$dom" | head -1)
    if grep -q 'data-errors' <<<"$tag"; then
        echo "html-perf: the page reported errors: $tag" >&2
        exit 1
    fi
    ms=$(sed -n 's/.*data-render-ms="\([0-9.]*\)".*/\1/p' <<<"$tag")
    [[ -n "$ms" ]] || { echo "html-perf: the page did not finish drawing: $tag" >&2; exit 1; }
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    best=$(awk -v a="$ms" -v b="${best:-1e9}" 'BEGIN { print (a < b ? a : b) }')
    wall_best=$(awk -v a="$wall" -v b="${wall_best:-1e9}" 'BEGIN { print (a < b ? a : b) }')
done
duration=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['input']['duration_s'])" "$WORK/out/long-call.json")
printf 'call %.0f s; page %s: %d bytes (%d kB); drawn and laid out %s ms after navigation start (best of 3); chromium process %.2f s\n' \
    "$duration" "$page" "$bytes" "$((bytes / 1000))" "$best" "$wall_best"
ok=1
(( bytes < 2000000 )) || { echo "html-perf: page over 2 MB" >&2; ok=0; }
awk -v ms="$best" 'BEGIN { exit !(ms < 2000) }' || { echo "html-perf: page took over 2 s to draw" >&2; ok=0; }
((ok))
