"""Attention for the batching engine's decode steps on a CPU: one query token against the cache.

`install(model)` switches a transformers model to the attention `domainlm_cpu_decode`: a step with one
query token a row on a CPU runs as two batched matmuls and a softmax, each key/value head taken once
for the query heads that share it (grouped-query attention, no copies of the cache); everything else
(prefill, GPU, dropout, soft-capping, position biases) goes to transformers' own SDPA function, unchanged.
Masks are built exactly as for `sdpa` (the same mask function is registered under the new name).

Why by hand: torch's CPU `scaled_dot_product_attention` runs one query token through its flash-attention
kernel, which is slow at this shape. Measured on this project's 2-core CPU, SmolLM2-135M in bf16, 8 rows
against ~730 cached positions (9 query heads over 3 key/value heads): torch's kernel took 2.7 ms a layer
with transformers' packed-heads query and 7-9 ms with `enable_gqa`, against 0.3-1.6 ms for the matmuls (both
measured under load). Over a whole batch decoding gains 10-20% (`bench/decode_attention.py`, figures in
docs/serving.md). No library has this kernel for CPUs.
"""

from __future__ import annotations

NAME = "domainlm_cpu_decode"
_registered = False


def _register() -> None:
    global _registered
    if _registered:
        return
    from transformers import AttentionInterface
    from transformers.integrations.sdpa_attention import sdpa_attention_forward
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    def attention(module, query, key, value, attention_mask, dropout: float = 0.0, scaling=None, is_causal=None,
                  **kwargs):
        if (query.shape[2] != 1 or query.device.type != "cpu" or dropout or kwargs.get("softcap") is not None
                or kwargs.get("position_bias") is not None or kwargs.get("output_attentions")):
            return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout,
                                          scaling=scaling, is_causal=is_causal, **kwargs)
        return decode_attention(query, key, value, attention_mask, scaling), None

    AttentionInterface.register(NAME, attention)
    ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, sdpa_mask)
    _registered = True


def decode_attention(query, key, value, mask, scaling=None):
    """Attention of one query token a row: query [rows, heads, 1, dim], key/value [rows, kv_heads, length,
    dim] with heads a multiple of kv_heads, mask broadcastable to [rows, 1, 1, length] (bool: True attends;
    float: added) or None. Returns [rows, 1, heads, dim], as transformers' attention functions do."""
    import torch

    rows, heads, _, dim = query.shape
    kv_heads = key.shape[1]
    scale = scaling if scaling is not None else dim ** -0.5
    grouped = query.reshape(rows, kv_heads, heads // kv_heads, dim)  # the query heads of each key/value head
    scores = torch.matmul(grouped, key.transpose(-1, -2)).float().mul_(scale)  # [rows, kv_heads, group, length]
    if mask is not None:
        mask = mask.reshape(mask.shape[0], 1, 1, mask.shape[-1])
        if mask.dtype == torch.bool:
            scores.masked_fill_(~mask, float("-inf"))
        else:
            scores += mask.float()
    probs = torch.softmax(scores, dim=-1).to(value.dtype)
    out = torch.matmul(probs, value)  # [rows, kv_heads, group, dim]
    return out.reshape(rows, 1, heads, dim)


def install(model) -> bool:
    """Use `domainlm_cpu_decode` for `model` (a transformers model, PEFT-wrapped or not) when it runs on a
    CPU with SDPA attention; True when installed (idempotent). Other models are left as they are."""
    config = getattr(model, "config", None)
    device = getattr(model, "device", None)
    if config is None or device is None or device.type != "cpu":
        return False
    current = getattr(config, "_attn_implementation", None)
    if current == NAME:
        return True
    if current != "sdpa":
        return False
    _register()
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    base.set_attn_implementation(NAME)
    return True
