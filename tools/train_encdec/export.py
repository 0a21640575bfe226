"""Exports the trained date model as an Attention Inspector model folder, plus the check fixtures.

Model folder (media/models/dates): model.onnx (ONE graph: input_ids, attention_mask,
decoder_input_ids -> logits, no attention outputs), tokenizer.json, tokenizer_config.json,
config.json, MODEL_CARD.md. Beside this script: reference.json (PyTorch's attention maps for one
phrase, every site, for check_model.ts) and samples.json (the lines of sample/dates.txt with their
true ISO dates and PyTorch's greedy output). Also rewrites sample/dates.txt from SAMPLE_DATES.
"""
import datetime
import json
import os

import onnx
import torch

import dates
from model import LogitsOnly

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
OPSET = 14
REFERENCE_TEXT = "Friday, March 5, 2021"

# The sample file's phrases and the dates they mean (the truth comes from here, not from the model).
SAMPLE_DATES = [
    ("March 5, 2021", datetime.date(2021, 3, 5)),
    ("Friday, March 5, 2021", datetime.date(2021, 3, 5)),
    ("5 March 2021", datetime.date(2021, 3, 5)),
    ("Mar 5 2021", datetime.date(2021, 3, 5)),
    ("the 5th of March, 2021", datetime.date(2021, 3, 5)),
    ("July the 4th, 1976", datetime.date(1976, 7, 4)),
    ("14 Jul 1889", datetime.date(1889, 7, 14)),
    ("Sept. 30, 1999", datetime.date(1999, 9, 30)),
    ("2024 February 29", datetime.date(2024, 2, 29)),
    ("Tue, 31 Dec 2030", datetime.date(2030, 12, 31)),
    ("21-Oct-2015", datetime.date(2015, 10, 21)),
    ("the 1st of January 1900", datetime.date(1900, 1, 1)),
]


def write_json(path, value, indent=1):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(value, handle, ensure_ascii=False, indent=indent)
        handle.write("\n")


def rounded(tensor):
    return [round(float(x), 9) for x in tensor.detach().reshape(-1).tolist()]


def single(text, target_ids=None):
    """Batch-1 tensors for one phrase; decoder input = [<pad>] + target without </s>."""
    ids = dates.encode(text)
    target_ids = target_ids if target_ids is not None else dates.encode(dates.iso(_true_date(text)))
    decoder_ids = [dates.TOKEN_ID[dates.PAD]] + target_ids[:-1]
    return torch.tensor([ids]), torch.ones((1, len(ids)), dtype=torch.long), torch.tensor([decoder_ids])


def _true_date(text):
    return dict(SAMPLE_DATES)[text]


@torch.no_grad()
def greedy_one(model, text, max_len=11):
    ids = torch.tensor([dates.encode(text)])
    mask = torch.ones_like(ids)
    decoded = [dates.TOKEN_ID[dates.PAD]]
    for _ in range(max_len):
        next_id = int(model(ids, mask, torch.tensor([decoded]))[0][0, -1].argmax())
        if next_id == dates.TOKEN_ID[dates.EOS]:
            break
        decoded.append(next_id)
    return dates.decode(decoded[1:])


# ---------------------------------------------------------------- cross-attention alignment

def expected_sources(text):
    """For target positions 0-3 (year), 5-6 (month), 8-9 (day): the source positions they should read."""
    words = dates.pre_tokenize(text)
    runs, start = [], None
    for i, word in enumerate(words + [""]):
        if word.isdigit() and start is None:
            start = i
        elif not word.isdigit() and start is not None:
            runs.append(list(range(start, i)))
            start = None
    # "Mar 5 2021" has no separator between day and year: one run of 5-6 digits, the year last.
    year = next(run[-4:] for run in runs if len(run) >= 4)
    day = next(run[:-4] if len(run) > 4 else run for run in runs if len(run) != 4)
    month_words = set(dates.MONTHS + dates.MONTH_ABBREVIATIONS + ["sept"])
    month = [i for i, word in enumerate(words) if word in month_words]
    expected = {t: {year[t]} for t in range(4)}
    expected.update({5: set(month), 6: set(month), 8: set(day), 9: set(day)})
    return expected


@torch.no_grad()
def alignment_report(model, pairs):
    """How often cross-attention's strongest source token is the one a reader expects (see the card).

    Row t of a cross-attention map is the decoder position that predicts target token t, so its
    argmax over source tokens should be the year digit it copies, the month word it converts, or the
    day digits. Per layer: the head-averaged map, and the best single head.
    """
    model.eval()
    layers = len(model.decoder)
    heads = model.decoder[0].cross_attn.heads
    hits_mean = [0] * layers
    hits_head = [[0] * heads for _ in range(layers)]
    total = 0
    for text, target in pairs:
        ids = torch.tensor([dates.encode(text)])
        decoder_ids = torch.tensor([[dates.TOKEN_ID[dates.PAD]] + dates.encode(target)[:-1]])
        cross = model(ids, torch.ones_like(ids), decoder_ids)[3]
        expected = expected_sources(text)
        total += len(expected)
        for layer in range(layers):
            probs = cross[layer][0]  # [H, T, S]
            mean_argmax = probs.mean(0).argmax(-1).tolist()
            head_argmax = probs.argmax(-1).tolist()
            for t, allowed in expected.items():
                hits_mean[layer] += mean_argmax[t] in allowed
                for h in range(heads):
                    hits_head[layer][h] += head_argmax[h][t] in allowed
    report = []
    for layer in range(layers):
        best = max(range(heads), key=lambda h: hits_head[layer][h])
        report.append({"layer": layer, "head_mean": round(hits_mean[layer] / total, 4), "best_head": best,
                       "best_head_rate": round(hits_head[layer][best] / total, 4),
                       "per_head": [round(h / total, 4) for h in hits_head[layer]]})
    return {"samples": len(pairs), "positions_per_sample": 8, "layers": report}


# ---------------------------------------------------------------- files

EDGE_CASES = [
    "", " ", "MARCH 5, 2021", "  march   5 ,2021  ", "March\t5\n2021", "5th-of-March", "2021-03-05", "03/05/2021",
    "Mar.. 5,, 2021!!", "Maerz 5, 2021", "März 5, 2021", "５ March ２０２１", "5\u00a0March\u30002021", "\ufeffMarch 5",
    "Ünïcödé 12 déc. 2021", "the 5th of March, 2021 🎉", "Kelvin \u212a 5", "İstanbul 1 May 1453", "x_y 5_000",
    "September 31, 2021", "Sept 9 2099", "sept. 9 ,2099", "0000", "123456789", "may may may", "Thu, 1 Jan 1970",
    "on the 2nd of Feb, 2002", "Tuesday, 29 February 2000",
]


def tokenizer_cases(count=600, seed=7):
    """Texts (generated phrases and edge cases) with the Python tokenizer's ids, for check_model.ts."""
    texts = EDGE_CASES + [text for text, _ in dates.make_split(count, seed)[0]]
    return [{"text": text, "ids": dates.encode(text)} for text in texts]


def site(kind, layer, causal, probs):
    first = probs[0]  # [H, T, S]
    return {"kind": kind, "layer": layer, "causal": causal, "heads": int(first.shape[0]), "dims": list(first.shape),
            "data": rounded(first)}


@torch.no_grad()
def reference(model):
    ids, mask, decoder_ids = single(REFERENCE_TEXT)
    logits, encoder_probs, decoder_probs, cross_probs = model(ids, mask, decoder_ids)
    sites = [site("encoder-self", i, False, p) for i, p in enumerate(encoder_probs)]
    for i, (self_probs, cross) in enumerate(zip(decoder_probs, cross_probs)):
        sites += [site("decoder-self", i, True, self_probs), site("cross", i, False, cross)]
    return {"text": REFERENCE_TEXT, "input_ids": ids[0].tolist(), "target": dates.iso(_true_date(REFERENCE_TEXT)),
            "decoder_input_ids": decoder_ids[0].tolist(), "source_tokens": dates.pre_tokenize(REFERENCE_TEXT) + [dates.EOS],
            "logits_last_row": rounded(logits[0, -1]), "sites": sites}


def export_onnx(model, path):
    """One graph with dynamic batch, source and target lengths; traced with unequal lengths and batch 2."""
    pairs = [("Friday, the 5th of March, 2021", "2021-03-05"), ("Mar 5 2021", "2021-03-05")]
    source = [dates.encode(text) for text, _ in pairs]
    width = max(len(row) for row in source)
    ids = torch.tensor([row + [0] * (width - len(row)) for row in source])
    mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in source])
    decoder_ids = torch.tensor([[0] + dates.encode(target)[:4] for _, target in pairs])
    axes = {"input_ids": {0: "batch", 1: "source"}, "attention_mask": {0: "batch", 1: "source"},
            "decoder_input_ids": {0: "batch", 1: "target"}, "logits": {0: "batch", 1: "target"}}
    torch.onnx.export(LogitsOnly(model).eval(), (ids, mask, decoder_ids), path,
                      input_names=["input_ids", "attention_mask", "decoder_input_ids"], output_names=["logits"],
                      dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)
    graph = onnx.load(path)
    onnx.checker.check_model(graph)
    softmax = sum(node.op_type == "Softmax" for node in graph.graph.node)
    assert softmax == len(model.encoder) + 2 * len(model.decoder), f"expected one Softmax per attention block, found {softmax}"


def config(arch, metrics):
    return {
        "model_type": "encoder-decoder-demo", "architectures": ["EncoderDecoderDemo"], "is_encoder_decoder": True,
        "task": "Date normalisation: an English date phrase (\"March 5, 2021\", \"the 5th of March, 2021\") -> ISO 8601 "
                "(\"2021-03-05\"). Source and target share tokenizer.json; decoding starts from <pad>.",
        "d_model": arch["d_model"], "encoder_layers": arch["encoder_layers"], "decoder_layers": arch["decoder_layers"],
        "num_heads": arch["heads"], "encoder_attention_heads": arch["heads"], "decoder_attention_heads": arch["heads"],
        "encoder_ffn_dim": arch["d_ff"], "decoder_ffn_dim": arch["d_ff"],
        "vocab_size": len(dates.VOCAB), "max_position_embeddings": arch["positions"],
        "decoder_start_token_id": dates.TOKEN_ID[dates.PAD], "pad_token_id": dates.TOKEN_ID[dates.PAD],
        "eos_token_id": dates.TOKEN_ID[dates.EOS], "unk_token_id": dates.TOKEN_ID[dates.UNK],
        "max_length": 12, "tie_word_embeddings": True, "heldout_exact_match": metrics["heldout_exact_match"],
    }


def write_model_folder(model, arch, out, metrics):
    os.makedirs(out, exist_ok=True)
    export_onnx(model, os.path.join(out, "model.onnx"))
    write_json(os.path.join(out, "tokenizer.json"), dates.tokenizer_json())
    write_json(os.path.join(out, "tokenizer_config.json"), dates.tokenizer_config_json(arch["positions"]))
    write_json(os.path.join(out, "config.json"), config(arch, metrics))
    write_json(os.path.join(HERE, "reference.json"), reference(model))
    write_json(os.path.join(HERE, "tokenizer_cases.json"), tokenizer_cases(), indent=None)
    samples = [{"text": text, "expected": date.isoformat(), "pytorch": greedy_one(model, text)} for text, date in SAMPLE_DATES]
    write_json(os.path.join(HERE, "samples.json"), samples)
    with open(os.path.join(REPO, "sample", "dates.txt"), "w", encoding="utf-8") as handle:
        handle.write("".join(text + "\n" for text, _ in SAMPLE_DATES))
    metrics["samples_pytorch_correct"] = sum(s["pytorch"] == s["expected"] for s in samples)
    import card  # noqa: PLC0415 - the card reads the files just written (sizes)
    card.write(out, arch, metrics, samples)
    for name in sorted(os.listdir(out)):
        print(f"{os.path.getsize(os.path.join(out, name)):>9}  {os.path.join(out, name)}")
