"""A tiny Transformer encoder-decoder (pre-LayerNorm, learned positions, tied embeddings).

Attention is written out as matmul -> softmax -> matmul over [B, H, T, S] (no fused kernels), so the
exported ONNX graph keeps one Softmax per attention block for the extension's graph surgery to find.
The causal mask is a position comparison (as transformers' _make_causal_mask builds it), which the
surgery recognises as decoder (masked) self-attention. forward() also returns every attention map so
that the reference check can compare PyTorch's probabilities with the ones found in the ONNX graph;
the exported graph outputs logits only.
"""
import math

import torch
from torch import nn

NEG = -1e4  # additive mask value; finite so that fully masked rows stay NaN-free


class Attention(nn.Module):
    def __init__(self, d_model, heads):
        super().__init__()
        self.heads, self.head_dim = heads, d_model // heads
        self.q_proj, self.k_proj = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.v_proj, self.out_proj = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)

    def split(self, x):
        """[B, T, C] -> [B, H, T, C/H]"""
        B, T, _ = x.shape
        return x.view(B, T, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, queries_from, keys_from, mask_add):
        B, T, C = queries_from.shape
        q, k, v = self.split(self.q_proj(queries_from)), self.split(self.k_proj(keys_from)), self.split(self.v_proj(keys_from))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + mask_add  # [B, H, T, S]
        probs = torch.softmax(scores, dim=-1)
        context = torch.matmul(probs, v).transpose(1, 2).reshape(B, T, C)  # [B, H, T, S] x [B, H, S, C/H]
        return self.out_proj(context), probs


def feed_forward(d_model, d_ff):
    return nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model))


class EncoderLayer(nn.Module):
    def __init__(self, d_model, heads, d_ff):
        super().__init__()
        self.ln_attn, self.self_attn = nn.LayerNorm(d_model), Attention(d_model, heads)
        self.ln_ffn, self.ffn = nn.LayerNorm(d_model), feed_forward(d_model, d_ff)

    def forward(self, x, padding_add):
        normed = self.ln_attn(x)
        attended, probs = self.self_attn(normed, normed, padding_add)
        x = x + attended
        return x + self.ffn(self.ln_ffn(x)), probs


class DecoderLayer(nn.Module):
    def __init__(self, d_model, heads, d_ff):
        super().__init__()
        self.ln_self, self.self_attn = nn.LayerNorm(d_model), Attention(d_model, heads)
        self.ln_cross, self.cross_attn = nn.LayerNorm(d_model), Attention(d_model, heads)
        self.ln_ffn, self.ffn = nn.LayerNorm(d_model), feed_forward(d_model, d_ff)

    def forward(self, y, encoded, causal_add, padding_add):
        normed = self.ln_self(y)
        attended, self_probs = self.self_attn(normed, normed, causal_add)
        y = y + attended
        attended, cross_probs = self.cross_attn(self.ln_cross(y), encoded, padding_add)
        y = y + attended
        return y + self.ffn(self.ln_ffn(y)), self_probs, cross_probs


def causal_mask(T, dtype):
    """[1, 1, T, T]: 0 where key <= query, NEG above the diagonal (a range comparison, not a constant)."""
    mask = torch.full((T, T), NEG, dtype=dtype)
    positions = torch.arange(T)
    mask = mask.masked_fill(positions < (positions + 1).view(T, 1), 0.0)
    return mask[None, None, :, :]


class EncoderDecoder(nn.Module):
    def __init__(self, vocab_size, d_model=64, heads=4, encoder_layers=2, decoder_layers=2, d_ff=256, positions=32):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, d_model)
        self.encoder_positions = nn.Embedding(positions, d_model)
        self.decoder_positions = nn.Embedding(positions, d_model)
        self.encoder = nn.ModuleList([EncoderLayer(d_model, heads, d_ff) for _ in range(encoder_layers)])
        self.decoder = nn.ModuleList([DecoderLayer(d_model, heads, d_ff) for _ in range(decoder_layers)])
        self.ln_encoder, self.ln_decoder = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.scale = math.sqrt(d_model)
        # Unit-variance inputs after the sqrt(d_model) scaling, and output logits of order 1 (tied weights).
        nn.init.normal_(self.embed.weight, std=d_model ** -0.5)

    def encode(self, input_ids, attention_mask):
        padding_add = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * NEG  # [B, 1, 1, S]
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)[None, :]
        x = self.embed(input_ids) * self.scale + self.encoder_positions(positions)
        encoder_probs = []
        for layer in self.encoder:
            x, probs = layer(x, padding_add)
            encoder_probs.append(probs)
        return self.ln_encoder(x), padding_add, encoder_probs

    def forward(self, input_ids, attention_mask, decoder_input_ids):
        encoded, padding_add, encoder_probs = self.encode(input_ids, attention_mask)
        T = decoder_input_ids.shape[1]
        positions = torch.arange(T, device=decoder_input_ids.device)[None, :]
        y = self.embed(decoder_input_ids) * self.scale + self.decoder_positions(positions)
        causal_add = causal_mask(T, y.dtype)
        decoder_probs, cross_probs = [], []
        for layer in self.decoder:
            y, self_probs, cross = layer(y, encoded, causal_add, padding_add)
            decoder_probs.append(self_probs)
            cross_probs.append(cross)
        logits = torch.matmul(self.ln_decoder(y), self.embed.weight.t())  # [B, T, C] x [C, V] -> [B, T, V]
        return logits, encoder_probs, decoder_probs, cross_probs


class LogitsOnly(nn.Module):
    """What is exported: the graph must not output attention (the extension finds it by surgery)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, decoder_input_ids):
        return self.model(input_ids, attention_mask, decoder_input_ids)[0]
