"""Attention for packed training rows: each sample of a row attends causally to itself only, computed one
sample at a time with SDPA's causal kernel instead of over the whole row with a block-diagonal mask.

Why by hand: transformers turns restarting `position_ids` into a [B, 1, L, L] block-diagonal mask, and with a
mask SDPA's CPU flash kernel computes every query-key block of the row (it can only skip the blocks above the
diagonal when told `is_causal`), and GQA's keys and values are first repeated to every query head. A
1,024-token row of three or four samples needs a fifth to a third of that attention. transformers' varlen
paths (flash-attention 2/3 `cu_seqlens`) are CUDA-only kernels; none runs on a CPU.

Registered as the attention implementation `domainlm_packed` (`load_for_training` asks for it). It reads the
`position_ids` the decoder passes every attention call: a sample starts where the position is 0; padding
continues the last sample's positions, so it stays in that sample's segment, after every real token.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

NAME = "domainlm_packed"


def segment_bounds(position_ids: torch.Tensor) -> list[list[tuple[int, int]]]:
    """Per row, the (start, end) of every sample: a new one starts wherever the position is 0."""
    rows = []
    width = position_ids.shape[-1]
    for starts in (position_ids == 0).tolist():
        begin = [i for i, flag in enumerate(starts) if flag] or [0]
        if begin[0] != 0:
            begin.insert(0, 0)
        rows.append(list(zip(begin, begin[1:] + [width])))
    return rows


def packed_attention(module, query, key, value, attention_mask, dropout: float = 0.0, scaling=None,
                     is_causal=None, **kwargs):
    """(attn_output [B, L, H, D], None), as transformers' attention functions return."""
    position_ids = kwargs.get("position_ids")
    if position_ids is None or query.shape[2] != key.shape[2]:
        raise RuntimeError("domainlm_packed attention is for training forwards over whole packed rows "
                           "(position_ids given, no cache)")
    if position_ids.shape[0] == 1 and query.shape[0] > 1:
        position_ids = position_ids.expand(query.shape[0], -1)
    gqa = query.shape[1] != key.shape[1]
    bounds = segment_bounds(position_ids)

    def attend(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, scale=scaling, is_causal=True,
                                              enable_gqa=gqa)

    if all(len(row) == 1 for row in bounds):  # one sample a row: one causal call for the whole batch
        out = attend(query, key, value)
    else:
        out = torch.cat([
            torch.cat([attend(query[b:b + 1, :, s:e], key[b:b + 1, :, s:e], value[b:b + 1, :, s:e])
                       for s, e in row], dim=2)
            for b, row in enumerate(bounds)
        ], dim=0)
    return out.transpose(1, 2).contiguous(), None


def register() -> str:
    """Register `domainlm_packed` with transformers (idempotent); returns its name."""
    from transformers import AttentionInterface

    AttentionInterface.register(NAME, packed_attention)
    return NAME
