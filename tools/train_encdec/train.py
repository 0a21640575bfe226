"""Trains the demo encoder-decoder on the date task, evaluates it, exports the model folder.

  /usr/bin/python3 tools/train_encdec/train.py [--steps 4000] [--batch 128] [--threads 1] [--out media/models/dates]

Writes OUT/{model.onnx, tokenizer.json, tokenizer_config.json, config.json, MODEL_CARD.md} and
tools/train_encdec/{reference.json, samples.json, metrics.json}; the PyTorch checkpoint goes to
$TMPDIR/train_encdec/model.pt. Deterministic for a given thread count (seeded data and weights).
"""
import argparse
import json
import os
import platform
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import dates  # noqa: E402
import export  # noqa: E402
from model import EncoderDecoder  # noqa: E402

SEED = 20210305
HELD_OUT = 2000
COVERAGE_YEAR = 2021
TRAIN_POOL = 200_000
ARCH = {"d_model": 64, "heads": 4, "encoder_layers": 2, "decoder_layers": 2, "d_ff": 256, "positions": 32}


def pad_batch(rows, pad_id):
    width = max(len(row) for row in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, :len(row)] = torch.tensor(row)
        mask[i, :len(row)] = 1
    return ids, mask


def tensors(pairs):
    """Source ids/mask, decoder inputs ([start] + target without </s>) and labels (target with </s>)."""
    pad = dates.TOKEN_ID[dates.PAD]
    source_ids, source_mask = pad_batch([dates.encode(text) for text, _ in pairs], pad)
    labels = torch.tensor([dates.encode(target) for _, target in pairs])
    decoder_inputs = torch.cat([torch.full((len(pairs), 1), pad), labels[:, :-1]], dim=1)
    return source_ids, source_mask, decoder_inputs, labels


@torch.no_grad()
def greedy(model, pairs, max_len=11, batch=500):
    """Greedy decoding from decoder_start = <pad>; returns the decoded ISO strings."""
    model.eval()
    pad, eos = dates.TOKEN_ID[dates.PAD], dates.TOKEN_ID[dates.EOS]
    outputs = []
    for start in range(0, len(pairs), batch):
        chunk = pairs[start:start + batch]
        source_ids, source_mask, _, _ = tensors(chunk)
        decoded = torch.full((len(chunk), 1), pad, dtype=torch.long)
        for _ in range(max_len):
            logits = model(source_ids, source_mask, decoded)[0]
            decoded = torch.cat([decoded, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
        for row in decoded[:, 1:].tolist():
            outputs.append(dates.decode(row[:row.index(eos)] if eos in row else row))
    return outputs


def exact_match(model, pairs):
    predictions = greedy(model, pairs)
    wrong = [(text, target, got) for (text, target), got in zip(pairs, predictions) if got != target]
    return 1.0 - len(wrong) / len(pairs), wrong


def learning_rate(step, steps, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.05 + 0.95 * 0.5 * (1 + torch.cos(torch.tensor(progress * torch.pi)).item()))


def cpu_name():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        return f"{names[0]}, {len(names)} logical cores visible"
    except (OSError, IndexError):
        return platform.machine()


def train(args):
    torch.manual_seed(SEED)
    held_out, held_out_dates = dates.make_split(HELD_OUT, SEED + 1)
    train_pool, _ = dates.make_split(TRAIN_POOL, SEED + 2, exclude=frozenset(held_out_dates))
    model = EncoderDecoder(len(dates.VOCAB), **ARCH)
    decay = [p for name, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for name, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=args.lr, betas=(0.9, 0.98))
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(SEED + 3)
    started, log = time.time(), []
    for step in range(args.steps):
        model.train()
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, args.steps, args.lr, args.warmup)
        picks = torch.randint(len(train_pool), (args.batch,), generator=generator).tolist()
        source_ids, source_mask, decoder_inputs, labels = tensors([train_pool[i] for i in picks])
        logits = model(source_ids, source_mask, decoder_inputs)[0]
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 250 == 0 or step == args.steps - 1:
            accuracy, _ = exact_match(model, held_out[:300])
            log.append({"step": step, "loss": round(loss.item(), 4), "heldout_exact_match_300": accuracy})
            print(f"step {step:5d}  loss {loss.item():.4f}  held-out exact match (300) {accuracy:.3f}  {time.time() - started:.0f}s", flush=True)
    minutes = (time.time() - started) / 60
    accuracy, wrong = exact_match(model, held_out)
    train_accuracy, _ = exact_match(model, train_pool[:2000])
    coverage_accuracy, coverage_wrong = exact_match(model, dates.every_day_of(COVERAGE_YEAR))
    print(f"every day of {COVERAGE_YEAR} in 6 patterns: {coverage_accuracy:.4f} ({len(coverage_wrong)} wrong)")
    print(f"held-out exact match {accuracy:.4f} ({len(held_out) - len(wrong)}/{len(held_out)}), train sample {train_accuracy:.4f}")
    for text, target, got in wrong[:20]:
        print(f"  wrong: {text!r} -> {got!r} (want {target})")
    metrics = {
        "seed": SEED, "steps": args.steps, "batch": args.batch, "peak_lr": args.lr, "warmup": args.warmup,
        "threads": args.threads, "train_minutes": round(minutes, 2), "train_pool": TRAIN_POOL, "held_out": HELD_OUT,
        "heldout_exact_match": accuracy, "heldout_wrong": [list(w) for w in wrong],
        "train_sample_exact_match": train_accuracy, "coverage_year": COVERAGE_YEAR,
        "coverage_exact_match": coverage_accuracy, "coverage_wrong": [list(w) for w in coverage_wrong], "log": log,
        "parameters": sum(p.numel() for p in model.parameters()),
        "cpu": cpu_name(), "torch": torch.__version__,
    }
    return model, held_out, metrics


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=os.path.join(HERE, "..", "..", "media", "models", "dates"))
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "train_encdec"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.work, exist_ok=True)
    model, held_out, metrics = train(args)
    model.eval()
    torch.save(model.state_dict(), os.path.join(args.work, "model.pt"))
    metrics["alignment"] = export.alignment_report(model, held_out[:500])
    with open(os.path.join(HERE, "metrics.json"), "w", encoding="utf-8") as handle:
        json.dump(metrics, handle, indent=1)
        handle.write("\n")
    export.write_model_folder(model, ARCH, os.path.normpath(args.out), metrics)


if __name__ == "__main__":
    main()
