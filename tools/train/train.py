"""Train the GPT-2 of model.py on the encoded corpus (work/tokens/*.u16) with PyTorch on the CPU.

Batches are random windows of the concatenated training stream (documents separated by
<|endoftext|>), drawn with a seeded NumPy generator, so a run is reproducible given the same corpus,
settings and thread count. AdamW, linear warm-up then cosine decay, gradient clipping at 1.0.
Writes work/ckpt/model.pt (weights, settings, training record) every --save-every steps and at the end.
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from common import log, read_json, work_path
from model import GPT2, GPT2Settings

FULL = {"n_embd": 128, "n_layer": 4, "n_head": 4, "context": 512, "batch": 4}
TINY = {"n_embd": 64, "n_layer": 2, "n_head": 2, "context": 64, "batch": 4}
# Sequence-length warm-up: the first part of training uses short windows (same tokens per step).
# Attention spread over 512 keys gives q/k tiny gradients at first; over 128 keys heads specialise sooner.
SHORT_CONTEXT = 128
SHORT_FRACTION = 0.25


def load_tokens(name):
    return np.fromfile(work_path("tokens", f"{name}.u16"), dtype=np.uint16).astype(np.int64)


def repeated_passage(stream, length, rng):
    """One window of `length` tokens in which a passage of the training stream occurs twice:
    [text][passage][text][passage], the passage 8 to length/2 tokens long, the parts from random places.
    The second copy can only be predicted by looking back at the first (an induction head's job)."""
    k = int(rng.integers(8, length // 2 + 1))
    gap = int(rng.integers(0, length - 2 * k + 1))
    lead = length - 2 * k - gap

    def piece(n):
        s = int(rng.integers(0, len(stream) - n - 1))
        return stream[s:s + n]
    passage = piece(k)
    return np.concatenate([piece(lead), passage, piece(gap), passage])


def random_windows(stream, batch, context, rng, repeat_fraction=0.0):
    # stream [N] -> inputs [B, T], targets [B, T] (targets are the inputs shifted by one);
    # each row is, with probability repeat_fraction, a window with a repeated passage instead.
    starts = rng.integers(0, len(stream) - context - 1, size=batch)
    repeats = rng.random(batch) < repeat_fraction
    windows = np.stack([repeated_passage(stream, context + 1, rng) if r else stream[s:s + context + 1]
                        for s, r in zip(starts, repeats)])
    windows = torch.from_numpy(windows)
    return windows[:, :-1], windows[:, 1:], int(repeats.sum())


def learning_rate(step, progress, peak, warmup):
    """Linear warm-up over `warmup` steps, then cosine decay to 10 % as progress goes from 0 to 1."""
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))


@torch.no_grad()
def quick_validation(model, streams, context, windows=8):
    """Mean loss over a fixed set of validation windows per stream (cheap; evaluate.py does the full pass)."""
    model.eval()
    result = {}
    for name, stream in streams.items():
        if len(stream) <= context + 1:
            continue
        count = min(windows, (len(stream) - 1) // context)
        starts = np.linspace(0, len(stream) - context - 1, count).astype(np.int64)
        batch = torch.from_numpy(np.stack([stream[s:s + context + 1] for s in starts]))
        logits = model(batch[:, :-1])
        result[name] = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1)).item()
    model.train()
    return result


@torch.no_grad()
def previous_token_scores(model, stream, length=128, windows=16):
    """[L, H] mean attention from t to t-1 (t >= 1) over validation windows of `length` tokens, the
    statistic the TypeScript head stats report; logged so a run shows whether a previous-token head forms."""
    model.eval()
    starts = np.linspace(0, len(stream) - length - 1, windows).astype(np.int64)
    batch = torch.from_numpy(np.stack([stream[s:s + length] for s in starts]))
    _, attentions = model(batch, return_attentions=True)  # [L, B, H, T, T]
    model.train()
    return attentions[:, :, :, torch.arange(1, length), torch.arange(0, length - 1)].mean(dim=(1, 3))


@torch.no_grad()
def induction_scores(model, stream, half=50, rows=8, seed=0):
    """[L, H] mean attention from the second copy of a token to the token after its first copy, on `rows`
    sequences of `half` tokens drawn from the stream (so mostly common tokens) and repeated twice."""
    model.eval()
    rng = np.random.default_rng(seed)
    first = np.stack([stream[rng.integers(0, len(stream), size=half)] for _ in range(rows)])
    _, attentions = model(torch.from_numpy(np.concatenate([first, first], axis=1)), return_attentions=True)
    model.train()
    queries = torch.arange(half + 1, 2 * half)
    return attentions[:, :, :, queries, queries - half + 1].mean(dim=(1, 3))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=2400)
    parser.add_argument("--tiny", action="store_true", help="tiny model and context for the smoke test")
    parser.add_argument("--max-minutes", type=float, default=0,
                        help="time budget: the schedule follows whichever of steps and time runs out first (0: steps only)")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--resume-from", metavar="CHECKPOINT",
                        help="continue from these weights (fresh optimizer, no sequence-length warm-up); "
                             "the earlier run's record is kept in the new one")
    parser.add_argument("--seed-previous-token-head", type=float, default=0.0, metavar="STRENGTH",
                        help="initialise layer 0 head 0 as a previous-token head of this strength (0: off)")
    parser.add_argument("--previous-token-aid", type=float, default=0.0, metavar="WEIGHT",
                        help="for the first --aid-fraction of training add WEIGHT x (-log attention to t-1) of head "
                             "--aid-head to the loss, fading linearly to 0; the rest of training is the language-model "
                             "loss alone, so the head survives only if the model finds it useful (0: off)")
    parser.add_argument("--aid-fraction", type=float, default=0.3)
    parser.add_argument("--aid-head", default="0.1", metavar="LAYER.HEAD")
    parser.add_argument("--sinusoidal-position-std", type=float, default=0.04,
                        help="start the learned position table from sin/cos features of this std (0: random)")
    parser.add_argument("--repeat-fraction", type=float, default=0.25,
                        help="share of training windows that contain a passage twice (for induction heads; 0: off)")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--log-every", type=int, default=20)
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--save-every", type=int, default=200)
    args = parser.parse_args()

    shape = TINY if args.tiny else FULL
    aid_layer, aid_head = (int(part) for part in args.aid_head.split("."))
    if not (0 <= aid_layer < shape["n_layer"] and 0 <= aid_head < shape["n_head"]):
        parser.error(f"--aid-head {args.aid_head} is not a head of this model")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    vocab_size = len(read_json(work_path("tokenizer", "tokenizer.json"))["model"]["vocab"])
    settings = GPT2Settings(vocab_size=vocab_size, n_positions=512, n_embd=shape["n_embd"],
                            n_layer=shape["n_layer"], n_head=shape["n_head"])
    model = GPT2(settings, args.sinusoidal_position_std)
    if args.seed_previous_token_head > 0:
        if args.sinusoidal_position_std <= 0:
            parser.error("--seed-previous-token-head needs the sinusoidal position start")
        model.seed_previous_token_head(args.seed_previous_token_head)
    earlier_record = None
    if args.resume_from:
        earlier = torch.load(args.resume_from)
        if earlier["settings"] != settings.to_dict():
            parser.error(f"{args.resume_from} has settings {earlier['settings']}, expected {settings.to_dict()}")
        model.load_state_dict(earlier["state_dict"])
        earlier_record = earlier["record"]
    train_stream = load_tokens("train")
    val_streams = {name: load_tokens(name) for name in ("val_code", "val_prose", "val_zh")
                   if os.path.exists(work_path("tokens", f"{name}.u16"))}
    context, batch = shape["context"], shape["batch"]
    tokens_per_step = context * batch
    short_context = min(SHORT_CONTEXT, context)
    short_fraction = 0.0 if args.resume_from else SHORT_FRACTION
    log(f"train: {model.parameter_count()} parameters, {len(train_stream)} training tokens, "
        f"{args.steps} steps of {tokens_per_step} tokens: windows of {short_context} for the first "
        f"{short_fraction:.0%} of training, then {batch}x{context}")

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95))

    record = {"settings": settings.to_dict(), "context": context, "batch": batch, "steps": args.steps,
              "lr": args.lr, "warmup": args.warmup, "weight_decay": args.weight_decay, "seed": args.seed,
              "threads": args.threads, "tiny": args.tiny, "train_tokens_available": int(len(train_stream)),
              "max_minutes": args.max_minutes, "steps_done": 0, "tokens_per_step": tokens_per_step,
              "sinusoidal_position_std": args.sinusoidal_position_std,
              "seed_previous_token_head": args.seed_previous_token_head,
              "previous_token_aid": {"weight": args.previous_token_aid, "fraction": args.aid_fraction,
                                     "layer": aid_layer, "head": aid_head, "steps": 0},
              "repeat_fraction": args.repeat_fraction, "repeated_windows": 0, "windows": 0,
              "torch_version": str(torch.__version__), "python": sys.executable,
              "short_context": short_context, "short_fraction": short_fraction, "short_steps": 0,
              "resumed_from": earlier_record,
              "loss_curve": [], "val_curve": []}
    started = time.time()
    smoothed = None

    def save(step):
        record.update({"steps_done": step, "tokens_seen": step * tokens_per_step,
                       "train_seconds": round(time.time() - started, 1)})
        path = work_path("ckpt", "model.pt")
        torch.save({"settings": settings.to_dict(), "state_dict": model.state_dict(), "record": record}, path + ".tmp")
        os.replace(path + ".tmp", path)

    warmup = min(args.warmup, max(1, args.steps // 10))
    record["warmup"] = warmup
    step = 0
    while step < args.steps:
        # On a shared machine the step rate varies, so with a time budget the cosine schedule follows
        # elapsed time when that runs out before the steps do; the record says which limit applied.
        step_progress = max(0.0, (step - warmup) / max(1, args.steps - warmup))
        time_progress = (time.time() - started) / (60 * args.max_minutes) if args.max_minutes > 0 else 0.0
        if time_progress >= 1.0 and step >= warmup:
            record["stopped_by"] = "time budget"
            break
        lr = learning_rate(step, min(1.0, max(step_progress, time_progress)), args.lr, warmup)
        for group in optimizer.param_groups:
            group["lr"] = lr
        if max(step / args.steps, time_progress) < short_fraction:
            inputs, targets, repeated = random_windows(train_stream, tokens_per_step // short_context, short_context, rng,
                                                       args.repeat_fraction)
            record["short_steps"] = step + 1
        else:
            inputs, targets, repeated = random_windows(train_stream, batch, context, rng, args.repeat_fraction)
        record["repeated_windows"] += repeated
        record["windows"] += inputs.shape[0]
        progress = max(step / args.steps, time_progress)
        aid = args.previous_token_aid * max(0.0, 1.0 - progress / args.aid_fraction) if args.aid_fraction > 0 else 0.0
        if aid > 0:
            logits, attentions = model(inputs, return_attentions=True)  # attentions [L, B, H, T, T]
            T = inputs.shape[1]
            to_previous = attentions[aid_layer, :, aid_head, torch.arange(1, T), torch.arange(0, T - 1)]  # [B, T-1]
            aid_loss = -torch.log(to_previous + 1e-6).mean()
            record["previous_token_aid"]["steps"] = step + 1
        else:
            logits = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, vocab_size), targets.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        (loss + aid * aid_loss if aid > 0 else loss).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

        step += 1
        value = loss.item()
        smoothed = value if smoothed is None else 0.95 * smoothed + 0.05 * value
        done = step
        if done % args.log_every == 0 or done == args.steps:
            elapsed = time.time() - started
            record["loss_curve"].append([done, round(smoothed, 4)])
            log(f"step {done}/{args.steps} loss {value:.3f} (smoothed {smoothed:.3f}) lr {lr:.2e} "
                f"{done * tokens_per_step / elapsed:.0f} tok/s, {elapsed / 60:.1f} min, "
                f"eta {(args.steps - done) * elapsed / done / 60:.1f} min")
        if done % args.eval_every == 0 or done == args.steps:
            val = quick_validation(model, val_streams, context)
            record["val_curve"].append([done, {k: round(v, 4) for k, v in val.items()}])
            length = min(128, context)
            stream = max(val_streams.values(), key=len) if val_streams else train_stream
            scores = previous_token_scores(model, stream if len(stream) > length + 1 else train_stream, length)
            best = int(scores.argmax())
            best_layer, best_head = divmod(best, scores.shape[1])
            record.setdefault("previous_token_curve", []).append(
                [done, round(float(scores.max()), 4), f"{best_layer}.{best_head}",
                 round(float(scores[aid_layer, aid_head]), 4)])
            induction = induction_scores(model, stream)
            best_induction = divmod(int(induction.argmax()), induction.shape[1])
            record.setdefault("induction_curve", []).append(
                [done, round(float(induction.max()), 4), f"{best_induction[0]}.{best_induction[1]}"])
            log(f"step {done}: quick validation " + ", ".join(f"{k} {v:.3f}" for k, v in val.items())
                + f"; best previous-token head {best_layer}.{best_head} {float(scores.max()):.3f}"
                + f", head {aid_layer}.{aid_head} {float(scores[aid_layer, aid_head]):.3f}"
                + f"; best induction head {best_induction[0]}.{best_induction[1]} {float(induction.max()):.3f}")
        if done % args.save_every == 0 or done == args.steps:
            save(done)
    record.setdefault("stopped_by", "steps")
    if record["stopped_by"] == "time budget":
        log(f"step {step}: time budget of {args.max_minutes} min spent")
        val = quick_validation(model, val_streams, context)
        record["val_curve"].append([step, {k: round(v, 4) for k, v in val.items()}])
    save(step)
    log(f"train: done in {(time.time() - started) / 60:.1f} min")


if __name__ == "__main__":
    main()
