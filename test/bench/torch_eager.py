#!/usr/bin/env python3
"""PyTorch eager for `npm run bench`: a long-lived process driven over stdin/stdout, one JSON object a line.

The bench (test/bench/torchEager.ts) starts it once and sends one request per timed run, so PyTorch's
runs interleave with the other backends' in the same rounds. Requests and replies:

  {"cmd": "load", "dir": D}                     -> {"ok": true, "torch": "2.x", "transformers": "5.x"}
        GPT2LMHeadModel from D/config.json + D/model.safetensors (offline), eager attention, fp32, eval,
        one thread (torch.set_num_threads(1)); the tokenizer from D/tokenizer.json (`tokenizers`).
  {"cmd": "run", "text": S, "ids": [..]}        -> {"ok": true, "ms": x, "tokensMatch": bool}
        Timed: tokenizing S and one forward pass with output_attentions=True under torch.inference_mode(),
        logits for the last position only (the built-in block computes no others). The TypeScript side's
        ids say which tokens to run: when `tokenizers` gives the same ids (tokensMatch) those run, else
        the given ids (tokenization is still timed, so both sides pay for it).
  {"cmd": "export", "out": F, "exportTools": DIR}         -> {"ok": true}
        Writes the loaded model as ONNX to F with tools/export/export_core.py (the exporter users run):
        inputs input_ids and attention_mask, attention as explicit outputs, logits for every position.
  {"cmd": "quit"}                               -> exits
Errors: {"ok": false, "error": "..."}; the process stays up.
"""
import json
import os
import sys
import time


def reply(value):
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


def main():
    import torch
    import transformers
    from tokenizers import Tokenizer

    torch.set_num_threads(1)
    state = {}

    def load(request):
        folder = request["dir"]
        model = transformers.GPT2LMHeadModel.from_pretrained(folder, attn_implementation="eager", local_files_only=True)
        model.eval()
        state["model"] = model
        state["tokenizer"] = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
        return {"ok": True, "torch": torch.__version__, "transformers": transformers.__version__}

    def run(request):
        model, tokenizer = state["model"], state["tokenizer"]
        wanted = request["ids"]
        started = time.perf_counter()
        ids = tokenizer.encode(request["text"]).ids
        match = ids == wanted
        with torch.inference_mode():
            input_ids = torch.tensor([ids if match else wanted], dtype=torch.long)
            outputs = model(input_ids=input_ids, output_attentions=True, use_cache=False, logits_to_keep=1)
        elapsed = (time.perf_counter() - started) * 1000
        if len(outputs.attentions) != model.config.n_layer or outputs.attentions[0].shape[-1] != len(wanted):
            raise RuntimeError(f"unexpected attention shape {tuple(outputs.attentions[0].shape)}")
        return {"ok": True, "ms": elapsed, "tokensMatch": match}

    def export(request):
        sys.path.insert(0, request["exportTools"])
        from export_core import export_onnx, quiet_known_warnings  # noqa: E402  (tools/export, found at run time)
        with quiet_known_warnings():
            export_onnx(state["model"], request["out"], task="causal-lm", ids=list(range(1, 10)), attention_outputs=True)
        return {"ok": True}

    handlers = {"load": load, "run": run, "export": export}
    reply({"ok": True, "ready": True})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            request = json.loads(line)
            if request.get("cmd") == "quit":
                return
            handler = handlers.get(request.get("cmd"))
            if handler is None:
                raise ValueError(f"unknown command {request.get('cmd')!r}")
            reply(handler(request))
        except Exception as error:  # the bench reports it and goes on without PyTorch
            reply({"ok": False, "error": f"{type(error).__name__}: {error}"})


if __name__ == "__main__":
    try:
        main()
    except ImportError as error:
        reply({"ok": False, "error": f"ImportError: {error}", "missing": True})
