#!/usr/bin/env bash
# Rebuild the default model from scratch: corpus -> tokenizer -> model -> evaluation -> export ->
# checks against tokenizers.js and onnxruntime-node -> model card.
#
#   bash tools/train/train.sh                     full run (100 minutes of training on 2 CPU cores: the shipped model's settings)
#   bash tools/train/train.sh --steps 20 --tiny   smoke test (well under two minutes)
#
# Options: --steps N (training steps, default 40000 for full runs so the time budget ends them, 2400 with --tiny),
#          --tiny (small corpus and model, own work folder),
#          --previous-token-aid W (default 1 for full runs, 0 with --tiny; 0 = off; W > 0: for the first 35 % of
#          training an extra loss term of weight W, fading to 0, rewards layer 0 head 1 for attending to the
#          previous token; see train.py),
#          --max-minutes M (training time budget, default 100 for full runs, 0 = none; the learning-rate
#          schedule ends at whichever limit comes first),
#          --work DIR (work folder; default tools/train/work, or tools/train/work/tiny with --tiny),
#          --python venv|system|PATH (which Python runs the stages; default: see below),
#          --repeat-fraction F (share of training windows with a passage repeated, for induction heads; default 0.3),
#          --threads N (PyTorch threads for training, default 2),
#          --lr LR (peak learning rate, default 3e-3),
#          --transplant-from DIR (start from a trained model folder with another tokenizer instead of from scratch:
#          transplant.py copies its blocks and the embedding rows of shared tokens, new tokens start as the mean of
#          their old pieces; DIR needs config.json, model.safetensors, tokenizer.json and training_record.json).
#          The shipped model: stage 1 is the 16,384-entry model of commit d138283 trained from scratch (100 minutes),
#          stage 2 `--transplant-from <that folder> --max-minutes 30 --lr 0.001 --previous-token-aid 0`.
# Python: PYTHON=... or --python PATH wins. Otherwise full runs use the virtual environment tools/train/work/venv
# (PyTorch 2.x, created on first use with `python3 -m venv` + `pip install -r requirements.txt` from pip's configured
# index) and fall back to Debian's /usr/bin/python3 (python3-torch) when it cannot be made; smoke runs (--tiny) use
# that venv if it already exists, else Debian's python3 if it has the packages, else they create the venv.
# The model folder ends up in <work>/out/default/. Exit status 3: PyTorch or friends are missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-}"
steps=""
repeat_fraction="0.3"
tiny=""
work=""
max_minutes=""
aid=""
threads=""
lr=""
transplant_from=""
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps="${2:?--steps needs a number}"; shift 2 ;;
    --steps=*) steps="${1#--steps=}"; shift ;;
    --tiny) tiny="--tiny"; shift ;;
    --previous-token-aid) aid="${2:?--previous-token-aid needs a number}"; shift 2 ;;
    --max-minutes) max_minutes="${2:?--max-minutes needs a number}"; shift 2 ;;
    --threads) threads="${2:?--threads needs a number}"; shift 2 ;;
    --lr) lr="${2:?--lr needs a number}"; shift 2 ;;
    --transplant-from) transplant_from="${2:?--transplant-from needs a model folder}"; shift 2 ;;
    --work) work="${2:?--work needs a folder}"; shift 2 ;;
    --python) python="${2:?--python needs venv, system or a path}"; shift 2 ;;
    --repeat-fraction) repeat_fraction="${2:?--repeat-fraction needs a number}"; shift 2 ;;
    -h|--help) sed -n '2,26p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "train.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
if [ -n "$steps" ] && ! [[ "$steps" =~ ^[1-9][0-9]*$ ]]; then
  echo "train.sh: --steps must be a positive integer, got '$steps'" >&2; exit 2
fi
if [ -z "$aid" ]; then
  aid=1
  [ -n "$tiny" ] && aid=0
fi
if [ -z "$steps" ] && [ -z "$tiny" ]; then steps=40000; fi
if ! [[ "$aid" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  echo "train.sh: --previous-token-aid must be a number, got '$aid'" >&2; exit 2
fi
if [ -n "$max_minutes" ] && ! [[ "$max_minutes" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  echo "train.sh: --max-minutes must be a number, got '$max_minutes'" >&2; exit 2
fi
if [ -z "$max_minutes" ]; then
  max_minutes=100
  [ -n "$tiny" ] && max_minutes=0
fi
if [ -z "$work" ]; then
  work="$here/work"
  [ -n "$tiny" ] && work="$here/work/tiny"
fi
export ATTN_TRAIN_WORK="$work"

venv="$here/work/venv"
has_packages() { "$1" -c 'import torch, onnx, numpy, regex' 2>/dev/null; }
make_venv() {
  # PyTorch 2.x and friends in a virtual environment; pip uses its configured index (offline: a local one).
  has_packages "$venv/bin/python" && return 0
  echo "train.sh: creating $venv (pip install -r requirements.txt)" >&2
  { /usr/bin/python3 -m venv "$venv" &&
    "$venv/bin/pip" install --retries 1 --timeout 20 -r "$here/requirements.txt" >"$here/work/venv-install.log" 2>&1 &&
    has_packages "$venv/bin/python"; } || { echo "train.sh: could not make $venv (see work/venv-install.log)" >&2; return 1; }
}
mkdir -p "$here/work"
case "$python" in
  venv) make_venv || exit 3; python="$venv/bin/python" ;;
  system) python=/usr/bin/python3 ;;
  "")
    if has_packages "$venv/bin/python"; then python="$venv/bin/python"
    elif [ -n "$tiny" ] && has_packages /usr/bin/python3; then python=/usr/bin/python3
    elif make_venv; then python="$venv/bin/python"
    else python=/usr/bin/python3
    fi ;;
esac
if ! has_packages "$python"; then
  echo "train.sh: $python lacks PyTorch, onnx, numpy or regex." >&2
  echo "  Either let train.sh make tools/train/work/venv (python3-venv and a pip index with torch), or on Debian:" >&2
  echo "  apt-get install python3-torch python3-onnx python3-numpy python3-regex python3-doc libopenblas0-pthread" >&2
  exit 3
fi
echo "train.sh: using $python ($("$python" -c 'import torch; print("PyTorch", torch.__version__)'))" >&2
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
if [ -n "$tiny" ]; then
  stage tokenizer "$python" bpe.py train --vocab-size 1024 --max-length 512
else
  # Trained once at 24,576 entries (the most a 40 MB folder holds at d_model 128); the smallest candidate (a prefix of the
  # merges) that meets the targets is kept. Measured: up to 20,480 entries the fluffy-creature sentence stays at 14 tokens
  # (its rare words need the extra merges); 22,528 is the first size that meets every target.
  stage tokenizer "$python" bpe.py train --vocab-size 24576 --choose 8192,12288,16384,18432,20480,22528,24576 --max-length 512
fi
stage encode "$python" bpe.py encode
if [ -n "$transplant_from" ]; then
  stage transplant "$python" transplant.py --from "$transplant_from" --record-json "$transplant_from/training_record.json"
fi
stage train "$python" train.py ${steps:+--steps "$steps"} ${threads:+--threads "$threads"} ${lr:+--lr "$lr"} \
  ${transplant_from:+--resume-from "$work/ckpt/transplant.pt"} --max-minutes "$max_minutes" --previous-token-aid "$aid" --aid-fraction 0.35 \
  --repeat-fraction "$repeat_fraction" $tiny
stage evaluate "$python" evaluate.py $([ -n "$tiny" ] && echo "--max-tokens 5000")
stage export "$python" export.py --out "$out"
stage verify-tokenizer bash -c "'$python' bpe.py cases && node verify_tokenizer.cjs '$out' '$work/verify/tokenizer_cases.json' | tee '$work/verify/tokenizer_check.json'"
stage verify-onnx bash -c "node verify_onnx.cjs '$out/model.onnx' '$work/verify' | tee '$work/verify/onnx_check.json'"
"$python" card.py --out "$out"
echo "train.sh: model folder ready in $out" >&2
ls -l "$out" >&2
