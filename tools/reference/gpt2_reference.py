#!/usr/bin/env python3
"""Independent reference values for the built-in TypeScript GPT-2 (src/core/gpt2).

Writes test/fixtures/gpt2-reference.json: two tiny GPT-2 models whose weights come from this
script's own PRNG, input ids, and the expected attention [L, H, T, T], final hidden states [T, D]
and last-position logits [V], computed here in float64 with numpy from the GPT-2 equations
(Hugging Face GPT2LMHeadModel). Nothing here shares code with the TypeScript implementation.
It also tabulates each supported activation_function over a range of inputs with math.tanh/erf.

When PyTorch is importable (e.g. /usr/bin/python3 with Debian's python3-torch), the numpy
forward pass is cross-checked against a torch one and the largest difference is printed.

Usage (from the repository root):  python3 tools/reference/gpt2_reference.py
"""
import json
import math
import os
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'gpt2-reference.json')


class SplitMix64:
    """Small deterministic PRNG, so the weights never depend on numpy's generator versions."""

    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFFFFFFFFFF

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return z ^ (z >> 31)

    def uniform(self, low, high):
        return low + (high - low) * (self.next_u64() >> 11) / float(1 << 53)


def tensor(rng, shape, low, high):
    """float32-rounded uniform values, held as float64 so the maths below is exact on them."""
    count = int(np.prod(shape))
    values = np.array([rng.uniform(low, high) for _ in range(count)], dtype=np.float32)
    return values.astype(np.float64).reshape(shape)


def make_weights(hf_config, seed):
    rng = SplitMix64(seed)
    d = hf_config['n_embd']
    inner = hf_config.get('n_inner') or 4 * d
    v = hf_config['vocab_size']
    p = hf_config.get('n_positions') or hf_config['n_ctx']
    w = {
        'wte.weight': tensor(rng, (v, d), -1.0, 1.0),
        'wpe.weight': tensor(rng, (p, d), -1.0, 1.0),
    }
    for layer in range(hf_config['n_layer']):
        h = 'h.%d.' % layer
        w[h + 'ln_1.weight'] = tensor(rng, (d,), 0.7, 1.3)
        w[h + 'ln_1.bias'] = tensor(rng, (d,), -0.2, 0.2)
        w[h + 'attn.c_attn.weight'] = tensor(rng, (d, 3 * d), -0.7, 0.7)
        w[h + 'attn.c_attn.bias'] = tensor(rng, (3 * d,), -0.2, 0.2)
        w[h + 'attn.c_proj.weight'] = tensor(rng, (d, d), -0.5, 0.5)
        w[h + 'attn.c_proj.bias'] = tensor(rng, (d,), -0.2, 0.2)
        w[h + 'ln_2.weight'] = tensor(rng, (d,), 0.7, 1.3)
        w[h + 'ln_2.bias'] = tensor(rng, (d,), -0.2, 0.2)
        w[h + 'mlp.c_fc.weight'] = tensor(rng, (d, inner), -0.5, 0.5)
        w[h + 'mlp.c_fc.bias'] = tensor(rng, (inner,), -0.2, 0.2)
        w[h + 'mlp.c_proj.weight'] = tensor(rng, (inner, d), -0.5, 0.5)
        w[h + 'mlp.c_proj.bias'] = tensor(rng, (d,), -0.2, 0.2)
    w['ln_f.weight'] = tensor(rng, (d,), 0.7, 1.3)
    w['ln_f.bias'] = tensor(rng, (d,), -0.2, 0.2)
    return w


SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
ACTIVATIONS = {
    'gelu_new': lambda x: 0.5 * x * (1.0 + math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x ** 3))),
    'gelu_pytorch_tanh': lambda x: 0.5 * x * (1.0 + math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x ** 3))),
    'gelu_fast': lambda x: 0.5 * x * (1.0 + math.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x))),
    'gelu': lambda x: 0.5 * x * (1.0 + math.erf(x / math.sqrt(2.0))),
    'quick_gelu': lambda x: x / (1.0 + math.exp(-1.702 * x)),
    'relu': lambda x: max(x, 0.0),
}


def layer_norm(x, weight, bias, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def forward_numpy(hf_config, w, ids, use_positions):
    d = hf_config['n_embd']
    n_head = hf_config['n_head']
    d_head = d // n_head
    eps = hf_config.get('layer_norm_epsilon', 1e-5)
    act = np.vectorize(ACTIVATIONS[hf_config.get('activation_function', 'gelu_new')])
    t_len = len(ids)
    x = w['wte.weight'][ids].copy()
    if use_positions:
        x += w['wpe.weight'][:t_len]
    future = np.triu(np.ones((t_len, t_len), dtype=bool), k=1)
    attention = []
    for layer in range(hf_config['n_layer']):
        h = 'h.%d.' % layer
        a = layer_norm(x, w[h + 'ln_1.weight'], w[h + 'ln_1.bias'], eps)
        qkv = a @ w[h + 'attn.c_attn.weight'] + w[h + 'attn.c_attn.bias']
        q, k, v = (qkv[:, i * d:(i + 1) * d].reshape(t_len, n_head, d_head).transpose(1, 0, 2) for i in range(3))
        scores = q @ k.transpose(0, 2, 1)  # [H, T, T]
        if hf_config.get('scale_attn_weights', True):
            scores = scores / math.sqrt(d_head)
        if hf_config.get('scale_attn_by_inverse_layer_idx', False):
            scores = scores / (layer + 1)
        scores = np.where(future, -np.inf, scores)
        scores = scores - scores.max(axis=-1, keepdims=True)
        probs = np.exp(scores)
        probs = probs / probs.sum(axis=-1, keepdims=True)
        attention.append(probs)
        heads = (probs @ v).transpose(1, 0, 2).reshape(t_len, d)
        x = x + heads @ w[h + 'attn.c_proj.weight'] + w[h + 'attn.c_proj.bias']
        m = layer_norm(x, w[h + 'ln_2.weight'], w[h + 'ln_2.bias'], eps)
        x = x + act(m @ w[h + 'mlp.c_fc.weight'] + w[h + 'mlp.c_fc.bias']) @ w[h + 'mlp.c_proj.weight'] + w[h + 'mlp.c_proj.bias']
    hidden = layer_norm(x, w['ln_f.weight'], w['ln_f.bias'], eps)
    logits = hidden[-1] @ w['wte.weight'].T
    return np.stack(attention), hidden, logits


def forward_torch(torch, hf_config, w, ids, use_positions):
    """The same pass written against torch's own layer_norm, softmax and gelu, in float64."""
    F = torch.nn.functional
    tw = {name: torch.tensor(value, dtype=torch.float64) for name, value in w.items()}
    d = hf_config['n_embd']
    n_head = hf_config['n_head']
    eps = hf_config.get('layer_norm_epsilon', 1e-5)
    name = hf_config.get('activation_function', 'gelu_new')
    act = {'gelu': F.gelu, 'relu': F.relu}.get(name, lambda t: F.gelu(t, approximate='tanh'))
    t_len = len(ids)
    x = tw['wte.weight'][torch.tensor(ids)]
    if use_positions:
        x = x + tw['wpe.weight'][:t_len]
    mask = torch.ones(t_len, t_len, dtype=torch.bool).tril()
    attention = []
    for layer in range(hf_config['n_layer']):
        h = 'h.%d.' % layer
        a = F.layer_norm(x, (d,), tw[h + 'ln_1.weight'], tw[h + 'ln_1.bias'], eps)
        q, k, v = (a @ tw[h + 'attn.c_attn.weight'] + tw[h + 'attn.c_attn.bias']).split(d, dim=-1)
        q, k, v = (t.view(t_len, n_head, -1).transpose(0, 1) for t in (q, k, v))
        scale = 1.0 / math.sqrt(d // n_head) if hf_config.get('scale_attn_weights', True) else 1.0
        if hf_config.get('scale_attn_by_inverse_layer_idx', False):
            scale /= layer + 1
        probs = torch.softmax((q @ k.transpose(-1, -2) * scale).masked_fill(~mask, float('-inf')), dim=-1)
        attention.append(probs)
        x = x + (probs @ v).transpose(0, 1).reshape(t_len, d) @ tw[h + 'attn.c_proj.weight'] + tw[h + 'attn.c_proj.bias']
        m = F.layer_norm(x, (d,), tw[h + 'ln_2.weight'], tw[h + 'ln_2.bias'], eps)
        x = x + act(m @ tw[h + 'mlp.c_fc.weight'] + tw[h + 'mlp.c_fc.bias']) @ tw[h + 'mlp.c_proj.weight'] + tw[h + 'mlp.c_proj.bias']
    hidden = F.layer_norm(x, (d,), tw['ln_f.weight'], tw['ln_f.bias'], eps)
    return torch.stack(attention).numpy(), hidden.numpy(), (hidden[-1] @ tw['wte.weight'].T).numpy()


def rounded(values, digits=10):
    return [float('%.*g' % (digits, v)) for v in np.asarray(values, dtype=np.float64).ravel()]


def float32_list(values):
    # str of a float32 is the shortest decimal that rounds back to it: exact, and compact.
    return [float(str(np.float32(v))) for v in np.asarray(values).ravel()]


MODELS = {
    # GPT-2 defaults: gelu_new, eps 1e-5, n_inner = 4 * n_embd.
    'small': ({
        'model_type': 'gpt2', 'vocab_size': 20, 'n_positions': 16, 'n_embd': 8, 'n_head': 2, 'n_layer': 2,
    }, 1),
    # The other code paths: exact gelu, n_inner, n_ctx instead of n_positions, eps, inverse-layer scaling.
    'variant': ({
        'model_type': 'gpt2', 'vocab_size': 11, 'n_ctx': 8, 'n_embd': 12, 'n_head': 3, 'n_layer': 2,
        'n_inner': 20, 'activation_function': 'gelu', 'layer_norm_epsilon': 1e-6,
        'scale_attn_by_inverse_layer_idx': True,
    }, 2),
}

CASES = [
    ('small', [3, 17, 0, 9, 9, 12, 5], True),
    ('small', [3, 17, 0, 9, 9, 12, 5], False),
    ('small', [19, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3], True),  # T = n_positions
    ('small', [11], True),
    ('variant', [10, 0, 7, 7, 2, 9, 4, 1], True),  # T = n_ctx
]


def main():
    try:
        import torch
    except ImportError:
        torch = None
    models = {}
    weights = {}
    for name, (hf_config, seed) in MODELS.items():
        weights[name] = make_weights(hf_config, seed)
        models[name] = {
            'config': hf_config,
            'tensors': {key: {'shape': list(value.shape), 'data': float32_list(value)} for key, value in weights[name].items()},
        }
    cases = []
    for model_name, ids, use_positions in CASES:
        hf_config = MODELS[model_name][0]
        attention, hidden, logits = forward_numpy(hf_config, weights[model_name], ids, use_positions)
        if torch is not None:
            t_attention, t_hidden, t_logits = forward_torch(torch, hf_config, weights[model_name], ids, use_positions)
            diff = max(np.abs(attention - t_attention).max(), np.abs(hidden - t_hidden).max(), np.abs(logits - t_logits).max())
            print('%s %s: numpy vs torch max |diff| = %.3g' % (model_name, ids, diff))
            assert diff < 1e-9, 'numpy and torch disagree'
        cases.append({
            'model': model_name,
            'ids': ids,
            'usePositionEmbeddings': use_positions,
            'attentionShape': list(attention.shape),
            'attention': rounded(attention),
            'hiddenShape': list(hidden.shape),
            'hidden': rounded(hidden),
            'lastLogits': rounded(logits),
        })
    xs = [round(-6.0 + 0.25 * i, 2) for i in range(49)] + [-20.0, -8.5, 8.5, 20.0, 1e-3, -1e-3]
    activations = {name: {'x': xs, 'y': rounded([fn(x) for x in xs], 15)} for name, fn in ACTIVATIONS.items()}
    fixture = {
        'generatedBy': 'tools/reference/gpt2_reference.py (numpy float64%s)' % (', cross-checked with torch' if torch else ''),
        'models': models,
        'cases': cases,
        'activations': activations,
    }
    with open(OUT, 'w') as f:
        json.dump(fixture, f, separators=(',', ':'))
        f.write('\n')
    print('wrote %s (%d bytes)' % (os.path.normpath(OUT), os.path.getsize(OUT)), file=sys.stderr)


if __name__ == '__main__':
    main()
