#!/usr/bin/env bash
# Rebuilds the demo date model into media/models/dates and checks it with the extension's own code
# (tokenizers.js, graph surgery, onnxruntime-node). Run from anywhere; extra options go to train.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-/usr/bin/python3}"
WORK="${TMPDIR:-/tmp}/train_encdec"
mkdir -p "$WORK"
"$PYTHON" tools/train_encdec/train.py --work "$WORK" "$@"
npx esbuild tools/train_encdec/check_model.ts --bundle --platform=node --target=node20 --format=cjs \
  --external:onnxruntime-node --log-level=warning --outfile="$WORK/check_model.js"
NODE_PATH="$PWD/node_modules" node "$WORK/check_model.js" media/models/dates
