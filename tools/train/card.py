"""Write MODEL_CARD.md for the exported model from the records the earlier stages left in work/.

Head statistics are computed later by the project's TypeScript code; the card keeps a marked
placeholder for them (HEAD_STATISTICS) and shows the Python cross-check separately.
"""
import argparse
import datetime
import os
import platform
import subprocess

import onnx
import torch

from common import END_OF_TEXT, read_json, work_path


def cpu_description():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    except OSError:
        names = []
    name = names[0] if names else platform.processor() or "unknown CPU"
    return f"{name}, {os.cpu_count()} logical cores visible"


def optional_json(path):
    return read_json(path) if os.path.exists(path) else None


def mb(n):
    return f"{n / 1e6:.2f} MB"


def head_table(matrix):
    heads = len(matrix[0])
    lines = ["| layer | " + " | ".join(f"head {h}" for h in range(heads)) + " |",
             "|---|" + "---|" * heads]
    for layer, row in enumerate(matrix):
        lines.append(f"| {layer} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
    return "\n".join(lines)


def describe_stage(w, record, P):
    short_steps, short_context = record.get("short_steps", 0), record.get("short_context", record["context"])
    w(f"- {record['steps_done']} steps of {record['tokens_per_step']:,} tokens ({record['tokens_seen']:,} tokens), "
      f"{record['train_seconds'] / 60:.1f} minutes; each step a batch of random windows of the training stream.")
    if short_steps and short_context < record["context"]:
        w(f"- Sequence-length warm-up: the first {short_steps} steps used {record['tokens_per_step'] // short_context} windows of "
          f"{short_context} tokens, the rest {record['batch']} windows of {record['context']} tokens (attention spread over fewer keys "
          "gives the query and key weights a stronger signal early on).")
    else:
        w(f"- Windows of {record['batch']} × {record['context']} tokens throughout.")
    w(f"- All {P} positions were trained." if record["context"] >= P else
      f"- Windows are {record['context']} tokens long: positions {record['context']}–{P - 1} are untrained (smoke build).")
    if record.get("sinusoidal_position_std") and not record.get("resumed_from"):
        w(f"- The learned position table started from sin/cos features (std {record['sinusoidal_position_std']}) instead of noise, "
          "so offsets such as t−1 are a linear map away from the start; it is an ordinary learned GPT-2 `wpe` afterwards.")
    if record.get("seed_previous_token_head") and not record.get("resumed_from"):
        w(f"- Layer 0 head 0 started as a previous-token head (strength {record['seed_previous_token_head']}); training was free to undo it.")
    aid = record.get("previous_token_aid") or {}
    if aid.get("weight") and aid.get("steps"):
        w(f"- Previous-token aid: for the first {aid['steps']} steps (the first {aid['fraction']:.0%} of the schedule) the loss also had "
          f"weight × (−log attention from t to t−1) of layer {aid['layer']} head {aid['head']}, the weight fading linearly from "
          f"{aid['weight']:g} to 0; the remaining {record['steps_done'] - aid['steps']} steps were trained on the language-model "
          "loss alone, so whatever that head does at the end is what the language-model loss kept.")
    prev_curve = record.get("previous_token_curve") or []
    if prev_curve:
        shown = sorted({round(i * (len(prev_curve) - 1) / 5) for i in range(6)})
        w(f"- Mean attention to t−1 during training (16 validation windows of {min(128, record['context'])} tokens; best head, aided head): " +
          "; ".join(f"step {prev_curve[i][0]}: {prev_curve[i][2]} {prev_curve[i][1]:.2f}, {prev_curve[i][3]:.2f}" for i in shown) + ".")
    if record.get("stopped_by") == "time budget":
        w(f"- Planned {record['steps']} steps with a {record['max_minutes']:g}-minute time budget; the budget ran out first, so the cosine "
          f"schedule followed elapsed time and training stopped after {record['steps_done']} steps.")
    elif record.get("steps_done", 0) < record["steps"]:
        w(f"- Planned {record['steps']} steps{' within ' + format(record['max_minutes'], 'g') + ' minutes' if record.get('max_minutes') else ''}; "
          f"stopped by hand after {record['steps_done']} steps (checkpoint saved at that step), before the learning rate had decayed.")
    elif record.get("max_minutes"):
        w(f"- {record['steps']} steps planned within a {record['max_minutes']:g}-minute time budget; the steps ran out first.")
    w(f"- AdamW (β 0.9/0.95, weight decay {record['weight_decay']} on matrices and embeddings), peak learning rate {record['lr']}, "
      f"linear warm-up over {record['warmup']} steps then cosine decay to 10 %, gradient clipping 1.0, seed {record['seed']}.")
    curve = record["val_curve"]
    if curve:
        shown = sorted({round(i * (len(curve) - 1) / 5) for i in range(6)})
        w("- Quick validation loss (8 windows of 512 tokens per kind): " +
          "; ".join(f"step {curve[i][0]}: " + ", ".join(f"{k[4:]} {v:.2f}" for k, v in curve[i][1].items()) for i in shown) + ".")


def node_version():
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not found"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=os.path.join(work_path("out", "default", "x")[:-2]))
    args = parser.parse_args()

    manifest = read_json(work_path("corpus", "manifest.json"))
    token_stats = read_json(work_path("tokens", "stats.json"))
    tokenizer = read_json(work_path("tokenizer", "tokenizer.json"))
    bpe_settings = optional_json(work_path("tokenizer", "bpe_settings.json")) or {}
    checkpoint = torch.load(work_path("ckpt", "model.pt"))
    record = checkpoint["record"]
    settings = checkpoint["settings"]
    evaluation = read_json(work_path("eval.json"))
    export = read_json(work_path("export.json"))
    timings = optional_json(work_path("timings.json")) or {}
    tokenizer_check = optional_json(work_path("verify", "tokenizer_check.json"))
    onnx_check = optional_json(work_path("verify", "onnx_check.json"))
    parameters = sum(t.numel() for n, t in checkpoint["state_dict"].items() if not n.endswith("causal"))
    D, L, H, V, P = settings["n_embd"], settings["n_layer"], settings["n_head"], settings["vocab_size"], settings["n_positions"]
    onnx_model = onnx.load(os.path.join(args.out, "model.onnx"))

    out = []
    w = out.append
    w(f"# Attention Inspector default model{' (SMOKE TEST BUILD, not for shipping)' if record['tiny'] else ''}\n")
    how = ("trained in stages (from scratch, then continued; see Training) by" if record.get("resumed_from")
           else "trained from scratch by")
    w(f"A {L}-layer, {H}-head GPT-2 (d_model {D}, {parameters:,} parameters) {how} "
      "`tools/train/train.sh` on a mix of code, English prose and Simplified Chinese prose from locally installed npm and Debian packages, "
      "with its own byte-level BPE tokenizer. It exists to show attention patterns in the extension, not to generate text.\n")
    w(f"Built {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}.\n")

    w("## Files\n")
    w("| file | size | content |\n|---|---|---|")
    descriptions = {
        "config.json": "GPT2Config keys (`model_type` gpt2, `activation_function` gelu_new)",
        "model.safetensors": "float32 weights with Hugging Face GPT-2 names (`transformer.*`), Conv1D layout `[in, out]`; no `lm_head.weight` (tied to `transformer.wte.weight`)",
        "tokenizer.json": "Hugging Face tokenizer (byte-level BPE)",
        "tokenizer_config.json": "tokenizer settings for tokenizers.js (`model_max_length`, special tokens)",
        "training_record.json": "how the weights were trained (settings, schedule, curves, earlier stages): what `train.sh --transplant-from` reads",
        "model.onnx": "the same weights as an ONNX graph, see below",
        "MODEL_CARD.md": "this card",
    }
    for name, size in export["files"].items():
        w(f"| `{name}` | {mb(size)} | {descriptions.get(name, '')} |")
    w(f"\nTotal (without this card): {mb(export['total_bytes'])}.\n")

    w("## Training data\n")
    w(f"Built by `tools/train/corpus.py` from files installed on the build machine; file lists are sorted, and each file goes to "
      f"validation when the first 4 bytes of SHA-1(`source:relative path`) mod 100 < {manifest['validation_percent']} "
      f"(files over {manifest['max_validation_file_bytes']:,} bytes always stay in training), so the split is by file and reproducible.\n")
    w("| source | kind | package and version | licence | train files | train size | train tokens | val files | val size | val tokens |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for s in manifest["sources"]:
        package = s["package"] if len(s["package"]) < 120 else s["package"].split(":")[0] + " (listed below)"
        licence = s["licence"] if len(s["licence"]) < 60 else "permissive, per package (below)"
        tt = token_stats.get(f"{s['name']}/train", {}).get("tokens", 0)
        vt = token_stats.get(f"{s['name']}/val", {}).get("tokens", 0)
        w(f"| {s['name']}: {s['description']} | {s['kind']} | {package} | {licence} | {s['train_files']} | {mb(s['train_bytes'])} | "
          f"{tt:,} | {s['val_files']} | {mb(s['val_bytes'])} | {vt:,} |")
    for s in manifest["sources"]:
        if len(s["package"]) >= 120:
            w(f"\n<details><summary>{s['name']}: the packages (name@version (licence))</summary>\n\n"
              f"{s['package'].split(': ', 1)[1]}.\n\n</details>")
    w(f"\nTraining stream: {token_stats['train']['tokens']:,} tokens (documents separated by `{END_OF_TEXT}`). "
      "Large Chinese files (manuals, fortunes) are cut into chunks of about 6,000 characters at paragraph ends before the split, "
      "so each language has its own held-out part; in the Chinese sources only paragraphs with at least 20 % CJK characters are kept.\n")
    w("The mix per language (held-out = validation split):\n")
    w("| language | train bytes | train characters | train tokens | share of train tokens | held-out bytes | held-out tokens |")
    w("|---|---|---|---|---|---|---|")
    names = {"code": "code (TypeScript, Python)", "prose": "English prose", "zh": "Simplified Chinese prose"}
    for kind, label in names.items():
        tr, va = token_stats.get(f"train_{kind}"), token_stats.get(f"val_{kind}")
        if tr and va:
            w(f"| {label} | {mb(tr['bytes'])} | {tr['chars']:,} | {tr['tokens']:,} | {tr['tokens'] / token_stats['train']['tokens']:.0%} | "
              f"{mb(va['bytes'])} | {va['tokens']:,} |")
    w("")

    w("## Tokenizer\n")
    w(f"Byte-level BPE in GPT-2's format, trained by `tools/train/bpe.py` on the training split: {len(tokenizer['model']['vocab'])} entries "
      f"= 256 byte tokens + {len(tokenizer['model']['merges'])} merges + `{END_OF_TEXT}` (id {tokenizer['model']['vocab'][END_OF_TEXT]}). "
      "Pre-tokenizer: a Sequence of `Split` (GPT-2's regex with one change: every CJK ideograph — U+3400–4DBF, U+4E00–9FFF, "
      "U+F900–FAFF — is a pre-token of its own; behaviour `Isolated`) and `ByteLevel` without its own regex, `add_prefix_space` "
      "false; decoder ByteLevel; no normalizer. With GPT-2's regex a Chinese sentence without spaces is one pre-token, so merges "
      "join frequent character pairs and leave rarer characters in byte pieces (`我爱你` became 我 + two byte pieces of 爱 + 你); "
      "isolated, a character is one token as soon as its bytes are merged. "
      f"Training: the {bpe_settings.get('whole_characters', 0):,} CJK characters seen at least {bpe_settings.get('whole_character_min_count', '?')} times "
      "in the training split (99.5 % of its CJK character occurrences) are merged whole first, most frequent first, so every prefix of "
      "the merge list keeps them whole; then merges are learnt greedily by pair frequency over pre-tokenized words (ties: lower ids "
      f"first), with everyday English ({', '.join(bpe_settings.get('everyday_sources', []))}) counted {bpe_settings.get('everyday_weight', '?')}× — "
      "without that weight code identifiers and technical prose take the merges and everyday words such as ` creature` stay in pieces. "
      "Encoding merges the lowest-ranked pair first (leftmost among equals), as Hugging Face's BPE does.")
    choice = optional_json(work_path("tokenizer", "vocab_choice.json"))
    if choice:
        w(f"\nVocabulary size chosen by measurement: BPE was trained once to {max(c['vocab_size'] for c in choice['candidates']):,} entries, "
          "and each candidate size is the prefix of that merge list. Kept: the smallest candidate with `我爱你` → 3 tokens of one character "
          "each, at most 13 tokens for the English sentence below, ≥ 98 % of held-out Chinese characters never cut by a token boundary, "
          "and ≥ 95 % of the 1,000 most frequent English words of the training prose single tokens; when none meets them all, the largest. "
          f"Chosen: **{choice['chosen']:,}**.\n")
        w("| vocabulary | tokens/char code | tokens/char English | tokens/char Chinese | Chinese chars whole | common English words single | `我爱你` | English sentence | meets all |")
        w("|---|---|---|---|---|---|---|---|---|")
        for c in choice["candidates"]:
            w(f"| {c['vocab_size']:,} | {c.get('tokens_per_char_code', 0):.3f} | {c.get('tokens_per_char_prose', 0):.3f} | {c.get('tokens_per_char_zh', 0):.3f} | "
              f"{c['zh_chars_whole']:.1%} | {c['common_en_words_single']:.1%} | {c['target_zh']['tokens']} | {c['target_en']['tokens']} | "
              f"{'yes' if c['meets_targets'] else 'no'} |")
    measured = evaluation.get("tokenizer")
    if measured:
        zh, en = measured["target_zh"], measured["target_en"]
        w(f"\nThe shipped tokenizer on held-out text: tokens per character — code {measured.get('tokens_per_char_code', 0):.3f}, "
          f"English prose {measured.get('tokens_per_char_prose', 0):.3f}, Chinese {measured.get('tokens_per_char_zh', 0):.3f} "
          f"(average bytes per token: code {token_stats['val_code']['bytes_per_token']}, English {token_stats['val_prose']['bytes_per_token']}, "
          f"Chinese {token_stats.get('val_zh', {}).get('bytes_per_token', 0)}).\n")
        w(f"- `{zh['text']}` → {zh['tokens']} tokens {' '.join('`' + p + '`' for p in zh['pieces'])}, character spans "
          + ", ".join(f"[{a},{b})" for a, b in zh["spans"]) + f" (target: 3 tokens, [0,1), [1,2), [2,3)).")
        w(f"- `{en['text']}` → {en['tokens']} tokens: " + " ".join("`" + p.replace(" ", "␣") + "`" for p in en["pieces"])
          + " (target: at most 13).")
        w(f"- {measured['zh_chars_whole']:.1%} of held-out Chinese characters are whole (never cut by a token boundary); "
          f"{measured['common_en_words_single']:.1%} of the {measured['common_en_words_checked']:,} most frequent English words are single tokens.")
    if tokenizer_check:
        w(f"\nChecked against `@huggingface/tokenizers` (the extension's tokenizer library) on {tokenizer_check['cases']} held-out texts "
          f"({tokenizer_check['tokens']:,} tokens, plus Unicode edge cases): {tokenizer_check['idMismatches']} id mismatches, "
          f"{tokenizer_check['roundTripFailures']} decode round-trip failures.")
    w("")

    w("## Architecture\n")
    w(f"GPT-2: learned token and position embeddings; {L} pre-LayerNorm blocks `x + attn(ln_1(x))`, `x + mlp(ln_2(x))`; causal multi-head "
      f"self-attention with {H} heads of size {D // H}, scores `q·kᵀ/√{D // H}`; MLP {D} → {4 * D} → {D} with GELU (tanh approximation, `gelu_new`); "
      f"final LayerNorm (ε = {settings['layer_norm_epsilon']}); LM head tied to the token embedding. "
      f"Vocabulary {V}, {P} positions, {parameters:,} parameters. No dropout.\n")

    w("## Training\n")
    stages = [record]
    while stages[0].get("resumed_from"):
        stages.insert(0, stages[0]["resumed_from"])
    total_steps = sum(r["steps_done"] for r in stages)
    total_tokens = sum(r["tokens_seen"] for r in stages)
    total_seconds = sum(r["train_seconds"] for r in stages)
    w(f"{total_steps} steps, {total_tokens:,} tokens ({total_tokens / token_stats['train']['tokens']:.2f} passes over the training stream), "
      f"{total_seconds / 60:.1f} minutes of training on {cpu_description()} (no GPU), PyTorch {record.get('torch_version', torch.__version__)} "
      f"({'tools/train/work/venv' if 'venv' in record.get('python', '') else 'Debian python3-torch'}) "
      f"with {record['threads']} threads and OpenBLAS (pthread); the CPU was shared with other work, so the step rate varied.\n")
    for number, stage_record in enumerate(stages, 1):
        if len(stages) > 1:
            w(f"Stage {number}{' (continued from the weights of stage ' + str(number - 1) + ', fresh optimizer)' if number > 1 else ''}:\n")
        describe_stage(w, stage_record, P)
        w("")
    if timings:
        w("- Pipeline stage times: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()) + ".")
    notes_path = work_path("training_notes.md")
    if os.path.exists(notes_path):
        with open(notes_path, encoding="utf-8") as f:
            w("\n" + f.read().strip())
    w("")

    w("## Quality on held-out files\n")
    context = evaluation["context"]
    coverage = ", ".join(f"{kind} {r['targets'] // context} of {(token_stats[f'val_{kind}']['tokens'] - 1) // context}"
                         for kind, r in evaluation["kinds"].items())
    w(f"Non-overlapping windows of {context} tokens, evenly spaced over each validation stream (windows scored: {coverage}); "
      "every next-token prediction inside a window counts. "
      "Unigram baseline: add-one-smoothed token frequencies of the training split, scored on the same targets. Losses in nats per token.\n")
    w("| split | targets | loss | perplexity | unigram loss | unigram perplexity | top-1 accuracy | top-5 accuracy |")
    w("|---|---|---|---|---|---|---|---|")
    labels = {"code": "code", "prose": "English prose", "zh": "Chinese prose", "all": "all"}
    for name, r in list(evaluation["kinds"].items()) + [("all", evaluation["overall"])]:
        w(f"| {labels.get(name, name)} | {r['targets']:,} | {r['loss']:.3f} | {r['perplexity']:.1f} | {r['unigram_loss']:.3f} | "
          f"{r['unigram_perplexity']:.1f} | {r['top1_accuracy'] * 100:.1f} % | {r.get('top5_accuracy', 0) * 100:.1f} % |")
    w("")

    w("## Head statistics\n")
    w("<!-- HEAD_STATISTICS: to be filled by the project's TypeScript head-statistics code (per head: mean attention to the previous token, "
      "mass on the first token, mean entropy, self-attention mass, induction score). -->\n")
    w("_Pending: computed by the TypeScript code of the extension on held-out text._\n")
    heads = evaluation.get("heads_python")
    if heads:
        for kind, label in (("prose", "English prose"), ("zh", "Chinese prose"), ("code", "code")):
            if kind not in heads:
                continue
            h = heads[kind]
            w(f"Python cross-check from `tools/train/evaluate.py`: mean attention to the previous token on {h['windows']} held-out "
              f"{label} windows of {h['context']} tokens:\n")
            w(head_table(h["previous_token"]))
            w("")
        words = evaluation.get("induction_common_words")
        if words:
            w(f"Induction score on random common words (the {words['vocabulary']} most frequent single-token English words, e.g. "
              f"`{words['example'].strip()}`; {words['rows']} sequences of {words['half']} distinct random words repeated twice): mean attention "
              "from the second copy of a word to the word after its first copy:\n")
            w(head_table(words["scores"]))
            w("")
        first = heads.get("prose") or next(iter(heads.values()))
        w(f"Induction score on random tokens of the whole vocabulary ({first['windows']} sequences of {first['repeat_length']} tokens repeated twice):\n")
        w(head_table(first["induction"]))
        best = max((v, l, h) for l, row in enumerate(first["previous_token"]) for h, v in enumerate(row))
        # Aided if any stage was: a head the aid shaped in stage 1 keeps that history after a continued stage 2.
        stage, aided = record, False
        while stage:
            aid = stage.get("previous_token_aid") or {}
            aided = aided or bool(aid.get("weight") and aid.get("steps"))
            stage = stage.get("resumed_from")
        w(f"\nBest previous-token head (English prose): layer {best[1]} head {best[2]} with {best[0]:.3f} "
          f"({'reaches' if best[0] >= 0.9 else 'does not reach'} the 0.9 target); "
          + ("the previous-token aid was used (see Training)." if aided else "trained without the previous-token aid (language-model loss only)."))
        if words:
            bi = max((v, l, h) for l, row in enumerate(words["scores"]) for h, v in enumerate(row))
            w(f"Best induction head (common words): layer {bi[1]} head {bi[2]} with {bi[0]:.3f} ({'reaches' if bi[0] >= 0.4 else 'does not reach'} the 0.4 target).")
        w("")

    w("## ONNX graph\n")
    opset = [o.version for o in onnx_model.opset_import if o.domain in ("", "ai.onnx")]
    w(f"`model.onnx`: exported with `torch.onnx.export` (TorchScript exporter, PyTorch {export['torch_version']}), opset {opset[0] if opset else export['onnx_opset']}, "
      f"checked with onnx {export['onnx_version']}'s checker.\n")
    w("| name | type | shape | meaning |\n|---|---|---|---|")
    w("| input `input_ids` | int64 | `[B, T]` (B, T dynamic; T ≤ " + str(P) + ") | token ids |")
    w(f"| output `logits` | float32 | `[B, T, {V}]` | next-token logits at every position |")
    w(f"| output `attentions` | float32 | `[{L}, B, {H}, T, T]` | softmax attention probabilities of every layer and head: "
      "`attentions[l, b, h, t, s]` = weight of key `s` for query `t`; rows sum to 1 and entries with `s > t` are exactly 0 |")
    w("\nNo attention mask or position ids input: positions are `0..T-1`, and each row of the batch is one unpadded sequence.")
    if onnx_check:
        rows = "; ".join(f"T={r['T']} (B={r['B']}): attention max |Δ| {r['attentionDiff']:.1e}, logits {r['logitDiff']:.1e}" for r in onnx_check["results"])
        w(f"\nChecked with onnxruntime-node {onnx_check['onnxruntime']} (Node {node_version()}) against PyTorch on held-out tokens: {rows}.")
    w("")

    w("## Limitations\n")
    w("- Tiny and briefly trained: its predictions are weak and it should not be used to generate text. It is meant to produce interpretable attention maps.")
    w("- Trained only on Python, TypeScript declarations, technical English (Python documentation, npm READMEs), English fortunes, an old "
      "dictionary and technical or literary Chinese (Debian manuals, man pages, fortunes and classical poems); other languages and domains are "
      "out of distribution, and the Chinese part is much smaller than the English one.")
    w("- Windows were cut at random offsets in a stream of concatenated files, so position 0 is usually mid-document; "
      f"the model saw `{END_OF_TEXT}` only between documents.\n")

    w("## Reproduce\n")
    w("`npm run train` (= `bash tools/train/train.sh`) on a machine with Debian's `python3-venv python3-doc manpages-zh debian-reference-zh-cn "
      "fortunes-zh debian-edu-doc-zh-cn gimp-help-zh-cn fortunes dict-gcide dict-devil wordnet-base` packages, a pip index with PyTorch 2.x "
      "(the script makes `tools/train/work/venv` from `tools/train/requirements.txt`; Debian's `python3-torch python3-onnx python3-regex "
      "python3-numpy libopenblas0-pthread` are the fallback) and this repository's npm dependencies; `npm run train -- --steps 20 --tiny` "
      "is the smoke test.")

    with open(os.path.join(args.out, "MODEL_CARD.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
