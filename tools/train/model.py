"""A small GPT-2, written out so that every parameter maps 1:1 onto a Hugging Face GPT-2 tensor.

Architecture (GPT-2): learned token + position embeddings; pre-LN blocks
  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))
causal multi-head attention softmax(q k^T / sqrt(d_k)) v; MLP d -> 4d -> d with tanh-approximated GELU
("gelu_new"); final LayerNorm; LM head tied to the token embedding; LayerNorm epsilon 1e-5.
Linear layers are stored as torch [out, in]; export.py transposes them to GPT-2's Conv1D [in, out].
"""
import math
from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass
class GPT2Settings:
    vocab_size: int = 4096
    n_positions: int = 512
    n_embd: int = 128
    n_layer: int = 4
    n_head: int = 4
    layer_norm_epsilon: float = 1e-5

    def to_dict(self):
        return asdict(self)


def gelu_new(x):
    # The tanh approximation GPT-2 was trained with; written out so the ONNX graph and the
    # TypeScript block compute exactly the same function.
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Attention(nn.Module):
    def __init__(self, s: GPT2Settings):
        super().__init__()
        self.n_head = s.n_head
        self.d_head = s.n_embd // s.n_head
        self.c_attn = nn.Linear(s.n_embd, 3 * s.n_embd)
        self.c_proj = nn.Linear(s.n_embd, s.n_embd)
        causal = torch.tril(torch.ones(s.n_positions, s.n_positions, dtype=torch.bool))
        self.register_buffer("causal", causal.view(1, 1, s.n_positions, s.n_positions), persistent=False)

    def forward(self, x):
        # x [B, T, D] -> (y [B, T, D], probabilities [B, H, T, T])
        B, T, D = x.shape
        q, k, v = self.c_attn(x).split(D, dim=2)
        q = q.view(B, T, self.n_head, self.d_head).transpose(1, 2)  # [B, H, T, d_k]
        k = k.view(B, T, self.n_head, self.d_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, self.d_head).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(self.d_head))  # [B, H, T, T]
        scores = scores.masked_fill(~self.causal[:, :, :T, :T], float("-inf"))
        probs = torch.softmax(scores, dim=-1)
        y = torch.matmul(probs, v).transpose(1, 2).reshape(B, T, D)  # [B, H, T, d_k] -> [B, T, D]
        return self.c_proj(y), probs


class MLP(nn.Module):
    def __init__(self, s: GPT2Settings):
        super().__init__()
        self.c_fc = nn.Linear(s.n_embd, 4 * s.n_embd)
        self.c_proj = nn.Linear(4 * s.n_embd, s.n_embd)

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, s: GPT2Settings):
        super().__init__()
        self.ln_1 = nn.LayerNorm(s.n_embd, eps=s.layer_norm_epsilon)
        self.attn = Attention(s)
        self.ln_2 = nn.LayerNorm(s.n_embd, eps=s.layer_norm_epsilon)
        self.mlp = MLP(s)

    def forward(self, x):
        a, probs = self.attn(self.ln_1(x))
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, probs


def sinusoidal_table(positions, width):
    """[P, D] sin/cos features of geometric frequencies (Vaswani et al.), with unit-variance columns."""
    position = torch.arange(positions, dtype=torch.float32)[:, None]
    frequency = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width))
    table = torch.zeros(positions, width)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    return table * math.sqrt(2.0)


class GPT2(nn.Module):
    def __init__(self, s: GPT2Settings, sinusoidal_position_std=0.0):
        """sinusoidal_position_std > 0 starts the learned position table from scaled sin/cos features
        instead of noise: still GPT-2's learned embedding, but relative offsets such as t-1 are a linear
        map away from the start, so position-based heads form in far fewer steps."""
        super().__init__()
        self.settings = s
        self.wte = nn.Embedding(s.vocab_size, s.n_embd)
        self.wpe = nn.Embedding(s.n_positions, s.n_embd)
        self.h = nn.ModuleList([Block(s) for _ in range(s.n_layer)])
        self.ln_f = nn.LayerNorm(s.n_embd, eps=s.layer_norm_epsilon)
        self.apply(self._init_weights)
        # GPT-2 scales the residual projections down so the residual stream's variance stays ~1 with depth.
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * s.n_layer))
        if sinusoidal_position_std > 0:
            with torch.no_grad():
                self.wpe.weight.copy_(sinusoidal_table(s.n_positions, s.n_embd) * sinusoidal_position_std)

    @torch.no_grad()
    def seed_previous_token_head(self, strength, layer=0, head=0):
        """Initialise one head's query and key weights to attend from t to t-1 (needs the sinusoidal
        position start): keys read the head's d_k/2 highest-frequency sin/cos pairs of the position
        features, and queries read the same pairs rotated back by one position, so q_t . k_s is largest
        at s = t-1. Training is free to keep, sharpen or undo it; the model card says it was seeded."""
        s = self.settings
        d_head = s.n_embd // s.n_head
        weight = self.h[layer].attn.c_attn.weight  # [3D, D]: query rows, then key rows, then value rows
        bias = self.h[layer].attn.c_attn.bias
        q0, k0 = head * d_head, s.n_embd + head * d_head
        weight[q0:q0 + d_head].zero_()
        weight[k0:k0 + d_head].zero_()
        bias[q0:q0 + d_head].zero_()
        bias[k0:k0 + d_head].zero_()
        for pair in range(d_head // 2):
            omega = math.exp(-2 * pair * math.log(10000.0) / s.n_embd)
            sin_dim, cos_dim = 2 * pair, 2 * pair + 1  # input features sin(omega t), cos(omega t)
            q_sin, q_cos = q0 + 2 * pair, q0 + 2 * pair + 1
            # [sin(omega (t-1)), cos(omega (t-1))] = rotation by -omega of [sin(omega t), cos(omega t)]
            weight[q_sin, sin_dim], weight[q_sin, cos_dim] = strength * math.cos(omega), -strength * math.sin(omega)
            weight[q_cos, sin_dim], weight[q_cos, cos_dim] = strength * math.sin(omega), strength * math.cos(omega)
            weight[k0 + 2 * pair, sin_dim] = strength
            weight[k0 + 2 * pair + 1, cos_dim] = strength

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, input_ids, return_attentions=False):
        # input_ids [B, T] int64 -> logits [B, T, V] (and attentions [L, B, H, T, T])
        T = input_ids.shape[1]
        positions = torch.arange(T, device=input_ids.device)
        x = self.wte(input_ids) + self.wpe(positions)
        attentions = []
        for block in self.h:
            x, probs = block(x)
            if return_attentions:
                attentions.append(probs)
        logits = torch.matmul(self.ln_f(x), self.wte.weight.t())  # tied LM head: [B, T, D] x [D, V]
        if return_attentions:
            return logits, torch.stack(attentions)
        return logits

    def parameter_count(self):
        return sum(p.numel() for p in self.parameters())
