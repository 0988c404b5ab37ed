#!/usr/bin/env bash
# The real-data check, by hand: trains a small reward model from scratch on hh-rlhf helpful-base with
# the byte tokenizer, holding out a fraction of the pairs, prints the held-out accuracy, BT loss and
# length-bias table that `worldpm train` reports at its end, then runs `worldpm eval` on the LLMBar
# folders and prints the per-subset table. The numbers say whether the pipeline learns from real,
# noisy human labels (reward models reach about 65-75 % on HH-RLHF; a tiny byte-level model trained
# for minutes gets much less) and how a model that never saw LLMBar does on its adversarial subsets.
#
#   scripts/check_real_data.sh [WORK_DIR]   results (run/, train.log, metrics.jsonl, llmbar.json) in WORK_DIR, default a temp dir
#
# Needs data that is NOT in the repository: the real data sets, in a folder holding hh-rlhf/helpful-base.test.jsonl.gz
# and llmbar/. By default that is ../shared/data, beside the checkout (where CI and the development machines keep it);
# elsewhere point DATA at a copy. Without it the script stops at once (exit 2) naming the missing path.
#
# Knobs (environment): STEPS (400), BATCH (16), MAX_LENGTH (256), LR (1e-3), EVAL_FRACTION (0.1), SEED (1),
# DATA (../shared/data from the repository root). The defaults take about a minute on 2 cores (44 s of training).
# The native library must be built (scripts/setup.sh, or the cmake commands in the README).
set -euo pipefail
cd "$(dirname "$0")/.."

steps=${STEPS:-400}
batch=${BATCH:-16}
max_length=${MAX_LENGTH:-256}
lr=${LR:-1e-3}
eval_fraction=${EVAL_FRACTION:-0.1}
seed=${SEED:-1}
data=${DATA:-../shared/data}
work=${1:-$(mktemp -d -t worldpm-real-data.XXXXXX)}

helpful=$data/hh-rlhf/helpful-base.test.jsonl.gz
llmbar=$data/llmbar
for path in "$helpful" "$llmbar"; do
  [[ -e $path ]] || { echo "check_real_data.sh: $path does not exist (set DATA to the shared data folder)" >&2; exit 2; }
done
if [[ -e $work/run ]]; then
  echo "check_real_data.sh: $work/run already exists; give another WORK_DIR" >&2
  exit 2
fi
mkdir -p "$work"

dotnet build src/WorldPM.Cli -c Release -v quiet -nologo >/dev/null
worldpm() { dotnet src/WorldPM.Cli/bin/Release/net10.0/worldpm.dll "$@"; }

echo "== train on $helpful ($steps steps of $batch pairs, max length $max_length, lr $lr, held out $eval_fraction, seed $seed)"
start=$SECONDS
worldpm train "$helpful" --out "$work/run" --tokenizer byte --max-length "$max_length" \
  --steps "$steps" --batch "$batch" --lr "$lr" --seed "$seed" --eval-fraction "$eval_fraction" \
  --metrics "$work/metrics.jsonl" --log-every 50 | tee "$work/train.log"
echo "(train: $((SECONDS - start)) s)"

echo
echo "== held-out hh-rlhf helpful-base (the evaluation at the last step above)"
# The table of the last evaluation in the train output, printed again on its own.
awk '/^evaluation at step/ { table = ""; on = 1 } /^checkpoint \(step/ { on = 0 } on { table = table $0 "\n" } END { printf "%s", table }' \
  "$work/train.log"

echo
echo "== LLMBar (never trained on)"
start=$SECONDS
worldpm eval "$work/run" "$llmbar" --max-length "$max_length"
worldpm eval "$work/run" "$llmbar" --max-length "$max_length" --json > "$work/llmbar.json"
echo "(eval: $((SECONDS - start)) s; results in $work)"
