#!/usr/bin/env bash
# Measures `worldpm prepare` and training on a token store with data larger than memory (bench/RESULTS.md, issue 14
# section 3): writes a synthetic JSONL of BYTES bytes under a scratch folder, prepares it with the byte tokenizer (and a
# PAIRS_BPE-pair slice with the BPE tokenizer.json given as BPE, if any), trains two steps on the store, and prints
# peak RSS, throughput and the time from launch to the first training step. Deletes the scratch folder at the end.
#   scripts/bench_token_store.sh [BYTES] [BPE_TOKENIZER_JSON]
set -euo pipefail
BYTES=${1:-2e9}
BPE=${2:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORLDPM=${WORLDPM:-$ROOT/src/WorldPM.Cli/bin/Release/net10.0/worldpm}
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/worldpm-store-bench-XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

peak_rss() { grep "Maximum resident" "$1" | awk '{printf "%.0f MB", $6 / 1024}'; }

echo "host: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u +%F)"
python3 "$ROOT/scripts/make_large_pairs.py" --out "$SCRATCH/pairs.jsonl" --bytes "$BYTES" > "$SCRATCH/count"
echo "data: $(cat "$SCRATCH/count") pairs, $(stat -c %s "$SCRATCH/pairs.jsonl") bytes"

/usr/bin/time -v "$WORLDPM" prepare "$SCRATCH/pairs.jsonl" --out "$SCRATCH/pairs.store" --json > "$SCRATCH/prepare.json" 2> "$SCRATCH/prepare.time"
echo "prepare (byte): $(cat "$SCRATCH/prepare.json")"
echo "prepare (byte): peak RSS $(peak_rss "$SCRATCH/prepare.time"), $(grep -E 'User time|Elapsed' "$SCRATCH/prepare.time" | tr -s ' \t' ' ' | paste -sd';')"

if [ -n "$BPE" ]; then
    head -n "${PAIRS_BPE:-60000}" "$SCRATCH/pairs.jsonl" > "$SCRATCH/slice.jsonl"
    /usr/bin/time -v "$WORLDPM" prepare "$SCRATCH/slice.jsonl" --out "$SCRATCH/slice.store" --tokenizer "$BPE" --json \
        > "$SCRATCH/bpe.json" 2> "$SCRATCH/bpe.time"
    echo "prepare (bpe): $(cat "$SCRATCH/bpe.json")"
    echo "prepare (bpe): peak RSS $(peak_rss "$SCRATCH/bpe.time"), $(grep -E 'User time|Elapsed' "$SCRATCH/bpe.time" | tr -s ' \t' ' ' | paste -sd';')"
    rm -f "$SCRATCH/slice.store"
fi
rm -f "$SCRATCH/pairs.jsonl"

# Time to the first step: from launch until the metrics file has its first step line.
python3 - "$WORLDPM" "$SCRATCH" <<'PY'
import subprocess, sys, time, os
worldpm, scratch = sys.argv[1], sys.argv[2]
metrics = os.path.join(scratch, "metrics.jsonl")
start = time.monotonic()
process = subprocess.Popen(["/usr/bin/time", "-v", "-o", os.path.join(scratch, "train.time"), worldpm, "train",
                            os.path.join(scratch, "pairs.store"), "--out", os.path.join(scratch, "run"), "--steps", "2",
                            "--batch", "8", "--metrics", metrics, "--quiet"])
first = None
while process.poll() is None or first is None:
    if first is None and os.path.exists(metrics) and '"step"' in open(metrics).read():
        first = time.monotonic() - start
    if process.poll() is not None and first is None:
        break
    time.sleep(0.05)
print(f"train on the store: first step {first:.1f} s after launch, exit {process.wait()}")
PY
echo "train on the store: peak RSS $(peak_rss "$SCRATCH/train.time")"
