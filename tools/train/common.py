"""Paths and small helpers shared by the training pipeline scripts."""
import json
import os
import sys
import time

TRAIN_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(TRAIN_DIR))
WORK_DIR = os.environ.get("ATTN_TRAIN_WORK", os.path.join(TRAIN_DIR, "work"))

END_OF_TEXT = "<|endoftext|>"


def work_path(*parts):
    path = os.path.join(WORK_DIR, *parts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def write_json(path, obj, indent=2):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=indent, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


_T0 = time.time()


def log(msg):
    """Timestamped progress line on stderr, so stdout stays free for machine-readable output."""
    print(f"[{time.time() - _T0:7.1f}s] {msg}", file=sys.stderr, flush=True)
