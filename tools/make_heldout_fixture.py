"""Writes test/fixtures/heldout.json: excerpts of the training pipeline's VALIDATION split (files the
model never trained on), for the backend parity test, the benchmark and head statistics.

Usage: python3 tools/make_heldout_fixture.py [tools/train/work/corpus/docs.jsonl]
"""
import json
import sys

DOCS = sys.argv[1] if len(sys.argv) > 1 else "tools/train/work/corpus/docs.jsonl"
PER_KIND = 3
CHARS = 6000

picked = {"code": [], "prose": []}
with open(DOCS, encoding="utf-8") as handle:
    docs = [json.loads(line) for line in handle]
for doc in sorted(docs, key=lambda d: (d["source"], d["path"])):
    bucket = picked.get(doc["kind"])
    if doc["split"] != "val" or bucket is None or len(bucket) >= PER_KIND or len(doc["text"]) < CHARS:
        continue
    # Skip a file's licence header: start at the first blank line after 1000 characters.
    start = doc["text"].find("\n\n", 1000) + 2 if len(doc["text"]) > CHARS + 2000 else 0
    bucket.append({"kind": doc["kind"], "source": doc["source"], "path": doc["path"], "text": doc["text"][start:start + CHARS]})

samples = picked["code"] + picked["prose"]
with open("test/fixtures/heldout.json", "w", encoding="utf-8") as out:
    json.dump({"note": "Excerpts of validation-split files of the default model's corpus (see media/models/default/MODEL_CARD.md for sources and licences).", "samples": samples}, out, ensure_ascii=False, indent=1)
print("wrote", len(samples), "samples:", [(s["source"], s["path"]) for s in samples])
