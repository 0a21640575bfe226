"""A stand-in for the few transformers APIs hf_to_model_folder.py calls, backed by selftest.py's tiny models.

Only for tests (test/unit/exportGuide.test.ts): with this folder's parent on PYTHONPATH the CLI runs
end to end where transformers is not installed and no checkpoint can be downloaded. It is NOT a
transformers replacement; real exports need the real library.

Checkpoints: tiny-gpt2 (causal LM), tiny-bert (masked LM), tiny-seq2seq (encoder-decoder whose
decoder_start_token_id lives only in its generation config, as in recent transformers).
Environment:
  FAKE_TRANSFORMERS_TOKENIZER  tokenizer.json that backend_tokenizer.save copies (required)
  FAKE_TRANSFORMERS_MODE       'old': from_pretrained rejects attn_implementation (transformers < 4.36);
                               'slow-tokenizer': AutoTokenizer has no fast version;
                               'sdpa': the model reports a fused attention implementation;
                               'fixed-length': the causal LM's graph freezes the traced length
"""
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import selftest  # noqa: E402

__version__ = "0.0.fake"
# The vocabulary of the tokenizer the fake serves (FAKE_TRANSFORMERS_TOKENIZER), so its ids fit the tiny models.
VOCAB = selftest.tokenizer_vocab_size(os.environ["FAKE_TRANSFORMERS_TOKENIZER"]) if os.environ.get("FAKE_TRANSFORMERS_TOKENIZER") else 4096
CHECKPOINTS = {
    "tiny-gpt2": dict(architectures=["GPT2LMHeadModel"], model_type="gpt2", n_positions=64, n_layer=2, n_head=2, n_embd=32),
    "tiny-bert": dict(architectures=["BertForMaskedLM"], model_type="bert", max_position_embeddings=64,
                      num_hidden_layers=2, num_attention_heads=2, hidden_size=32),
    "tiny-seq2seq": dict(architectures=["TinySeq2SeqForConditionalGeneration"], model_type="tiny-seq2seq",
                         is_encoder_decoder=True, max_position_embeddings=64, num_layers=2, d_model=32, pad_token_id=None),
}
GENERATION = {"tiny-seq2seq": {"decoder_start_token_id": 0, "eos_token_id": 1}}


def _mode():
    return os.environ.get("FAKE_TRANSFORMERS_MODE", "")


def _known(name):
    if name not in CHECKPOINTS:
        raise OSError(f"{name} is not a checkpoint of the fake transformers (it knows {', '.join(CHECKPOINTS)})")
    return name


class PretrainedConfig:
    def __init__(self, name, values):
        self.__dict__.update({"vocab_size": VOCAB, "_name_or_path": name, **values})
        self._attn_implementation = "sdpa" if _mode() == "sdpa" else "eager"

    def to_dict(self):
        return {key: value for key, value in self.__dict__.items() if not key.startswith("_") or key == "_name_or_path"}


class GenerationConfig:
    def __init__(self, values):
        self.values = dict(values)

    def to_dict(self):
        return dict(self.values)


class AutoConfig:
    @staticmethod
    def from_pretrained(name, trust_remote_code=False):
        return PretrainedConfig(name, CHECKPOINTS[_known(name)])


class _AutoModel:
    builders = {}

    @classmethod
    def from_pretrained(cls, name, trust_remote_code=False, **kwargs):
        if "attn_implementation" in kwargs and _mode() == "old":
            raise TypeError("__init__() got an unexpected keyword argument 'attn_implementation'")
        build = cls.builders.get(_known(name))
        if build is None:
            raise ValueError(f"Unrecognized configuration class for {cls.__name__}: {name}")
        torch.manual_seed(0)  # selftest.py seeds its models the same way, so the weights match
        model = build()
        model.config = AutoConfig.from_pretrained(name)
        model.generation_config = GenerationConfig(GENERATION.get(name, {}))
        return model


class _FixedLengthGpt2(selftest.TinyGpt2LM):
    """int() of a traced size becomes a constant in the graph, as in code that tracing cannot follow."""

    def forward(self, input_ids, **kwargs):
        outputs = super().forward(input_ids, **kwargs)
        outputs["logits"] = outputs["logits"] + torch.zeros(int(input_ids.shape[1]), 1)
        return outputs


class AutoModelForCausalLM(_AutoModel):
    builders = {"tiny-gpt2": lambda: (_FixedLengthGpt2 if _mode() == "fixed-length" else selftest.TinyGpt2LM)(VOCAB)}


class AutoModelForMaskedLM(_AutoModel):
    builders = {"tiny-bert": lambda: selftest.TinyEncoderLM(VOCAB)}


class AutoModelForSeq2SeqLM(_AutoModel):
    builders = {"tiny-seq2seq": lambda: selftest.TinySeq2Seq(VOCAB)}


class AutoModel(_AutoModel):
    builders = {}


class _BackendTokenizer:
    def save(self, path):
        shutil.copyfile(os.environ["FAKE_TRANSFORMERS_TOKENIZER"], path)


class _Tokenizer:
    """Byte ids shifted into the vocabulary: enough to trace and check with, not a real tokenizer."""

    is_fast = True

    def __init__(self):
        self.backend_tokenizer = _BackendTokenizer()

    def __call__(self, text):
        return {"input_ids": [32 + byte % 200 for byte in text.encode("utf-8")]}

    def save_pretrained(self, folder):
        with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as handle:
            handle.write('{"tokenizer_class": "FakeTokenizerFast", "model_max_length": 64}\n')


class _SlowTokenizer(_Tokenizer):
    is_fast = False
    backend_tokenizer = None

    def __init__(self):
        pass


class AutoTokenizer:
    @staticmethod
    def from_pretrained(name, use_fast=True, trust_remote_code=False):
        _known(name)
        return _SlowTokenizer() if _mode() == "slow-tokenizer" else _Tokenizer()
