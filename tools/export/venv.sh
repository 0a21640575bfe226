#!/usr/bin/env bash
# Creates (once) the virtual environment the export guide's real-transformers tests run in:
#   tools/export/.venv   (gitignored)  with torch, transformers, onnx, onnxruntime, onnxscript
# from whatever index pip is configured to use (`pip config list`; on the build machine a local,
# offline one). Prints the venv's python on its last line. Safe to run again: a venv whose packages
# import is reused; a half-made one is rebuilt.
#
#   tools/export/venv.sh            make or reuse it
#   PYTHON=/usr/bin/python3 tools/export/venv.sh    base interpreter (default /usr/bin/python3, else python3)
#
# Debian needs python3-venv for `python3 -m venv` (apt-get install -y python3-venv).
# Exit status: 0 ready, 3 the venv could not be made or its packages not installed (the message says which).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
venv="${EXPORT_VENV:-$here/.venv}"
packages=(torch transformers onnx onnxruntime onnxscript)
probe="import torch, transformers, onnx, onnxruntime, onnxscript"

if [ -x "$venv/bin/python" ] && [ -f "$venv/.ready" ] && "$venv/bin/python" -c "$probe" 2>/dev/null; then
  echo "$venv/bin/python"
  exit 0
fi

base="${PYTHON:-}"
if [ -z "$base" ]; then
  if [ -x /usr/bin/python3 ]; then base=/usr/bin/python3; else base=python3; fi
fi

rm -rf "$venv"
if ! "$base" -m venv "$venv" >&2; then
  echo "venv.sh: '$base -m venv' failed; on Debian: apt-get install -y python3-venv" >&2
  rm -rf "$venv"
  exit 3
fi
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --retries "${PIP_RETRIES:-1}" --timeout "${PIP_TIMEOUT:-20}" "${packages[@]}" >&2; then
  echo "venv.sh: pip could not install ${packages[*]} into $venv (pip config list shows the index it used)" >&2
  exit 3
fi
"$venv/bin/python" -c "$probe" >&2 || { echo "venv.sh: the installed packages do not import" >&2; exit 3; }
touch "$venv/.ready"
echo "$venv/bin/python"
