"""Export the trained checkpoint as a Hugging Face-style GPT-2 folder plus an ONNX graph.

work/out/default/
  config.json            GPT2Config keys
  model.safetensors      HF GPT-2 tensor names (transformer.*), Conv1D weights as [in, out], float32
  tokenizer.json         + tokenizer_config.json, copied from work/tokenizer/
  model.onnx             input_ids int64 [B, T] -> logits [B, T, V], attentions [L, B, H, T, T]
work/verify/
  reference_T{n}.json + .attentions.f32 + .logits.f32   PyTorch outputs on held-out tokens, for verify_onnx.cjs

Checks on the way: safetensors read back into a fresh model reproduces the logits; onnx.checker passes.
"""
import argparse
import inspect
import json
import os
import shutil

import numpy as np
import onnx
import torch

from common import END_OF_TEXT, log, read_json, work_path, write_json
from model import GPT2, GPT2Settings
from safetensors_io import read_safetensors, write_safetensors

CONV1D_LAYERS = ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")
REFERENCE_LENGTHS = (16, 128, 300, 512)


def to_hf_tensors(model):
    """Our parameter names -> HF GPT-2 names; torch Linear [out, in] -> Conv1D [in, out]."""
    tensors = {}
    for name, tensor in model.state_dict().items():
        if name.endswith("causal"):
            continue
        array = tensor.detach().cpu().numpy().astype(np.float32)
        if name.endswith(".weight") and any(layer in name for layer in CONV1D_LAYERS):
            array = array.T
        tensors["transformer." + name] = np.ascontiguousarray(array)
    return tensors


def from_hf_tensors(tensors, model):
    state = {}
    for name, array in tensors.items():
        ours = name[len("transformer."):]
        if ours.endswith(".weight") and any(layer in ours for layer in CONV1D_LAYERS):
            array = array.T
        state[ours] = torch.from_numpy(np.array(array))
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("causal")]
    if missing or unexpected:
        raise ValueError(f"safetensors mapping mismatch: missing {missing}, unexpected {unexpected}")


def gpt2_config(settings, eot_id):
    return {
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "vocab_size": settings.vocab_size,
        "n_positions": settings.n_positions,
        "n_ctx": settings.n_positions,
        "n_embd": settings.n_embd,
        "n_layer": settings.n_layer,
        "n_head": settings.n_head,
        "n_inner": None,
        "activation_function": "gelu_new",
        "layer_norm_epsilon": settings.layer_norm_epsilon,
        "initializer_range": 0.02,
        "resid_pdrop": 0.0,
        "embd_pdrop": 0.0,
        "attn_pdrop": 0.0,
        "scale_attn_weights": True,
        "tie_word_embeddings": True,
        "use_cache": False,
        "bos_token_id": eot_id,
        "eos_token_id": eot_id,
        "torch_dtype": "float32",
    }


class OnnxWrapper(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        return self.model(input_ids, return_attentions=True)


def export_onnx(model, path):
    example = torch.zeros(1, 8, dtype=torch.int64)
    # PyTorch >= 2.9 defaults to the torch.export-based exporter; the TorchScript one gives the graph shape
    # (one stacked `attentions` output, dynamic T) that the extension and verify_onnx.cjs expect.
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(
        OnnxWrapper(model), (example,), path,
        input_names=["input_ids"], output_names=["logits", "attentions"],
        dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                      "logits": {0: "batch", 1: "sequence"},
                      "attentions": {1: "batch", 3: "sequence", 4: "sequence"}},
        # No constant folding: it would store the tied embedding a second time, transposed, for the LM head.
        opset_version=17, do_constant_folding=False, **legacy)
    tie_duplicate_initializers(path)
    onnx.checker.check_model(onnx.load(path))


def tie_duplicate_initializers(path, min_elements=100_000):
    """The TorchScript exporter still stores the tied embedding twice (the LM head's copy transposed), which
    costs vocabulary × d_model × 4 bytes. Each large initializer that equals another one, or its transpose,
    is replaced by that one (through a Transpose node), so the weights are stored once."""
    from onnx import helper, numpy_helper
    model = onnx.load(path)
    graph = model.graph
    arrays = {init.name: numpy_helper.to_array(init) for init in graph.initializer if np.prod(init.dims) >= min_elements}
    names = sorted(arrays)
    replaced, nodes = {}, []
    for i, keep in enumerate(names):
        if keep in replaced:
            continue
        for other in names[i + 1:]:
            if other in replaced:
                continue
            a, b = arrays[keep], arrays[other]
            if a.shape == b.shape and np.array_equal(a, b):
                replaced[other] = keep
            elif a.ndim == 2 and b.shape == a.shape[::-1] and np.array_equal(a.T, b):
                nodes.append(helper.make_node("Transpose", [keep], [other + "__tied"], perm=[1, 0], name=other + "__tied"))
                replaced[other] = other + "__tied"
    if not replaced:
        return
    for node in graph.node:
        for k, name in enumerate(node.input):
            if name in replaced:
                node.input[k] = replaced[name]
    kept = [init for init in graph.initializer if init.name not in replaced]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    for node in reversed(nodes):
        graph.node.insert(0, node)
    onnx.save(model, path)
    log(f"export: stored once: {', '.join(f'{k} -> {v}' for k, v in replaced.items())}")


def held_out_ids(length, which=0):
    """A deterministic window of held-out tokens; which=0 picks code, 1 prose (where both exist)."""
    names = [n for n in ("val_code", "val_prose", "val_zh") if os.path.exists(work_path("tokens", f"{n}.u16"))]
    stream = np.fromfile(work_path("tokens", f"{names[which % len(names)]}.u16"), dtype=np.uint16).astype(np.int64)
    if len(stream) < length:
        stream = np.resize(stream, length)  # tiny corpora only
    start = (len(stream) - length) // 3
    return stream[start:start + length]


@torch.no_grad()
def write_references(model, out_dir):
    for index, length in enumerate(REFERENCE_LENGTHS):
        ids = held_out_ids(length, index)
        logits, attentions = model(torch.from_numpy(ids)[None, :], return_attentions=True)
        base = os.path.join(out_dir, f"reference_T{length}")
        attentions.numpy().astype("<f4").tofile(base + ".attentions.f32")
        logits.numpy().astype("<f4").tofile(base + ".logits.f32")
        write_json(base + ".json", {"input_ids": ids.tolist(), "attentions_shape": list(attentions.shape),
                                    "logits_shape": list(logits.shape)}, indent=None)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=work_path("out", "default", "x")[:-2])
    args = parser.parse_args()
    torch.set_num_threads(2)

    checkpoint = torch.load(work_path("ckpt", "model.pt"))
    settings = GPT2Settings(**checkpoint["settings"])
    model = GPT2(settings)
    model.load_state_dict(checkpoint["state_dict"])
    model.eval()
    os.makedirs(args.out, exist_ok=True)

    tokenizer = read_json(work_path("tokenizer", "tokenizer.json"))
    eot_id = tokenizer["model"]["vocab"][END_OF_TEXT]
    write_json(os.path.join(args.out, "config.json"), gpt2_config(settings, eot_id))
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(work_path("tokenizer", name), os.path.join(args.out, name))
    # How the weights were trained (steps, schedule, curves, earlier stages): what a later run that starts from this
    # folder (train.sh --transplant-from) keeps as its first stage in the model card.
    write_json(os.path.join(args.out, "training_record.json"), checkpoint["record"])

    safetensors_path = os.path.join(args.out, "model.safetensors")
    write_safetensors(safetensors_path, to_hf_tensors(model), {"format": "pt"})
    reloaded = GPT2(settings)
    from_hf_tensors(read_safetensors(safetensors_path), reloaded)
    reloaded.eval()
    probe = torch.from_numpy(held_out_ids(64))[None, :]
    with torch.no_grad():
        difference = (model(probe) - reloaded(probe)).abs().max().item()
    if difference != 0.0:
        raise RuntimeError(f"safetensors round trip changed the logits by {difference}")
    log(f"export: {safetensors_path} round-trips exactly")

    onnx_path = os.path.join(args.out, "model.onnx")
    export_onnx(model, onnx_path)
    log(f"export: {onnx_path} passes onnx.checker")

    verify_dir = work_path("verify", "x")[:-2]
    os.makedirs(verify_dir, exist_ok=True)
    write_references(model, verify_dir)
    sizes = {n: os.path.getsize(os.path.join(args.out, n)) for n in sorted(os.listdir(args.out))}
    total = sum(sizes.values())
    log("export: " + ", ".join(f"{n} {s / 1e6:.2f} MB" for n, s in sizes.items()) + f"; total {total / 1e6:.2f} MB")
    if total > 39e6:
        raise RuntimeError(f"model folder is {total / 1e6:.1f} MB, over the 40 MB budget (39 MB without the card)")
    write_json(work_path("export.json"), {"files": sizes, "total_bytes": total, "onnx_opset": 17,
                                          "torch_version": torch.__version__, "onnx_version": onnx.__version__})


if __name__ == "__main__":
    main()
