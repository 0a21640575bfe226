#!/usr/bin/env python3
"""Turn a Hugging Face checkpoint into a model folder Attention Inspector can open.

  python3 tools/export/hf_to_model_folder.py CHECKPOINT OUT_DIR [options]

CHECKPOINT is a hub name (gpt2, distilgpt2, bert-base-uncased, t5-small...) or a local folder that
transformers can load. OUT_DIR receives:

  model.onnx       the model with eager (unfused) attention: inputs input_ids, attention_mask
                   (+ token_type_ids for encoders, + decoder_input_ids/decoder_attention_mask for
                   encoder-decoders), output logits (or last_hidden_state for --task encoder);
                   with --attention-outputs also the attention probabilities as outputs
  model.onnx.data  only for models over protobuf's 2 GiB
  tokenizer.json   the fast tokenizer (+ tokenizer_config.json)
  config.json      the model's config (+ decoder_start_token_id / eos_token_id for encoder-decoders)

Why eager: fused attention kernels (onnxruntime's Attention, MultiHeadAttention,
GroupQueryAttention; PyTorch's scaled_dot_product_attention) never write the attention
probabilities to a tensor, so nothing could show them. The model is loaded with
attn_implementation="eager" and exported with torch.onnx.export's TorchScript exporter, with no
onnxruntime/optimum optimisation pass. Without --attention-outputs the extension finds the
probabilities itself (graph surgery on the Softmax nodes); with it they are explicit outputs
(`attentions` [L, B, H, T, T], or `encoder_attentions.N`, `decoder_attentions.N`,
`cross_attentions.N` [B, H, T, S] for encoder-decoders), which also works when a graph's Softmax
nodes are hard to recognise.

--no-attention-mask leaves the masks out of the graph (the extension only passes ones), for
transformers versions whose mask code does not trace to a graph that works at every length.

Needs: python3 -m pip install torch transformers onnx   (and onnxruntime for --check)

Exit status: 0 written, 1 export failed, 2 bad arguments, 3 torch/onnx/transformers missing,
4 the checkpoint or result is unusable (the message says why), 5 --check found a mismatch.
See tools/export/README.md for examples and troubleshooting.
"""
import argparse
import importlib.util
import json
import os
import sys
import tempfile

TASKS = ("auto", "causal-lm", "masked-lm", "seq2seq", "encoder")
REQUIRED = ("torch", "onnx", "transformers")
INSTALL_HINT = "python3 -m pip install torch transformers onnx onnxruntime"
EXIT_FAILED, EXIT_MISSING, EXIT_UNUSABLE, EXIT_MISMATCH = 1, 3, 4, 5

# Traced text and checked text differ in length, so a sequence length frozen into the graph shows up in --check.
TRACE_TEXT = "Attention shows which tokens each token reads."
CHECK_TEXT = "The quick brown fox jumps over the lazy dog, because the dog was asleep in the warm afternoon sun."
ATTENTION_TOLERANCE = 1e-4
LOGITS_TOLERANCE = 1e-3


def build_parser():
    parser = argparse.ArgumentParser(
        prog="hf_to_model_folder.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Example: python3 tools/export/hf_to_model_folder.py distilgpt2 ~/models/distilgpt2 --check")
    parser.add_argument("checkpoint", metavar="CHECKPOINT", help="hub name or local folder of a transformers checkpoint")
    parser.add_argument("out_dir", metavar="OUT_DIR", help="model folder to write (created if needed)")
    parser.add_argument("--task", choices=TASKS, default="auto",
                        help="which head to export: causal-lm (GPT-2, Llama...), masked-lm (BERT...), seq2seq "
                             "(T5, BART...), encoder (no head: last_hidden_state). auto reads config.json")
    parser.add_argument("--attention-outputs", action="store_true",
                        help="add the attention probabilities as graph outputs instead of leaving them to the "
                             "extension's graph surgery")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    parser.add_argument("--max-length", type=int, default=None, metavar="N",
                        help="longest input (tokens) the extension should feed the model: written to config.json as "
                             "its position limit; must not exceed the model's own")
    parser.add_argument("--no-attention-mask", action="store_true",
                        help="leave attention_mask (and decoder_attention_mask) out of the graph; the extension only "
                             "passes masks of ones. Try it when --check reports a length frozen into the graph: "
                             "recent transformers' mask code does not always trace")
    parser.add_argument("--check", action="store_true",
                        help="run the exported model with onnxruntime (if installed) next to PyTorch on a sample "
                             "of another length and report the largest logits and attention differences")
    parser.add_argument("--all-warnings", action="store_true",
                        help="also show the warnings every transformers export prints and that are known to be harmless "
                             "(the mask code's TracerWarnings, aten::index); other warnings are always shown")
    parser.add_argument("--trust-remote-code", action="store_true",
                        help="let transformers run the checkpoint's own modelling code (only for checkpoints you trust)")
    return parser


def fail(code, message):
    print(f"hf_to_model_folder.py: error: {message}", file=sys.stderr)
    sys.exit(code)


def note(message):
    print(f"hf_to_model_folder.py: {message}", file=sys.stderr, flush=True)


def missing_packages(names=REQUIRED):
    return [name for name in names if importlib.util.find_spec(name) is None]


def require_packages():
    missing = missing_packages()
    if missing:
        fail(EXIT_MISSING, f"this script needs Python packages that are not installed: {', '.join(missing)}.\n"
                           f"  Install them with: {INSTALL_HINT}\n"
                           f"  (onnxruntime is optional: only --check uses it). Python: {sys.executable}")


def looks_like_path(checkpoint):
    return checkpoint.startswith(("/", "./", "../", "~")) or os.path.isabs(checkpoint) or os.path.exists(checkpoint)


def validate_paths(checkpoint, out_dir):
    """Local checkpoints must be folders with config.json; OUT_DIR must not be the checkpoint itself."""
    if looks_like_path(checkpoint):
        folder = os.path.expanduser(checkpoint)
        if not os.path.isdir(folder):
            fail(EXIT_UNUSABLE, f"checkpoint folder not found: {folder}")
        if not os.path.isfile(os.path.join(folder, "config.json")):
            fail(EXIT_UNUSABLE, f"{folder} has no config.json, so it is not a transformers checkpoint "
                                "(save one with model.save_pretrained(folder) and tokenizer.save_pretrained(folder))")
        if os.path.realpath(folder) == os.path.realpath(os.path.expanduser(out_dir)):
            fail(EXIT_UNUSABLE, "OUT_DIR is the checkpoint folder; write the model folder somewhere else")
    if os.path.isfile(out_dir):
        fail(EXIT_UNUSABLE, f"OUT_DIR {out_dir} is a file")


def detect_task(config):
    """seq2seq for encoder-decoders, else from the architecture's name, else from transformers' auto maps.

    A checkpoint saved from a base model (BertModel, RobertaModel, DistilBertModel, AlbertModel,
    DebertaV2Model...) or with a head the extension does not show (...ForSequenceClassification) has no
    language-model head: it is exported as an encoder, not as a masked LM with a freshly initialised
    head. Only a config that names no architecture falls back to what the model type usually is.
    """
    if getattr(config, "is_encoder_decoder", False):
        return "seq2seq"
    architectures = getattr(config, "architectures", None) or []
    for architecture in architectures:
        if architecture.endswith(("ForCausalLM", "LMHeadModel")):
            return "causal-lm"
        if architecture.endswith(("ForMaskedLM", "ForPreTraining")):
            return "masked-lm"
    if architectures:
        return "encoder"
    from transformers.models.auto import modeling_auto
    model_type = getattr(config, "model_type", None)
    if model_type in getattr(modeling_auto, "MODEL_FOR_MASKED_LM_MAPPING_NAMES", {}):
        return "masked-lm"
    if model_type in getattr(modeling_auto, "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES", {}):
        return "causal-lm"
    return "encoder"


AUTO_CLASSES = {"causal-lm": "AutoModelForCausalLM", "masked-lm": "AutoModelForMaskedLM",
                "seq2seq": "AutoModelForSeq2SeqLM", "encoder": "AutoModel"}


def from_pretrained(transformers, checkpoint, task, trust_remote_code, **extra):
    auto = getattr(transformers, AUTO_CLASSES[task])
    try:
        return auto.from_pretrained(checkpoint, attn_implementation="eager", trust_remote_code=trust_remote_code, **extra)
    except TypeError as error:
        if "attn_implementation" not in str(error):
            raise
        # Before transformers 4.36 there was no choice to make: models computed attention eagerly.
        note(f"transformers {transformers.__version__} has no attn_implementation (added in 4.36); loading "
             "without it, which gives eager attention in those versions")
        return auto.from_pretrained(checkpoint, trust_remote_code=trust_remote_code, **extra)


def head_is_missing(transformers, checkpoint, task, trust_remote_code):
    """True when loading as `task` would leave weights freshly initialised (a base checkpoint has no head).

    Asked quietly (transformers' own report is not printed): only for --task auto on configs that name
    no architecture, where the task is a guess from the model type.
    """
    logging = getattr(getattr(transformers, "utils", None), "logging", None)
    previous = logging.get_verbosity() if logging else None
    if logging:
        logging.set_verbosity_error()
    try:
        _, info = from_pretrained(transformers, checkpoint, task, trust_remote_code, output_loading_info=True)
    except (TypeError, ValueError):
        return False
    finally:
        if logging:
            logging.set_verbosity(previous)
    return bool(info.get("missing_keys")) if isinstance(info, dict) else False


def load_model(transformers, checkpoint, task, trust_remote_code):
    """The checkpoint with eager attention, float32, eval mode."""
    model = from_pretrained(transformers, checkpoint, task, trust_remote_code)
    implementation = getattr(model.config, "_attn_implementation", "eager")
    if implementation not in (None, "eager"):
        fail(EXIT_UNUSABLE, f"the model loaded with attention implementation {implementation!r}, not 'eager'; "
                            "its attention probabilities would not exist in the exported graph")
    return model.float().eval()


def load_tokenizer(transformers, checkpoint, trust_remote_code):
    tokenizer = transformers.AutoTokenizer.from_pretrained(checkpoint, use_fast=True, trust_remote_code=trust_remote_code)
    if not getattr(tokenizer, "is_fast", False) or getattr(tokenizer, "backend_tokenizer", None) is None:
        fail(EXIT_UNUSABLE,
             f"{checkpoint} has no fast tokenizer (transformers gave {type(tokenizer).__name__}), and the extension needs "
             "its tokenizer.json. If the sentencepiece or tiktoken package is missing, install it (python3 -m pip install "
             "sentencepiece protobuf tiktoken) so transformers can convert the slow tokenizer; some tokenizers "
             "(e.g. Marian's opus-mt) have no fast version at all")
    return tokenizer


def tokenizer_config_of(tokenizer):
    """tokenizer_config.json as save_pretrained writes it (special tokens, model_max_length...), or None."""
    with tempfile.TemporaryDirectory() as scratch:
        try:
            tokenizer.save_pretrained(scratch)
            with open(os.path.join(scratch, "tokenizer_config.json"), encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError, TypeError) as error:
            note(f"tokenizer_config.json not written ({error})")
            return None


def generation_settings(model):
    generation = getattr(model, "generation_config", None)
    return generation.to_dict() if generation is not None else {}


def decoder_start(config):
    for key in ("decoder_start_token_id", "pad_token_id", "bos_token_id"):
        value = config.get(key)
        if isinstance(value, int):
            return value
    return 0


def sample_ids(tokenizer, text, limit):
    ids = tokenizer(text)["input_ids"]
    return ids[:limit] if limit else ids


def report_sizes(out_dir):
    for name in sorted(os.listdir(out_dir)):
        size = os.path.getsize(os.path.join(out_dir, name))
        print(f"  {name:24s} {size / 1e6:10.2f} MB")


def run_check(export_core, model, onnx_path, task, ids, decoder_ids, traced_length):
    if importlib.util.find_spec("onnxruntime") is None:
        note("--check skipped: onnxruntime is not installed (python3 -m pip install onnxruntime)")
        return
    try:
        report = export_core.check_with_onnxruntime(model, onnx_path, task=task, ids=ids, decoder_ids=decoder_ids)
    except Exception as error:  # onnxruntime's own message says which node failed
        fail(EXIT_MISMATCH, f"onnxruntime could not run the exported model on {len(ids)} tokens (it was traced on "
                            f"{traced_length}): {error}\n  A length frozen into the graph looks like this; see 'fixed "
                            "sequence length' in tools/export/README.md")
    tensors_onnx, tensors_torch = report["attention_tensors"]
    print(f"check on {len(ids)} tokens: max |logits difference| {report['logits']:.3g}")
    if report["attentions"] is None:
        fail(EXIT_MISMATCH, f"the graph exposes {tensors_onnx} attention tensors (Softmax outputs) and PyTorch returned "
                            f"{tensors_torch}, so they cannot be paired; try --attention-outputs")
    print(f"check on {len(ids)} tokens: max |attention difference| {report['attentions']:.3g} over {tensors_torch} tensors")
    if report["attentions"] > ATTENTION_TOLERANCE or report["logits"] > LOGITS_TOLERANCE:
        fail(EXIT_MISMATCH, "onnxruntime and PyTorch disagree beyond the tolerance "
                            f"(attention {ATTENTION_TOLERANCE}, logits {LOGITS_TOLERANCE}); see 'fixed sequence length' "
                            "in tools/export/README.md")


def main(argv=None):
    args = build_parser().parse_args(argv)
    require_packages()
    validate_paths(args.checkpoint, args.out_dir)
    try:
        import torch
        import transformers
    except ImportError as error:
        fail(EXIT_MISSING, f"importing torch/transformers failed: {error}\n  Reinstall them with: {INSTALL_HINT}")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import export_core

    torch.set_grad_enabled(False)
    out_dir = os.path.expanduser(args.out_dir)
    try:
        config = transformers.AutoConfig.from_pretrained(args.checkpoint, trust_remote_code=args.trust_remote_code)
        task = detect_task(config) if args.task == "auto" else args.task
        if (args.task == "auto" and task in ("masked-lm", "causal-lm") and not getattr(config, "architectures", None)
                and head_is_missing(transformers, args.checkpoint, task, args.trust_remote_code)):
            note(f"{args.checkpoint} has no {task} head (its weights are not in the checkpoint): exporting the base model "
                 "as an encoder; pass --task to choose otherwise")
            task = "encoder"
        note(f"loading {args.checkpoint} as {task} with eager attention")
        model = load_model(transformers, args.checkpoint, task, args.trust_remote_code)
        tokenizer = load_tokenizer(transformers, args.checkpoint, args.trust_remote_code)
    except (OSError, ValueError, KeyError) as error:
        # Not found, offline, gated, or no class for this task: transformers' message says which.
        fail(EXIT_UNUSABLE, f"cannot load {args.checkpoint}{'' if args.task == 'auto' else ' as ' + args.task}: "
                            f"{type(error).__name__}: {error}")

    try:
        folder_config = export_core.folder_config(
            model.config.to_dict(), task=task, generation=generation_settings(model), max_length=args.max_length,
            provenance={"script": "tools/export/hf_to_model_folder.py", "checkpoint": args.checkpoint, "task": task,
                        "attention_outputs": args.attention_outputs, "attention_mask": not args.no_attention_mask,
                        "opset": args.opset, "torch": torch.__version__, "transformers": transformers.__version__})
        input_names = export_core.input_names_for(model, task)
    except export_core.ExportError as error:
        fail(EXIT_UNUSABLE, str(error))
    if args.no_attention_mask:
        input_names = [name for name in input_names if name not in ("attention_mask", "decoder_attention_mask")]
    limit = args.max_length or min([v for k, v in folder_config.items()
                                    if k in ("n_positions", "max_position_embeddings") and isinstance(v, int)] or [0])
    trace_ids = sample_ids(tokenizer, TRACE_TEXT, limit)
    check_ids = sample_ids(tokenizer, CHECK_TEXT, limit)
    if len(trace_ids) == len(check_ids) and len(trace_ids) > 1:
        trace_ids = trace_ids[:-1]  # both cut to --max-length: keep the lengths apart
    start = decoder_start(folder_config)
    trace_decoder = [start] + trace_ids[:3] if task == "seq2seq" else None
    check_decoder = [start] + check_ids[:6] if task == "seq2seq" else None

    note(f"exporting to {os.path.join(out_dir, 'model.onnx')} (opset {args.opset}"
         f"{', attention outputs' if args.attention_outputs else ''})")
    try:
        with export_core.quiet_known_warnings(not args.all_warnings):
            summary = export_core.write_model_folder(
                model, out_dir, task=task, ids=trace_ids, decoder_ids=trace_decoder, config=folder_config,
                tokenizer=lambda path: tokenizer.backend_tokenizer.save(path), tokenizer_config=tokenizer_config_of(tokenizer),
                attention_outputs=args.attention_outputs, opset=args.opset, input_names=input_names)
    except export_core.ExportError as error:
        fail(EXIT_UNUSABLE, str(error))
    except Exception as error:  # the exporter's own errors are long; keep them, then say what to try
        fail(EXIT_FAILED, f"torch.onnx.export failed: {type(error).__name__}: {error}\n  Try --no-attention-mask, another "
                          "--opset, or another torch/transformers version; see tools/export/README.md")

    print(f"wrote {out_dir}:")
    report_sizes(out_dir)
    print(f"  inputs:  {', '.join(summary['inputs'])}")
    print(f"  outputs: {', '.join(summary['outputs'])}")
    if not args.attention_outputs:
        print(f"  attention: found by graph surgery ({summary['softmax']} Softmax nodes)")
    problems = export_core.summary_problems(summary, args.attention_outputs)
    if problems:
        fail(EXIT_UNUSABLE, "the folder was written, but the extension could not show its attention: " + "; ".join(problems))
    if args.check:
        run_check(export_core, model, os.path.join(out_dir, "model.onnx"), task, check_ids, check_decoder, len(trace_ids))
    print(f"open it with: npx attention-inspector run --model {out_dir} --text \"...\"   "
          "(or VS Code: Attention Inspector: Choose Model…)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
