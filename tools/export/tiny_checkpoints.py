"""Tiny random-weight transformers checkpoints built from configs (no download), and PyTorch's eager attention.

  python tools/export/tiny_checkpoints.py OUT_DIR --tokenizer tokenizer.json --ids 1,2,3 --decoder-ids 0,5,6

Writes OUT_DIR/<name>/ with save_pretrained (config.json, model.safetensors, tokenizer files) for:

  gpt2        GPT2LMHeadModel                                  2 layers, 2 heads, width 32
  llama-gqa   LlamaForCausalLM, grouped-query (4 query, 2 K/V heads), rotary positions
  bert-base   BertModel: a base encoder with no head (--task auto must export it as an encoder)
  t5          T5ForConditionalGeneration (relative position bias, decoder start 0)

and OUT_DIR/<name>/reference.json: the ids, and PyTorch's eager attention for them, batch 0, one
flat list per layer: {"attentions": [...]} or {"encoder_attentions", "decoder_attentions",
"cross_attentions"}. Used by test/export/hfReal.test.ts, which exports these folders with the real
hf_to_model_folder.py and reads them back with the extension's ONNX backend.
"""
import argparse
import json
import os

import torch
from transformers import (BertConfig, BertModel, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM,
                          PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration)


def specs(vocab):
    common = dict(vocab_size=vocab)
    return {
        "gpt2": (GPT2Config(n_positions=64, n_embd=32, n_layer=2, n_head=2, bos_token_id=0, eos_token_id=0, **common),
                 GPT2LMHeadModel),
        "llama-gqa": (LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                               num_attention_heads=4, num_key_value_heads=2,
                                               max_position_embeddings=64, tie_word_embeddings=False, **common),
                      LlamaForCausalLM),
        "bert-base": (BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                              intermediate_size=64, max_position_embeddings=64, **common),
                      BertModel),
        "t5": (T5Config(d_model=32, d_kv=16, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=2,
                                     decoder_start_token_id=0, pad_token_id=0, eos_token_id=1, **common),
               T5ForConditionalGeneration),
    }


def flat(tensors):
    return [tensor[0].float().reshape(-1).tolist() for tensor in tensors]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--ids", required=True)
    parser.add_argument("--decoder-ids", required=True)
    parser.add_argument("--only", default="", help="comma-separated names (default: all)")
    args = parser.parse_args()
    ids = [int(value) for value in args.ids.split(",")]
    decoder_ids = [int(value) for value in args.decoder_ids.split(",")]
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=args.tokenizer)
    wanted = [name for name in args.only.split(",") if name]
    for name, (config, model_class) in specs(len(tokenizer)).items():
        if wanted and name not in wanted:
            continue
        torch.manual_seed(0)
        config._attn_implementation = "eager"
        model = model_class(config).eval()
        folder = os.path.join(args.out_dir, name)
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        feeds = {"input_ids": torch.tensor([ids])}
        if config.is_encoder_decoder:
            feeds["decoder_input_ids"] = torch.tensor([decoder_ids])
        with torch.no_grad():
            outputs = model(**feeds, output_attentions=True, use_cache=False, return_dict=True)
        reference = {"input_ids": ids}
        if config.is_encoder_decoder:
            reference["decoder_input_ids"] = decoder_ids
            for key in ("encoder_attentions", "decoder_attentions", "cross_attentions"):
                reference[key] = flat(getattr(outputs, key))
        else:
            reference["attentions"] = flat(outputs.attentions)
        with open(os.path.join(folder, "reference.json"), "w", encoding="utf-8") as handle:
            json.dump(reference, handle)
        print(f"{name}: {type(model).__name__}, {sum(p.numel() for p in model.parameters())} parameters")


if __name__ == "__main__":
    main()
