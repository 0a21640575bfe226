"""Exports tiny hand-written models with export_core.py: the exporter's torch-only half, tested
without transformers and without a download.

The models follow transformers' calling convention (keyword inputs, output_attentions, a dict with
logits and attentions), so they go through exactly the wrapping and export path that
hf_to_model_folder.py uses for real checkpoints:

  gpt2-explicit    GPT-2 decoder from tools/train/model.py, `attentions` output [L, B, H, T, T]
  gpt2-surgery     the same weights, logits only (the extension finds attention by graph surgery)
  encoder-surgery  bidirectional BERT-like encoder with an LM head (flags via **kwargs), logits only
  seq2seq-explicit encoder-decoder, outputs encoder_/decoder_/cross_attentions.N
  seq2seq-surgery  the same weights, logits only

Each folder gets model.onnx, tokenizer.json (copied), config.json and reference.json: the token ids,
PyTorch's attention per group ([layer][H * T * S], batch 0) and the graph summary. Used by
test/unit/exportGuide.test.ts; also a quick check that a Python setup can export at all:

  python3 tools/export/selftest.py OUT_DIR --tokenizer media/models/default/tokenizer.json \\
      --ids 464,2068,318 --decoder-ids 4095,464
"""
import argparse
import json
import math
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "train"))

import export_core  # noqa: E402
from model import GPT2, GPT2Settings  # noqa: E402  (tools/train/model.py)

NEG = -1e4


class TinyGpt2LM(nn.Module):
    """tools/train/model.py's GPT-2 behind transformers' interface (all-ones masks need no handling)."""

    def __init__(self, vocab_size):
        super().__init__()
        self.gpt2 = GPT2(GPT2Settings(vocab_size=vocab_size, n_positions=64, n_embd=32, n_layer=2, n_head=2))

    def forward(self, input_ids, attention_mask=None, output_attentions=False, use_cache=None, return_dict=True):
        logits, stacked = self.gpt2(input_ids, return_attentions=True)
        return {"logits": logits, "attentions": tuple(stacked.unbind(0)) if output_attentions else None}


class Attention(nn.Module):
    """Eager multi-head attention: matmul -> (+mask) -> softmax -> matmul, as attn_implementation="eager"."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads, self.head_dim = heads, width // heads
        self.query, self.key, self.value, self.out = (nn.Linear(width, width) for _ in range(4))

    def split(self, x):
        B, T, _ = x.shape
        return x.view(B, T, self.heads, self.head_dim).transpose(1, 2)  # [B, T, D] -> [B, H, T, d_k]

    def forward(self, hidden, source, mask_add):
        q, k, v = self.split(self.query(hidden)), self.split(self.key(source)), self.split(self.value(source))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + mask_add  # [B, H, T, S]
        probs = torch.softmax(scores, dim=-1)
        B, T, D = hidden.shape
        return self.out(torch.matmul(probs, v).transpose(1, 2).reshape(B, T, D)), probs


class Layer(nn.Module):
    """Post-LN block: self attention, optional cross attention, MLP."""

    def __init__(self, width, heads, cross=False):
        super().__init__()
        self.self_attn, self.ln_1 = Attention(width, heads), nn.LayerNorm(width)
        self.cross_attn = Attention(width, heads) if cross else None
        self.ln_2 = nn.LayerNorm(width)
        self.mlp, self.ln_3 = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width)), nn.LayerNorm(width)

    def forward(self, x, self_mask, encoded=None, cross_mask=None):
        attended, self_probs = self.self_attn(x, x, self_mask)
        x = self.ln_1(x + attended)
        cross_probs = None
        if self.cross_attn is not None:
            attended, cross_probs = self.cross_attn(x, encoded, cross_mask)
            x = self.ln_2(x + attended)
        return self.ln_3(x + self.mlp(x)), self_probs, cross_probs


def padding_mask(attention_mask, dtype):
    """[B, S] of 1/0 -> additive [B, 1, 1, S] of 0/NEG."""
    return (1.0 - attention_mask[:, None, None, :].to(dtype)) * NEG


def causal_mask(T, dtype):
    """transformers' range comparison, [1, 1, T, T] of 0 above-diagonal NEG."""
    positions = torch.arange(T)
    return torch.where(positions[None, :] <= positions[:, None], torch.zeros((), dtype=dtype),
                       torch.full((), NEG, dtype=dtype))[None, None]


class TinyEncoderLM(nn.Module):
    """BERT-like: token + position + token-type embeddings, bidirectional layers, tied LM head.

    Takes its flags through **kwargs, as transformers 5 models take output_attentions.
    """

    def __init__(self, vocab_size, width=32, heads=2, layers=2, positions=64):
        super().__init__()
        self.word, self.position, self.token_type = nn.Embedding(vocab_size, width), nn.Embedding(positions, width), nn.Embedding(2, width)
        self.layers = nn.ModuleList([Layer(width, heads) for _ in range(layers)])

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, **kwargs):
        output_attentions = kwargs.get("output_attentions", False)
        T = input_ids.shape[1]
        token_type_ids = torch.zeros_like(input_ids) if token_type_ids is None else token_type_ids
        attention_mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
        x = self.word(input_ids) + self.position(torch.arange(T)[None, :]) + self.token_type(token_type_ids)
        mask = padding_mask(attention_mask, x.dtype)
        attentions = []
        for layer in self.layers:
            x, probs, _ = layer(x, mask)
            attentions.append(probs)
        return {"logits": torch.matmul(x, self.word.weight.t()), "attentions": tuple(attentions) if output_attentions else None}


class TinySeq2Seq(nn.Module):
    """Encoder-decoder with shared embeddings (T5/BART-like), causal decoder self attention, cross attention."""

    def __init__(self, vocab_size, width=32, heads=2, layers=2, positions=64):
        super().__init__()
        self.embed, self.position = nn.Embedding(vocab_size, width), nn.Embedding(positions, width)
        self.encoder = nn.ModuleList([Layer(width, heads) for _ in range(layers)])
        self.decoder = nn.ModuleList([Layer(width, heads, cross=True) for _ in range(layers)])

    def embed_tokens(self, ids):
        return self.embed(ids) + self.position(torch.arange(ids.shape[1])[None, :])

    def forward(self, input_ids, attention_mask=None, decoder_input_ids=None, decoder_attention_mask=None,
                output_attentions=False, use_cache=None, return_dict=True):
        attention_mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
        source_mask = padding_mask(attention_mask, torch.float32)
        x = self.embed_tokens(input_ids)
        encoder_attentions, decoder_attentions, cross_attentions = [], [], []
        for layer in self.encoder:
            x, probs, _ = layer(x, source_mask)
            encoder_attentions.append(probs)
        y = self.embed_tokens(decoder_input_ids)
        target_mask = causal_mask(decoder_input_ids.shape[1], y.dtype)
        if decoder_attention_mask is not None:
            target_mask = target_mask + padding_mask(decoder_attention_mask, y.dtype)
        for layer in self.decoder:
            y, self_probs, cross_probs = layer(y, target_mask, x, source_mask)
            decoder_attentions.append(self_probs)
            cross_attentions.append(cross_probs)
        outputs = {"logits": torch.matmul(y, self.embed.weight.t())}
        if output_attentions:
            outputs.update(encoder_attentions=tuple(encoder_attentions), decoder_attentions=tuple(decoder_attentions),
                           cross_attentions=tuple(cross_attentions))
        return outputs


def flat(tensor):
    """Batch 0 of [B, H, T, S] as a flat list of floats, [H * T * S]."""
    return [float(x) for x in tensor[0].reshape(-1).tolist()]


def write_folder(out_dir, name, model, task, config, args, attention_outputs):
    folder = os.path.join(out_dir, name)
    ids, decoder_ids = args.ids, args.decoder_ids if task == "seq2seq" else None
    # Traced on other lengths than the reference runs, so a length baked into the graph would show.
    trace_ids = (ids * 2)[: len(ids) + 3]
    trace_decoder = (decoder_ids * 2)[: len(decoder_ids) + 2] if decoder_ids else None
    summary = export_core.write_model_folder(
        model, folder, task=task, ids=trace_ids, decoder_ids=trace_decoder, config=export_core.folder_config(config, task=task),
        tokenizer=args.tokenizer, attention_outputs=attention_outputs, opset=args.opset)
    names = export_core.input_names_for(model, task)
    with torch.no_grad():
        outputs = model(**export_core.example_feeds(names, ids, decoder_ids), **export_core.call_flags(model, True))
    groups = export_core.attention_groups(outputs, task)
    export_core.write_json(os.path.join(folder, "reference.json"), {
        "task": task, "input_ids": ids, "decoder_input_ids": decoder_ids, "graph": summary,
        "attentions": {group: [flat(t) for t in tensors] for group, tensors in groups.items()},
        "heads": int(next(iter(groups.values()))[0].shape[1]),
    })


def tokenizer_vocab_size(path):
    """One more than the largest id of a tokenizer.json (its model's vocabulary and its added tokens)."""
    with open(path, encoding="utf-8") as handle:
        spec = json.load(handle)
    ids = list(spec.get("model", {}).get("vocab", {}).values()) + [token["id"] for token in spec.get("added_tokens") or []]
    return max(ids) + 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--tokenizer", required=True, help="tokenizer.json to copy into every folder")
    parser.add_argument("--ids", required=True, type=lambda text: [int(x) for x in text.split(",")],
                        help="token ids (comma-separated) the reference attention is computed for")
    parser.add_argument("--decoder-ids", type=lambda text: [int(x) for x in text.split(",")], default=None)
    parser.add_argument("--vocab-size", type=int, default=None, help="default: the --tokenizer's vocabulary size")
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--only", default=None, help="comma-separated folder names to write (default all)")
    args = parser.parse_args()
    if args.decoder_ids is None:
        args.decoder_ids = args.ids[:3]
    torch.set_num_threads(1)
    wanted = set(args.only.split(",")) if args.only else None

    V = args.vocab_size or tokenizer_vocab_size(args.tokenizer)
    torch.manual_seed(0)
    gpt2 = TinyGpt2LM(V).eval()
    torch.manual_seed(1)
    encoder = TinyEncoderLM(V).eval()
    torch.manual_seed(2)
    seq2seq = TinySeq2Seq(V).eval()
    gpt2_config = {"model_type": "gpt2", "vocab_size": V, "n_positions": 64, "n_embd": 32, "n_layer": 2, "n_head": 2}
    encoder_config = {"model_type": "bert", "vocab_size": V, "max_position_embeddings": 64, "hidden_size": 32,
                      "num_hidden_layers": 2, "num_attention_heads": 2}
    seq2seq_config = {"model_type": "tiny-seq2seq", "vocab_size": V, "max_position_embeddings": 64, "d_model": 32,
                      "num_layers": 2, "num_heads": 2, "is_encoder_decoder": True,
                      "decoder_start_token_id": args.decoder_ids[0], "eos_token_id": args.decoder_ids[0]}
    jobs = [("gpt2-explicit", gpt2, "causal-lm", gpt2_config, True),
            ("gpt2-surgery", gpt2, "causal-lm", gpt2_config, False),
            ("encoder-surgery", encoder, "masked-lm", encoder_config, False),
            ("seq2seq-explicit", seq2seq, "seq2seq", seq2seq_config, True),
            ("seq2seq-surgery", seq2seq, "seq2seq", seq2seq_config, False)]
    for name, model, task, config, attention_outputs in jobs:
        if wanted is None or name in wanted:
            write_folder(args.out_dir, name, model, task, config, args, attention_outputs)
            print(f"wrote {os.path.join(args.out_dir, name)}")


if __name__ == "__main__":
    main()
