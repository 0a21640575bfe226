"""Start a model for a new tokenizer from a trained model folder with another tokenizer (vocabulary transplant).

Every tensor but the token embedding is copied as is (same width, layers, heads and positions). A token the
two vocabularies share keeps its trained embedding row; a new token starts as the mean of the rows of the
pieces the old tokenizer cuts it into (its byte-level string merged by the old merge list). The LM head is
tied to the embedding, so new tokens are also predicted through that mean. Training then continues from this
checkpoint (train.py --resume-from): the attention circuits the old model learned (previous-token and
induction heads) are token-agnostic and carry over, while the new rows and the rest adapt.

Why: the bilingual tokenizer gained entries (16,384 -> 22,528) to meet the English target, and a from-scratch
run on a CPU shared with other work did not reach the old model's quality in the time there was.

Usage: python transplant.py --from media/models/default --record-json OLD_RECORD.json
Writes tools/train/work/ckpt/transplant.pt, the checkpoint train.py --resume-from reads; its record holds the
old model's training record (as its model card states it) and the transplant statistics.
"""
import argparse
import heapq
import json
import os

import torch

from common import log, read_json, work_path
from export import from_hf_tensors
from model import GPT2, GPT2Settings
from safetensors_io import read_safetensors


def merge_symbols(symbols, ranks):
    """BPE over a list of byte-level symbols with a merge list (lowest rank first, leftmost among equals)."""
    word = list(symbols)
    while len(word) > 1:
        best = min(((ranks.get((word[i], word[i + 1]), None), i) for i in range(len(word) - 1)),
                   key=lambda item: (item[0] is None, item[0] if item[0] is not None else 0, item[1]))
        if best[0] is None:
            break
        i = best[1]
        word[i:i + 2] = [word[i] + word[i + 1]]
    return word


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="source", required=True, help="trained model folder (config.json, model.safetensors, tokenizer.json)")
    parser.add_argument("--record-json", required=True, help="the old model's training record (JSON), kept as the first stage in the card")
    args = parser.parse_args()

    old_config = read_json(os.path.join(args.source, "config.json"))
    old_spec = read_json(os.path.join(args.source, "tokenizer.json"))["model"]
    new_spec = read_json(work_path("tokenizer", "tokenizer.json"))["model"]
    old_vocab, new_vocab = old_spec["vocab"], new_spec["vocab"]
    old_ranks = {tuple(m.split(" ")): i for i, m in enumerate(old_spec["merges"])}

    shape = dict(n_positions=old_config["n_positions"], n_embd=old_config["n_embd"], n_layer=old_config["n_layer"], n_head=old_config["n_head"])
    old_model = GPT2(GPT2Settings(vocab_size=len(old_vocab), **shape))
    from_hf_tensors(read_safetensors(os.path.join(args.source, "model.safetensors")), old_model)
    settings = GPT2Settings(vocab_size=len(new_vocab), **shape)
    model = GPT2(settings)

    old_state, state = old_model.state_dict(), model.state_dict()
    for name in state:
        if name != "wte.weight":
            state[name] = old_state[name].clone()
    old_wte = old_state["wte.weight"]  # [V_old, D]
    wte = torch.empty(len(new_vocab), settings.n_embd)  # [V_new, D]
    kept = averaged = 0
    for token, new_id in new_vocab.items():
        if token in old_vocab:
            wte[new_id] = old_wte[old_vocab[token]]
            kept += 1
        else:
            pieces = merge_symbols(list(token), old_ranks)
            wte[new_id] = old_wte[[old_vocab[p] for p in pieces]].mean(dim=0)
            averaged += 1
    state["wte.weight"] = wte
    model.load_state_dict(state)
    log(f"transplant: {kept} of {len(new_vocab)} tokens keep their trained row, {averaged} start as the mean of their old pieces")

    old_record = read_json(args.record_json)
    old_record["transplant"] = {"from": os.path.relpath(args.source), "old_vocab_size": len(old_vocab),
                                "new_vocab_size": len(new_vocab), "rows_kept": kept, "rows_averaged": averaged}
    path = work_path("ckpt", "transplant.pt")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save({"settings": settings.to_dict(), "state_dict": model.state_dict(), "record": old_record}, path)
    log(f"transplant: wrote {path}")


if __name__ == "__main__":
    main()
