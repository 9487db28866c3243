"""The batching engine's CPU decode attention: the same numbers as torch's SDPA, used for exactly the
one-query-token steps, and the same greedy answers as the stock `sdpa` attention."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from conftest import build_tiny_model
from domainlm.serve import attention


def _reference(query, key, value, mask):
    groups = query.shape[1] // key.shape[1]
    out = F.scaled_dot_product_attention(query.float(), key.float().repeat_interleave(groups, dim=1),
                                         value.float().repeat_interleave(groups, dim=1),
                                         attn_mask=mask if mask is None or mask.dtype == torch.bool else mask.float())
    return out.transpose(1, 2)  # [rows, 1, heads, dim]


@pytest.mark.parametrize("dtype,tolerance", [(torch.float32, 1e-5), (torch.bfloat16, 2e-2)])
@pytest.mark.parametrize("mask_kind", ["bool", "float", "none"])
def test_decode_attention_matches_sdpa_with_grouped_heads_and_padding(dtype, tolerance, mask_kind):
    torch.manual_seed(0)
    rows, heads, kv_heads, length, dim = 5, 9, 3, 37, 16
    query = torch.randn(rows, heads, 1, dim, dtype=dtype)
    key = torch.randn(rows, kv_heads, length, dim, dtype=dtype)
    value = torch.randn(rows, kv_heads, length, dim, dtype=dtype)
    keep = torch.ones(rows, 1, 1, length, dtype=torch.bool)
    keep[0, ..., :11] = False  # left padding
    keep[3, ..., 30:] = False  # unused cache slots
    mask = {"bool": keep, "float": torch.zeros(keep.shape, dtype=dtype).masked_fill(~keep, float("-inf")),
            "none": None}[mask_kind]
    out = attention.decode_attention(query, key, value, mask)
    assert out.shape == (rows, 1, heads, dim) and out.dtype == dtype
    assert torch.allclose(out.float(), _reference(query, key, value, mask), atol=tolerance, rtol=tolerance)
    if mask is not None:  # a padded position really is ignored
        value2 = value.clone()
        value2[0, :, :11] = 1e4
        assert torch.equal(attention.decode_attention(query, key, value2, mask), out)


def test_installed_attention_takes_the_decode_steps_and_keeps_greedy_answers(tiny_tokenizer, monkeypatch):
    model = build_tiny_model(tiny_tokenizer)
    model.set_attn_implementation("sdpa")
    ids = torch.randint(0, len(tiny_tokenizer), (3, 14), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[0, :5] = 0
    mask[2, :2] = 0
    run = dict(input_ids=ids, attention_mask=mask, max_new_tokens=9, min_new_tokens=9, do_sample=False,
               pad_token_id=0, output_scores=True, return_dict_in_generate=True)
    with torch.no_grad():
        reference = model.generate(**run)
        assert attention.install(model) and model.config._attn_implementation == attention.NAME
        assert attention.install(model)  # idempotent
        calls = []
        original = attention.decode_attention
        monkeypatch.setattr(attention, "decode_attention", lambda *a, **k: calls.append(a[0].shape) or original(*a, **k))
        ours = model.generate(**run)
    assert torch.equal(ours.sequences, reference.sequences)
    for a, b in zip(ours.scores, reference.scores):  # min_new_tokens sets the end token to -inf in both
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
    layers = model.config.num_hidden_layers
    assert len(calls) == 8 * layers  # every step after the prefill, every layer; the prefill went to SDPA
    assert all(shape[2] == 1 for shape in calls)


def test_install_leaves_other_attention_implementations_alone(tiny_tokenizer):
    model = build_tiny_model(tiny_tokenizer)
    model.set_attn_implementation("eager")
    assert not attention.install(model)
    assert model.config._attn_implementation == "eager"
