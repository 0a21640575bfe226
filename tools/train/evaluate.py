"""Quality numbers on the held-out files: validation loss and perplexity against a unigram baseline,
and next-token top-1 and top-5 accuracy, separately for code, English prose and Chinese prose (zh).
Also the tokenizer's figures (tokens per character per kind, the target sentences). Writes work/eval.json.

The model reads each validation stream in consecutive, non-overlapping windows of its context
length and is scored on every next-token prediction inside a window. The unigram baseline predicts
every token with its add-one-smoothed frequency in the training split, scored on the same targets.

Also a Python cross-check of two head statistics (the official ones are computed by the TypeScript
side): mean attention to the previous token on held-out text, and an induction score on random
tokens repeated twice.
"""
import argparse
import math
import os

import numpy as np
import torch
import regex
import torch.nn.functional as F

import bpe

from common import log, work_path, write_json
from model import GPT2, GPT2Settings


def load_stream(name):
    return np.fromfile(work_path("tokens", f"{name}.u16"), dtype=np.uint16).astype(np.int64)


def unigram_log_probs(train, vocab_size):
    counts = np.bincount(train, minlength=vocab_size).astype(np.float64) + 1.0
    return np.log(counts / counts.sum())


@torch.no_grad()
def score_stream(model, stream, context, unigram, max_tokens, batch=8):
    """Sum of model NLL, unigram NLL and correct top-1 guesses over all targets of the stream."""
    available = (len(stream) - 1) // context
    # When capped, spread the windows evenly over the stream so every source keeps its share.
    chosen = np.unique(np.linspace(0, available - 1, min(available, max(1, max_tokens // context))).astype(np.int64))
    totals = {"targets": 0, "model_nll": 0.0, "unigram_nll": 0.0, "correct": 0, "top5": 0}
    for first in range(0, len(chosen), batch):
        starts = chosen[first:first + batch] * context
        rows = np.stack([stream[s:s + context + 1] for s in starts])
        rows = torch.from_numpy(rows)
        inputs, targets = rows[:, :-1], rows[:, 1:]
        logits = model(inputs)  # [B, T, V]
        flat_targets = targets.reshape(-1)
        totals["model_nll"] += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), flat_targets, reduction="sum").item()
        totals["correct"] += (logits.argmax(-1).reshape(-1) == flat_targets).sum().item()
        top5 = logits.topk(5, dim=-1).indices.reshape(-1, 5)
        totals["top5"] += (top5 == flat_targets[:, None]).any(dim=1).sum().item()
        totals["unigram_nll"] += float(-unigram[flat_targets.numpy()].sum())
        totals["targets"] += flat_targets.numel()
    return totals


def summarise(totals):
    n = max(1, totals["targets"])
    loss, unigram = totals["model_nll"] / n, totals["unigram_nll"] / n
    return {"targets": totals["targets"], "loss": round(loss, 4), "perplexity": round(math.exp(loss), 2),
            "unigram_loss": round(unigram, 4), "unigram_perplexity": round(math.exp(unigram), 2),
            "top1_accuracy": round(totals["correct"] / n, 4), "top5_accuracy": round(totals["top5"] / n, 4)}


@torch.no_grad()
def head_cross_check(model, stream, context, seed=0, windows=8, repeat_length=50):
    """Per head [L][H]: mean attention to t-1 on held-out windows, and induction score on repeated random tokens."""
    L, H = model.settings.n_layer, model.settings.n_head
    starts = np.linspace(0, len(stream) - context - 1, windows).astype(np.int64)
    rows = torch.from_numpy(np.stack([stream[s:s + context] for s in starts]))
    _, attentions = model(rows, return_attentions=True)  # [L, B, H, T, T]
    T = rows.shape[1]
    previous = attentions[:, :, :, torch.arange(1, T), torch.arange(0, T - 1)].mean(dim=(1, 3))  # [L, H]

    generator = np.random.default_rng(seed)
    vocab = model.settings.vocab_size - 1  # leave out <|endoftext|>
    half = generator.integers(0, vocab, size=(windows, repeat_length))
    repeated = torch.from_numpy(np.concatenate([half, half], axis=1))
    _, attentions = model(repeated, return_attentions=True)
    # Query at position repeat_length + i (second copy of token i) should look at i + 1.
    queries = torch.arange(repeat_length, 2 * repeat_length - 1)
    induction = attentions[:, :, :, queries, queries - repeat_length + 1].mean(dim=(1, 3))  # [L, H]
    return {"previous_token": [[round(v, 3) for v in row] for row in previous.tolist()],
            "induction": [[round(v, 3) for v in row] for row in induction.tolist()],
            "windows": windows, "context": T, "repeat_length": repeat_length}


@torch.no_grad()
def induction_common_words(model, words, seed=0, rows=8, half=50):
    """Induction score on random common English words (single tokens, ' word') repeated twice: per head, the mean
    attention from the second copy of word i (i >= 1) to word i+1 of the first copy."""
    generator = np.random.default_rng(seed)
    first = np.stack([generator.choice(words, size=half, replace=len(words) < half) for _ in range(rows)])
    _, attentions = model(torch.from_numpy(np.concatenate([first, first], axis=1)), return_attentions=True)
    queries = torch.arange(half + 1, 2 * half)
    scores = attentions[:, :, :, queries, queries - half + 1].mean(dim=(1, 3))
    return [[round(v, 3) for v in row] for row in scores.tolist()]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-tokens", type=int, default=1_000_000, help="cap on scored tokens per validation stream")
    args = parser.parse_args()
    torch.set_num_threads(2)

    checkpoint = torch.load(work_path("ckpt", "model.pt"))
    settings = GPT2Settings(**checkpoint["settings"])
    model = GPT2(settings)
    model.load_state_dict(checkpoint["state_dict"])
    model.eval()
    context = min(settings.n_positions, 512)
    unigram = unigram_log_probs(load_stream("train"), settings.vocab_size)

    results = {"context": context, "kinds": {}}
    overall = {"targets": 0, "model_nll": 0.0, "unigram_nll": 0.0, "correct": 0, "top5": 0}
    kinds = [k for k in ("code", "prose", "zh") if os.path.exists(work_path("tokens", f"val_{k}.u16"))]
    for kind in kinds:
        stream = load_stream(f"val_{kind}")
        context_here = min(context, len(stream) - 1)
        totals = score_stream(model, stream, context_here, unigram, args.max_tokens)
        for key in overall:
            overall[key] += totals[key]
        results["kinds"][kind] = summarise(totals)
        log(f"evaluate: {kind}: {results['kinds'][kind]}")
    results["overall"] = summarise(overall)
    log(f"evaluate: overall: {results['overall']}")
    results["heads_python"] = {}
    for kind in kinds:
        stream = load_stream(f"val_{kind}")
        results["heads_python"][kind] = head_cross_check(model, stream, min(context, len(stream) - 1))
    # Induction on random common words: the 400 most frequent single-token English words of the training stream.
    encoder = bpe.Encoder(work_path("tokenizer", "tokenizer.json"))
    counts = np.bincount(load_stream("train"), minlength=settings.vocab_size)
    word_ids = [i for i in np.argsort(-counts) if regex.fullmatch(r"Ġ[a-z]{3,}", encoder.id_to_token.get(int(i), ""))][:400]
    if len(word_ids) < 2:  # a tiny vocabulary (smoke test) may have no whole words: the most frequent tokens then
        word_ids = [int(i) for i in np.argsort(-counts)[:400]]
    results["induction_common_words"] = {"scores": induction_common_words(model, np.array(word_ids)), "rows": 8, "half": 50,
                                         "vocabulary": len(word_ids),
                                         "example": encoder.decode([int(i) for i in word_ids[:12]])}
    best_previous = max((v, l, h) for l, row in enumerate(results["heads_python"][kinds[-1] if "prose" not in kinds else "prose"]["previous_token"]) for h, v in enumerate(row))
    best_induction = max((v, l, h) for l, row in enumerate(results["induction_common_words"]["scores"]) for h, v in enumerate(row))
    log(f"evaluate: best previous-token head L{best_previous[1]} H{best_previous[2]} {best_previous[0]:.3f}, best induction "
        f"(common words) L{best_induction[1]} H{best_induction[2]} {best_induction[0]:.3f} (Python cross-check)")
    # Tokenizer figures on held-out text.
    words = bpe.common_english_words()
    results["tokenizer"] = bpe.measure(encoder, bpe.held_out_by_kind(), words)
    log(f"evaluate: tokenizer: {results['tokenizer']}")
    write_json(work_path("eval.json"), results)


if __name__ == "__main__":
    main()
