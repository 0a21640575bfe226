"""The torch-only half of the exporter: wraps a model, exports it to ONNX and writes a model folder.

Nothing here imports transformers. A model only has to follow the Hugging Face calling convention:
it takes keyword tensors (input_ids, attention_mask, ...) and the flags output_attentions /
use_cache / return_dict where it accepts them, and returns a mapping or object with `logits` (or
`last_hidden_state`) and `attentions` (decoder- or encoder-only) or `encoder_attentions`,
`decoder_attentions`, `cross_attentions` (encoder-decoder), one [B, H, T, S] tensor per layer.
hf_to_model_folder.py feeds it transformers models; selftest.py feeds it tiny hand-written ones.

The folder it writes is what Attention Inspector reads:
  model.onnx        inputs the extension fills, `logits` (or `last_hidden_state`) and, on request,
                    attention outputs: `attentions` [L, B, H, T, T] for single-stack models, or
                    `encoder_attentions.N`, `decoder_attentions.N`, `cross_attentions.N` [B, H, T, S]
  model.onnx.data   only for models too large for one protobuf (over 2 GiB)
  tokenizer.json    (+ tokenizer_config.json when the caller has one)
  config.json
"""
import contextlib
import inspect
import json
import os
import shutil
import tempfile
import warnings

import numpy as np
import onnx
import torch

TASKS = ("causal-lm", "masked-lm", "seq2seq", "encoder")

# Attention that never becomes a tensor: graph surgery cannot expose it (see src/core/onnx/fusedOps.ts).
FUSED_ATTENTION_OPS = {
    "Attention", "MultiHeadAttention", "GroupQueryAttention", "PackedAttention", "PackedMultiHeadAttention",
    "DecoderMaskedMultiHeadAttention", "DecoderMaskedSelfAttention", "DecoderAttention", "LongformerAttention",
    "SparseAttention", "PagedAttention", "QAttention", "RelativePositionBiasAttention", "MultiHeadAttentionWithBias",
}

# The inputs src/core/onnx/inputs.ts knows how to fill (batch 1, no past).
EXTENSION_INPUTS = ("input_ids", "attention_mask", "token_type_ids", "position_ids", "decoder_input_ids",
                    "decoder_attention_mask", "decoder_position_ids", "encoder_attention_mask", "cache_position")

SEQ2SEQ_GROUPS = ("encoder_attentions", "decoder_attentions", "cross_attentions")


class ExportError(Exception):
    """A problem with the model or the export that the user can act on; the message says how."""


def forward_parameters(model):
    """(names model.forward declares, whether it also takes **kwargs).

    transformers models declare their tensor inputs by name; recent versions take output_attentions
    and return_dict through **kwargs instead of naming them.
    """
    parameters = inspect.signature(model.forward).parameters.values()
    named = {p.name for p in parameters if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)}
    return named, any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def input_names_for(model, task):
    """The graph inputs for `task`: those model.forward declares, among the ones the extension fills.

    No position_ids: every supported architecture derives positions itself when they are absent,
    and the extension would only fill 0..T-1 anyway. token_type_ids only for encoders (GPT-2 takes
    them too, but a decoder's graph is simpler without).
    """
    if task not in TASKS:
        raise ExportError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    named, _ = forward_parameters(model)
    if "input_ids" not in named:
        raise ExportError("the model's forward takes no input_ids; only token-id models can be exported")
    names = ["input_ids"]
    if "attention_mask" in named:
        names.append("attention_mask")
    if task in ("masked-lm", "encoder") and "token_type_ids" in named:
        names.append("token_type_ids")
    if task == "seq2seq":
        if "decoder_input_ids" not in named:
            raise ExportError("task seq2seq needs a model whose forward takes decoder_input_ids")
        names.append("decoder_input_ids")
        if "decoder_attention_mask" in named:
            names.append("decoder_attention_mask")
    return names


def call_flags(model, output_attentions):
    """output_attentions, no KV cache, a named output: each where model.forward names it or takes **kwargs."""
    named, takes_kwargs = forward_parameters(model)
    wanted = {"output_attentions": output_attentions, "use_cache": False, "return_dict": True}
    return {key: value for key, value in wanted.items() if takes_kwargs or key in named}


def _field(outputs, name):
    """outputs[name] for mappings (transformers' ModelOutput drops None fields), else the attribute."""
    if isinstance(outputs, dict):
        return outputs.get(name)
    return getattr(outputs, name, None)


def main_output_name(outputs):
    """'logits' when the model has a head, else 'last_hidden_state' (e.g. AutoModel encoders)."""
    for name in ("logits", "last_hidden_state"):
        if _field(outputs, name) is not None:
            return name
    raise ExportError("the model returned neither logits nor last_hidden_state")


class ExportWrapper(torch.nn.Module):
    """Positional tensors in `input_names` order -> (main output, *attention outputs).

    torch.onnx.export traces positional arguments, so the keyword inputs a transformers model wants
    are rebuilt here. With attention_outputs the probabilities the model returns become graph
    outputs; without, the graph still computes them (eager attention) and the extension finds the
    Softmax nodes by graph surgery.
    """

    def __init__(self, model, input_names, task, attention_outputs, main_output="logits"):
        super().__init__()
        self.model = model
        self.input_names = list(input_names)
        self.task = task
        self.attention_outputs = attention_outputs
        self.main_output = main_output
        self.flags = call_flags(model, attention_outputs)

    def forward(self, *inputs):
        outputs = self.model(**dict(zip(self.input_names, inputs)), **self.flags)
        main = _field(outputs, self.main_output)
        if not self.attention_outputs:
            return main
        groups = attention_groups(outputs, self.task)
        if self.task == "seq2seq":
            return (main, *[tensor for name in SEQ2SEQ_GROUPS for tensor in groups[name]])
        return main, torch.stack(groups["attentions"])  # L x [B, H, T, T] -> [L, B, H, T, T]


def attention_groups(outputs, task):
    """The model's attention tensors by output group, each a list of [B, H, T, S] per layer."""
    names = SEQ2SEQ_GROUPS if task == "seq2seq" else ("attentions",)
    groups = {}
    for name in names:
        tensors = _field(outputs, name)
        if not tensors:
            raise ExportError(
                f"the model returned no {name} with output_attentions=True. It probably does not compute attention "
                "eagerly (load it with attn_implementation=\"eager\"), or it is not a "
                f"{'encoder-decoder' if task == 'seq2seq' else 'single-stack'} model (choose another --task).")
        groups[name] = list(tensors)
    return groups


def output_names_for(task, layer_counts, main_output, attention_outputs):
    """Graph output names; layer_counts maps each attention group to its number of layers."""
    if not attention_outputs:
        return [main_output]
    if task != "seq2seq":
        return [main_output, "attentions"]
    return [main_output] + [f"{group}.{layer}" for group in SEQ2SEQ_GROUPS for layer in range(layer_counts[group])]


def dynamic_axes_for(input_names, output_names):
    """Batch and sequence axes of every input and output are dynamic; decoder streams have their own length."""
    main_axis = "decoder_sequence" if "decoder_input_ids" in input_names else "sequence"
    axes = {}
    for name in input_names:
        axes[name] = {0: "batch", 1: "decoder_sequence" if name.startswith("decoder_") else "sequence"}
    for name in output_names:
        if name == "attentions":
            axes[name] = {1: "batch", 3: "sequence", 4: "sequence"}  # [L, B, H, T, T]
        elif name.startswith("encoder_attentions."):
            axes[name] = {0: "batch", 2: "sequence", 3: "sequence"}  # [B, H, T, T]
        elif name.startswith("decoder_attentions."):
            axes[name] = {0: "batch", 2: "decoder_sequence", 3: "decoder_sequence"}
        elif name.startswith("cross_attentions."):
            axes[name] = {0: "batch", 2: "decoder_sequence", 3: "sequence"}  # [B, H, T_target, T_source]
        else:  # logits [B, T, V] of the decoder's positions when there is a decoder, hidden states alike
            axes[name] = {0: "batch", 1: main_axis}
    return axes


def example_feeds(input_names, ids, decoder_ids=None):
    """Batch-1 tensors the way the extension fills them: masks of ones, token types of zeros."""
    feeds = {}
    for name in input_names:
        if name == "input_ids":
            values = ids
        elif name in ("attention_mask",):
            values = [1] * len(ids)
        elif name == "token_type_ids":
            values = [0] * len(ids)
        elif name == "decoder_input_ids":
            values = decoder_ids
        elif name == "decoder_attention_mask":
            values = [1] * len(decoder_ids)
        else:
            raise ExportError(f"no example values for input {name}")
        if values is None or len(values) == 0:
            raise ExportError(f"{name} needs at least one token id")
        feeds[name] = torch.tensor([list(values)], dtype=torch.int64)
    return feeds


# Warnings every transformers export prints and that say nothing about this export (message, module that
# warns): the mask code's padding check (the extension always passes a mask as long as the input), the
# 0.0 it makes with torch.tensor, and the exporter's note on advanced indexing (the mask code indexes with
# non-negative positions). Anything else, another TracerWarning included, is shown; --check verifies the
# numbers either way, and hf_to_model_folder.py --all-warnings shows these too.
HARMLESS_WARNINGS = (
    (r"Converting a tensor to a Python boolean might cause the trace to be incorrect", r"transformers\.masking_utils"),
    (r"torch\.tensor results are registered as constants in the trace", r"transformers\.masking_utils"),
    (r"Exporting aten::index operator of advanced indexing", r"torch\.onnx\."),
)


@contextlib.contextmanager
def quiet_known_warnings(enabled=True):
    """Hides HARMLESS_WARNINGS inside the block; other warnings pass as usual."""
    with warnings.catch_warnings():
        if enabled:
            for message, module in HARMLESS_WARNINGS:
                warnings.filterwarnings("ignore", message=message, module=module)
        yield


def _onnx_export(module, args, path, input_names, output_names, dynamic_axes, opset):
    kwargs = dict(input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes,
                  opset_version=opset, do_constant_folding=True)
    # torch >= 2.5 has a dynamo exporter (the default from 2.9); it does not take dynamic_axes the same
    # way and may emit fused attention, so the TorchScript exporter is asked for by name.
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    torch.onnx.export(module, args, path, **kwargs)


def export_onnx(model, onnx_path, *, task, ids, decoder_ids=None, attention_outputs=False, opset=17, input_names=None):
    """Exports `model` (eval mode) to onnx_path; returns a summary of the graph (see graph_summary).

    ids / decoder_ids: the token ids traced. A model larger than protobuf's 2 GiB ends up as
    model.onnx + model.onnx.data beside it (one file, not torch's one-file-per-tensor).
    """
    model.eval()
    names = input_names or input_names_for(model, task)
    feeds = example_feeds(names, ids, decoder_ids)
    with torch.no_grad():
        probe = model(**feeds, **call_flags(model, True))
    main = main_output_name(probe)
    groups = attention_groups(probe, task) if attention_outputs else {}
    outputs = output_names_for(task, {name: len(tensors) for name, tensors in groups.items()}, main, attention_outputs)
    wrapper = ExportWrapper(model, names, task, attention_outputs, main).eval()

    target_dir = os.path.dirname(os.path.abspath(onnx_path))
    os.makedirs(target_dir, exist_ok=True)
    # Exported into a scratch folder first: large models come out as one file per tensor, gathered below.
    scratch = tempfile.mkdtemp(prefix=".export-", dir=target_dir)
    try:
        scratch_model = os.path.join(scratch, "model.onnx")
        with torch.no_grad():
            _onnx_export(wrapper, tuple(feeds[name] for name in names), scratch_model, names, outputs,
                         dynamic_axes_for(names, outputs), opset)
        data_path = onnx_path + ".data"
        if os.path.exists(data_path):
            os.remove(data_path)
        if os.listdir(scratch) == ["model.onnx"]:
            shutil.move(scratch_model, onnx_path)
        else:
            proto = onnx.load(scratch_model, load_external_data=True)
            onnx.save_model(proto, onnx_path, save_as_external_data=True, all_tensors_to_one_file=True,
                            location=os.path.basename(data_path), size_threshold=1024)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    onnx.checker.check_model(onnx_path)
    return graph_summary(onnx_path)


def graph_summary(onnx_path):
    """Inputs, outputs, Softmax count and any fused attention op of the main graph (weights not loaded)."""
    proto = onnx.load(onnx_path, load_external_data=False)
    graph = proto.graph
    initializers = {tensor.name for tensor in graph.initializer}
    fused = sorted({f"{node.domain}.{node.op_type}" if node.domain else node.op_type
                    for node in graph.node
                    if node.op_type in FUSED_ATTENTION_OPS and node.domain in ("", "ai.onnx", "com.microsoft")})
    return {
        "inputs": [value.name for value in graph.input if value.name not in initializers],
        "outputs": [value.name for value in graph.output],
        "softmax": sum(1 for node in graph.node if node.op_type == "Softmax"),
        "fused": fused,
        "opset": max((entry.version for entry in proto.opset_import if entry.domain in ("", "ai.onnx")), default=0),
    }


def summary_problems(summary, attention_outputs):
    """What would stop the extension from showing this graph's attention, as user-facing lines."""
    problems = []
    unknown = [name for name in summary["inputs"] if name not in EXTENSION_INPUTS]
    if unknown:
        problems.append(f"the graph has inputs the extension cannot fill: {', '.join(unknown)}")
    if summary["fused"]:
        problems.append(f"the graph computes attention with fused operators ({', '.join(summary['fused'])}), "
                        "whose probabilities cannot be read")
    if not attention_outputs and summary["softmax"] == 0:
        problems.append("the graph has no Softmax node, so graph surgery will find no attention; "
                        "re-run with --attention-outputs")
    return problems


def folder_config(config, *, task, generation=None, max_length=None, provenance=None):
    """config.json for the folder: the model's config, plus what the extension needs to drive it.

    For seq2seq, decoding starts from decoder_start_token_id and stops at eos_token_id; newer
    transformers keep those in generation_config only, so they are copied over when missing.
    max_length caps the input the extension feeds (it truncates to n_positions or
    max_position_embeddings); it may not exceed the model's own limit.
    """
    result = dict(config)
    for key in ("decoder_start_token_id", "eos_token_id", "bos_token_id", "pad_token_id", "max_length"):
        if result.get(key) is None and generation and generation.get(key) is not None:
            result[key] = generation[key]
    if task == "seq2seq":
        result["is_encoder_decoder"] = True
        if result.get("decoder_start_token_id") is None and result.get("pad_token_id") is None:
            raise ExportError("the model's config names no decoder_start_token_id (nor pad_token_id), "
                              "so the extension would not know how to start decoding")
    if max_length is not None:
        if max_length < 1:
            raise ExportError(f"--max-length must be positive, not {max_length}")
        limits = [result[key] for key in ("n_positions", "max_position_embeddings") if isinstance(result.get(key), int)]
        if limits and max_length > min(limits):
            raise ExportError(f"--max-length {max_length} exceeds the model's {min(limits)} positions")
        present = [key for key in ("n_positions", "max_position_embeddings") if key in result] or ["max_position_embeddings"]
        for key in present:
            result[key] = max_length
    if provenance:
        result["attention_inspector_export"] = provenance
    return result


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=2, ensure_ascii=False, default=str)
        handle.write("\n")


def write_model_folder(model, out_dir, *, task, ids, decoder_ids=None, config, tokenizer,
                       tokenizer_config=None, attention_outputs=False, opset=17, input_names=None):
    """Writes model.onnx, tokenizer.json (+ tokenizer_config.json) and config.json into out_dir.

    tokenizer: a path to a tokenizer.json to copy, or a callable(path) that writes one (e.g. a fast
    tokenizer's backend_tokenizer.save). tokenizer_config: a dict, or None. Returns the graph summary.
    """
    os.makedirs(out_dir, exist_ok=True)
    summary = export_onnx(model, os.path.join(out_dir, "model.onnx"), task=task, ids=ids, decoder_ids=decoder_ids,
                          attention_outputs=attention_outputs, opset=opset, input_names=input_names)
    tokenizer_path = os.path.join(out_dir, "tokenizer.json")
    if callable(tokenizer):
        tokenizer(tokenizer_path)
    elif os.path.abspath(tokenizer) != os.path.abspath(tokenizer_path):
        shutil.copyfile(tokenizer, tokenizer_path)
    if tokenizer_config is not None:
        write_json(os.path.join(out_dir, "tokenizer_config.json"), tokenizer_config)
    write_json(os.path.join(out_dir, "config.json"), config)
    return summary


# ---------------------------------------------------------------- checking against PyTorch

def pytorch_reference(model, task, feeds):
    """PyTorch's main output and attention for `feeds`, attention in graph order (numpy float32).

    Graph order is execution order: encoder layers, then per decoder layer its self and cross attention.
    """
    with torch.no_grad():
        outputs = model(**feeds, **call_flags(model, True))
    main = _field(outputs, main_output_name(outputs))
    groups = attention_groups(outputs, task)
    if task == "seq2seq":
        decoder = [t for pair in zip(groups["decoder_attentions"], groups["cross_attentions"]) for t in pair]
        ordered = groups["encoder_attentions"] + decoder
    else:
        ordered = groups["attentions"]
    return main.float().numpy(), [tensor.float().numpy() for tensor in ordered]


def check_with_onnxruntime(model, onnx_path, *, task, ids, decoder_ids=None):
    """Runs model.onnx with onnxruntime and PyTorch on the same ids; returns max |difference|.

    Attention is compared whether the graph has explicit outputs or not: without, every Softmax
    output of the main graph is added as an output first, as the extension's graph surgery does.
    Returns {"logits": float, "attentions": float or None, "attention_tensors": (onnx, torch)}.
    Raises ImportError when onnxruntime is missing.
    """
    import onnxruntime

    proto = onnx.load(onnx_path, load_external_data=False)
    graph_inputs = [value.name for value in proto.graph.input
                    if value.name not in {tensor.name for tensor in proto.graph.initializer}]
    outputs = [value.name for value in proto.graph.output]
    attention_names = [name for name in outputs if name == "attentions" or name.split(".")[0] in SEQ2SEQ_GROUPS]
    if not attention_names:
        softmax = [node.output[0] for node in proto.graph.node if node.op_type == "Softmax"]
        proto.graph.output.extend(onnx.ValueInfoProto(name=name) for name in softmax if name not in outputs)
        attention_names = softmax
    feeds = example_feeds(graph_inputs, ids, decoder_ids)
    # The external data (if any) sits beside onnx_path: hand onnxruntime the patched model by path.
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(onnx_path))) as scratch:
        patched = os.path.join(scratch, "patched.onnx")
        onnx.save_model(proto, patched)
        data = onnx_path + ".data"
        if os.path.exists(data):
            os.symlink(os.path.abspath(data), os.path.join(scratch, os.path.basename(data)))
        session = onnxruntime.InferenceSession(patched, providers=["CPUExecutionProvider"])
        results = session.run(None, {name: tensor.numpy() for name, tensor in feeds.items()})
    by_name = dict(zip([output.name for output in session.get_outputs()], results))
    main_ref, attention_ref = pytorch_reference(model, task, example_feeds(input_names_for(model, task), ids, decoder_ids))
    report = {"logits": float(np.abs(by_name[outputs[0]] - main_ref).max()), "attentions": None,
              "attention_tensors": (len(attention_names), len(attention_ref))}
    if attention_names == ["attentions"]:
        onnx_attention = list(by_name["attentions"])  # [L, B, H, T, T] -> L x [B, H, T, T]
    elif attention_names and attention_names[0].split(".")[0] in SEQ2SEQ_GROUPS:
        def layers(group):
            return [by_name[name] for name in attention_names if name.split(".")[0] == group]
        interleaved = [t for pair in zip(layers("decoder_attentions"), layers("cross_attentions")) for t in pair]
        onnx_attention = layers("encoder_attentions") + interleaved
    else:
        onnx_attention = [by_name[name] for name in attention_names]
    report["attention_tensors"] = (len(onnx_attention), len(attention_ref))
    if len(onnx_attention) == len(attention_ref):
        report["attentions"] = max(
            (float(np.abs(got.reshape(want.shape) - want).max()) for got, want in zip(onnx_attention, attention_ref)),
            default=0.0)
    return report
