#!/usr/bin/env bash
# Rebuild the default model from scratch: corpus -> tokenizer -> model -> evaluation -> export ->
# checks against tokenizers.js and onnxruntime-node -> model card.
#
#   bash tools/train/train.sh                     full run (at most an hour of training on 2 CPU cores)
#   bash tools/train/train.sh --steps 20 --tiny   smoke test (well under two minutes)
#
# Options: --steps N (training steps, default 2400), --tiny (small corpus and model, own work folder),
#          --previous-token-aid W (default 3; 0 = off: for the first 35 % of training an extra loss term of
#          weight W, fading to 0, rewards layer 0 head 1 for attending to the previous token; see train.py),
#          --max-minutes M (training time budget, default 60 for full runs, 0 = none; the learning-rate
#          schedule ends at whichever limit comes first),
#          --work DIR (work folder; default tools/train/work, or tools/train/work/tiny with --tiny).
# The model folder ends up in <work>/out/default/. Exit status 3: PyTorch or friends are missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-/usr/bin/python3}"
steps=""
tiny=""
work=""
max_minutes=""
aid="3"
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps="${2:?--steps needs a number}"; shift 2 ;;
    --steps=*) steps="${1#--steps=}"; shift ;;
    --tiny) tiny="--tiny"; shift ;;
    --previous-token-aid) aid="${2:?--previous-token-aid needs a number}"; shift 2 ;;
    --max-minutes) max_minutes="${2:?--max-minutes needs a number}"; shift 2 ;;
    --work) work="${2:?--work needs a folder}"; shift 2 ;;
    -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "train.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
if [ -n "$steps" ] && ! [[ "$steps" =~ ^[1-9][0-9]*$ ]]; then
  echo "train.sh: --steps must be a positive integer, got '$steps'" >&2; exit 2
fi
if ! [[ "$aid" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  echo "train.sh: --previous-token-aid must be a number, got '$aid'" >&2; exit 2
fi
if [ -n "$max_minutes" ] && ! [[ "$max_minutes" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  echo "train.sh: --max-minutes must be a number, got '$max_minutes'" >&2; exit 2
fi
if [ -z "$max_minutes" ]; then
  max_minutes=60
  [ -n "$tiny" ] && max_minutes=0
fi
if [ -z "$work" ]; then
  work="$here/work"
  [ -n "$tiny" ] && work="$here/work/tiny"
fi
export ATTN_TRAIN_WORK="$work"

if ! "$python" -c 'import torch, onnx, numpy, regex' 2>/dev/null; then
  echo "train.sh: $python lacks PyTorch, onnx, numpy or regex." >&2
  echo "  On Debian: apt-get install python3-torch python3-onnx python3-numpy python3-regex python3-doc libopenblas0-pthread" >&2
  exit 3
fi
if ! command -v node >/dev/null; then
  echo "train.sh: node is needed for the tokenizer and ONNX checks" >&2; exit 3
fi

mkdir -p "$work"
out="$work/out/default"
timings="$work/timings.json"
echo "{}" > "$timings"
stage() {
  local name="$1"; shift
  local started; started=$(date +%s.%N)
  echo "== $name: $*" >&2
  "$@"
  "$python" - "$timings" "$name" "$started" <<'EOF'
import json, sys, time
path, name, started = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(path) as f:
    timings = json.load(f)
timings[name] = round(time.time() - started, 1)
with open(path, "w") as f:
    json.dump(timings, f, indent=2)
EOF
}

cd "$here"
rm -rf "$out"
stage corpus "$python" corpus.py $tiny
stage tokenizer "$python" bpe.py train --vocab-size 4096 --max-length 512
stage encode "$python" bpe.py encode
stage train "$python" train.py ${steps:+--steps "$steps"} --max-minutes "$max_minutes" --previous-token-aid "$aid" --aid-fraction 0.35 $tiny
stage evaluate "$python" evaluate.py $([ -n "$tiny" ] && echo "--max-tokens 5000")
stage export "$python" export.py --out "$out"
stage verify-tokenizer bash -c "'$python' bpe.py cases && node verify_tokenizer.cjs '$out' '$work/verify/tokenizer_cases.json' | tee '$work/verify/tokenizer_check.json'"
stage verify-onnx bash -c "node verify_onnx.cjs '$out/model.onnx' '$work/verify' | tee '$work/verify/onnx_check.json'"
"$python" card.py --out "$out"
echo "train.sh: model folder ready in $out" >&2
ls -l "$out" >&2
