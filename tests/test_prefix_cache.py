"""The prefix store's choices and layout, on hand-made token rows (the batching tests run it on a model)."""

from __future__ import annotations

import torch

from domainlm.serve.prefix_cache import PrefixCache, batch_cache, batch_inputs, common_prefix, row_groups

RULES = list(range(100, 140))  # 40 shared tokens, above the default min_tokens of 32


def test_common_prefix_leaves_every_row_a_token_of_its_own():
    assert common_prefix([[1, 2, 3], [1, 2, 3]]) == 2  # identical rows: the last token is still prefilled
    assert common_prefix([[1, 2, 3, 4], [1, 2, 9]]) == 2
    assert common_prefix([[7], [7, 8]]) == 0
    assert common_prefix([[5, 6, 7]]) == 2  # a single row: all but its last token


def test_batch_inputs_put_padding_between_prefix_and_rest():
    ids, mask = batch_inputs([[1, 2, 3, 4, 5], [1, 2, 6], [1, 2, 7, 8]], 2, 0)
    assert ids.tolist() == [[1, 2, 3, 4, 5], [1, 2, 0, 0, 6], [1, 2, 0, 7, 8]]
    assert mask.tolist() == [[1, 1, 1, 1, 1], [1, 1, 0, 0, 1], [1, 1, 0, 1, 1]]
    # positions from the mask (as generate derives them) stay consecutive across the padding
    positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 0)
    assert positions[1].tolist() == [0, 1, 0, 0, 2] and positions[2].tolist() == [0, 1, 0, 2, 3]
    left, left_mask = batch_inputs([[3, 4], [5]], 0, 0)  # no prefix: plain left padding
    assert left.tolist() == [[3, 4], [0, 5]] and left_mask.tolist() == [[1, 1], [0, 1]]


def test_choose_registers_a_batch_prefix_and_serves_later_rows_with_part_of_it():
    store = PrefixCache(max_prefixes=2)
    rows = [RULES + [1, 2, 3], RULES + [1, 2, 4]]  # share the rules and two more tokens
    prefix, used = store.choose(rows)
    assert prefix == tuple(RULES + [1, 2]) and used == 42 and len(store) == 1
    # a later single request shares only the rules with it: the stored prefix's first 40 tokens serve it
    assert store.choose([RULES + [9, 9]]) == (prefix, 40)
    # too little in common, and nothing stored covers it: no prefix
    assert store.choose([[1] * 10 + [2], [1] * 10 + [3]]) == ((), 0)
    assert store.choose([[8] * 50]) == ((), 0)  # a lone row never registers its own prompt


def test_states_are_computed_once_per_adapter_and_sliced_to_what_a_batch_uses():
    store = PrefixCache()
    prefix, _ = store.choose([RULES + [1], RULES + [2]])
    calls = []

    def compute(adapter):
        calls.append(adapter)
        keys = torch.arange(len(prefix), dtype=torch.float32).view(1, 1, -1, 1)
        return [(keys, keys + 1000)]

    full = store.states(prefix, len(prefix), "a", lambda: compute("a"))
    again = store.states(prefix, len(prefix), "a", lambda: compute("a"))
    other = store.states(prefix, 32, "b", lambda: compute("b"))
    assert calls == ["a", "b"] and store.computed == 2 and store.hits == 1 and store.tokens_saved == len(prefix)
    assert full is again
    assert other[0][0].shape[2] == 32 and other[0][0].flatten().tolist() == list(range(32))
    assert other[0][1].flatten().tolist() == [1000 + i for i in range(32)]
    store.clear()
    assert len(store) == 0


def test_least_recently_used_prefixes_go_first():
    store = PrefixCache(max_prefixes=2)
    a = store.choose([[1] * 40 + [2], [1] * 40 + [3]])[0]
    b = store.choose([[4] * 40 + [2], [4] * 40 + [3]])[0]
    assert b != a and store.choose([[1] * 40 + [7]])[0] == a  # a used again: b is now the oldest
    store.choose([[5] * 40 + [2], [5] * 40 + [3]])
    assert store.choose([[4] * 40 + [7]]) == ((), 0)  # b was dropped
    assert store.choose([[1] * 40 + [7]])[0] == a


def test_row_groups_take_rows_of_about_the_same_length_up_to_a_size():
    lengths = [500, 120, 480, 119, 0, 470, 455, 130]
    groups = row_groups(lengths, max_rows=3, waste=0.1)
    assert groups == [[0, 2, 5], [6], [7, 1, 3]]  # 455 is more than 10% below 500; the empty row is left out
    assert sorted(i for g in groups for i in g) == [0, 1, 2, 3, 5, 6, 7]
    assert row_groups(lengths, max_rows=1) == [[0], [2], [5], [6], [7], [1], [3]]


def test_batch_cache_puts_each_rows_rest_right_before_the_filled_end():
    """Prefix states first, each group's rest states in the last positions before `filled`, zeros between."""
    from transformers import LlamaConfig, LlamaForCausalLM

    model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                                         num_attention_heads=2, num_key_value_heads=1))
    prefix = [(torch.full((1, 1, 3, 8), 1.0), torch.full((1, 1, 3, 8), -1.0)) for _ in range(2)]
    rest = [(torch.full((2, 1, 4, 8), 2.0), torch.full((2, 1, 4, 8), -2.0)) for _ in range(2)]
    short = [(torch.full((1, 1, 2, 8), 3.0), torch.full((1, 1, 2, 8), -3.0)) for _ in range(2)]
    cache = batch_cache(model, 12, 8, 3, [prefix] * 3, [([0, 2], rest), ([1], short)])
    assert cache.get_seq_length() == 8
    keys, values = cache.layers[1].keys, cache.layers[1].values
    assert keys.shape == (3, 1, 12, 8)
    assert keys[:, 0, :3, 0].eq(1).all() and values[:, 0, :3, 0].eq(-1).all()
    assert keys[0, 0, :, 0].tolist() == [1, 1, 1, 0, 2, 2, 2, 2, 0, 0, 0, 0]
    assert keys[1, 0, :, 0].tolist() == [1, 1, 1, 0, 0, 0, 3, 3, 0, 0, 0, 0]
    assert values[2, 0, 4:8, 0].eq(-2).all()


def test_a_store_of_size_zero_never_chooses_a_prefix():
    rows = [RULES + [1, 2], RULES + [3]]
    store = PrefixCache(max_prefixes=0)
    assert store.choose(rows) == ((), 0) and len(store) == 0
