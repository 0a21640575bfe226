#!/usr/bin/env python3
"""Writes the bundled `worked-example` model folder: the study notes' self-attention example as a model.

    d_model = 1, tokens 我 = [1], 爱 = [2], 你 = [3]; one layer, one head, bidirectional.
    W_Q = 0, W_K = 1, W_V = 1, W_O = 1 (no biases), no LayerNorm, an MLP whose weights are 0.
    A relative position bias adds ln 3 to each token's score for its own position, 0 elsewhere, so
    for three tokens softmax gives exactly [0.6, 0.2, 0.2] / [0.2, 0.6, 0.2] / [0.2, 0.2, 0.6], and
    the head's outputs are Σ_j w_j · v_j = 1.6 / 2.0 / 2.4.

Why the bias and not W_Q, W_K: with one number per token, q_i · k_j = w_q · w_k · x_i · x_j ranks the
keys by x_j in the same order for every query (or not at all), so no choice of W_Q, W_K makes each
token prefer itself. The rows of the example need a term that depends on position, which is what
the relative bias is; MODEL_CARD.md says so.

Standard library only (json, struct, math): the output is byte-for-byte reproducible and a unit
test regenerates it and compares it with media/models/worked-example.

Usage: python3 tools/worked_example/make_worked_example.py [OUT_DIR]   (default media/models/worked-example)
"""
import json
import math
import os
import struct
import sys

POSITIONS = 8
VOCAB = ["[UNK]", "我", "爱", "你"]
INPUTS = [0.0, 1.0, 2.0, 3.0]  # d_model = 1: the one number each token stands for ([UNK] = 0)


def tensors():
    """Hugging Face GPT-2 names (Conv1D [in, out] layout), float32, in file order."""
    bias = [0.0] * (2 * POSITIONS - 1)
    bias[POSITIONS - 1] = math.log(3.0)  # offset s - t = 0: a token's own position
    return [
        ("wte.weight", [len(VOCAB), 1], INPUTS),
        ("wpe.weight", [POSITIONS, 1], [0.0] * POSITIONS),  # positions live in the relative bias
        ("h.0.attn.c_attn.weight", [1, 3], [0.0, 1.0, 1.0]),  # W_Q | W_K | W_V
        ("h.0.attn.c_attn.bias", [3], [0.0, 0.0, 0.0]),
        ("h.0.attn.relative_position_bias", [1, 2 * POSITIONS - 1], bias),
        ("h.0.attn.c_proj.weight", [1, 1], [1.0]),  # W_O
        ("h.0.attn.c_proj.bias", [1], [0.0]),
        ("h.0.mlp.c_fc.weight", [1, 1], [0.0]),
        ("h.0.mlp.c_fc.bias", [1], [0.0]),
        ("h.0.mlp.c_proj.weight", [1, 1], [0.0]),
        ("h.0.mlp.c_proj.bias", [1], [0.0]),
    ]


def safetensors_bytes(items):
    header = {}
    data = b""
    for name, shape, values in items:
        raw = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


CONFIG = {
    "model_type": "gpt2",
    "architectures": ["GPT2LMHeadModel"],
    "n_layer": 1,
    "n_head": 1,
    "n_embd": 1,
    "n_inner": 1,
    "n_positions": POSITIONS,
    "vocab_size": len(VOCAB),
    "activation_function": "gelu_new",
    "tie_word_embeddings": True,
    "causal": False,
    "layer_norm": False,
    "attention_inspector_note": "causal, layer_norm and h.0.attn.relative_position_bias are Attention Inspector extensions; see MODEL_CARD.md",
}

TOKENIZER = {
    "version": "1.0",
    "truncation": None,
    "padding": None,
    "added_tokens": [
        {"id": 0, "content": "[UNK]", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
    ],
    "normalizer": None,
    # Whitespace separates nothing but is dropped; every other character is its own token.
    "pre_tokenizer": {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "WhitespaceSplit"},
            {"type": "Split", "pattern": {"Regex": "."}, "behavior": "Isolated", "invert": False},
        ],
    },
    "post_processor": None,
    "decoder": {"type": "Fuse"},
    "model": {
        "type": "WordPiece",
        "unk_token": "[UNK]",
        "continuing_subword_prefix": "##",
        "max_input_chars_per_word": 100,
        "vocab": {token: index for index, token in enumerate(VOCAB)},
    },
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "media", "models", "worked-example")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "model.safetensors"), "wb") as f:
        f.write(safetensors_bytes(tensors()))
    with open(os.path.join(out, "config.json"), "w", encoding="utf-8") as f:
        json.dump(CONFIG, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(TOKENIZER, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
