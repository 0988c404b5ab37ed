#!/usr/bin/env bash
# Measures the streaming inputs (bench/RESULTS.md, issue 14 section 3): training on raw JSONL prepared on the fly into a
# temporary store against training on a store prepared beforehand (peak RSS, seconds from launch to the first step), and
# `prepare` of a JSON-array file and of a StackExchange-shaped Posts.xml (pairs/s, peak RSS). The data is made by
# scripts/make_large_pairs.py under a scratch folder (kept in DIR when given and reused on the next run), then deleted.
#   scripts/bench_streaming_inputs.sh [JSONL_BYTES] [ARRAY_BYTES] [XML_BYTES] [DIR]
set -euo pipefail
JSONL_BYTES=${1:-5e8}
ARRAY_BYTES=${2:-2e8}
XML_BYTES=${3:-3e8}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORLDPM=${WORLDPM:-$ROOT/src/WorldPM.Cli/bin/Release/net10.0/worldpm}
if [ -n "${4:-}" ]; then SCRATCH=$4; mkdir -p "$SCRATCH"; else
    SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/worldpm-stream-bench-XXXXXX"); trap 'rm -rf "$SCRATCH"' EXIT; fi

peak_rss() { grep "Maximum resident" "$1" | awk '{printf "%.0f MB", $6 / 1024}'; }
times() { grep -E 'User time|Elapsed' "$1" | tr -s ' \t' ' ' | paste -sd';'; }
make() { [ -s "$2" ] || python3 "$ROOT/scripts/make_large_pairs.py" --out "$2" --bytes "$1" --shape "$3" > /dev/null; }

echo "host: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u '+%F %H:%M') UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"
make "$JSONL_BYTES" "$SCRATCH/pairs.jsonl" jsonl
make "$ARRAY_BYTES" "$SCRATCH/pairs.json" json-array
mkdir -p "$SCRATCH/site"
make "$XML_BYTES" "$SCRATCH/site/Posts.xml" posts-xml

# Seconds from launch until the metrics file has its first step line, with peak RSS, for `train DATA`.
first_step() {
    python3 - "$WORLDPM" "$1" "$SCRATCH/$2" <<'PY'
import os, shutil, subprocess, sys, time
worldpm, data, run = sys.argv[1:4]
shutil.rmtree(run, ignore_errors=True)
metrics = run + ".metrics.jsonl"
if os.path.exists(metrics): os.remove(metrics)
start = time.monotonic()
process = subprocess.Popen(["/usr/bin/time", "-v", "-o", run + ".time", worldpm, "train", data, "--out", run, "--steps", "2",
                            "--batch", "8", "--max-length", "512", "--metrics", metrics, "--quiet"])
first = None
while first is None and process.poll() is None:
    if os.path.exists(metrics) and '"step"' in open(metrics).read():
        first = time.monotonic() - start
    time.sleep(0.05)
code = process.wait()
print(f"train {os.path.basename(data)}: first step {first if first is None else round(first, 1)} s after launch, exit {code}")
PY
    echo "train $(basename "$1"): peak RSS $(peak_rss "$SCRATCH/$2.time"), $(times "$SCRATCH/$2.time")"
}

first_step "$SCRATCH/pairs.jsonl" raw-run
/usr/bin/time -v "$WORLDPM" prepare "$SCRATCH/pairs.jsonl" --out "$SCRATCH/pairs.store" --max-length 512 --json \
    > "$SCRATCH/jsonl.json" 2> "$SCRATCH/jsonl.time"
echo "prepare JSONL: $(cat "$SCRATCH/jsonl.json")"
echo "prepare JSONL: peak RSS $(peak_rss "$SCRATCH/jsonl.time"), $(times "$SCRATCH/jsonl.time")"
first_step "$SCRATCH/pairs.store" store-run
rm -f "$SCRATCH/pairs.store"

for input in pairs.json site/Posts.xml; do
    /usr/bin/time -v "$WORLDPM" prepare "$SCRATCH/$input" --out "$SCRATCH/input.store" --max-length 512 --json \
        > "$SCRATCH/input.json" 2> "$SCRATCH/input.time"
    echo "prepare $input ($(stat -c %s "$SCRATCH/$input") bytes): $(cat "$SCRATCH/input.json")"
    echo "prepare $input: peak RSS $(peak_rss "$SCRATCH/input.time"), $(times "$SCRATCH/input.time")"
    rm -f "$SCRATCH/input.store"
done
