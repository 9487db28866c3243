"""Held-out loss and perplexity: mean next-token loss on the assistant turns of the test split."""

from __future__ import annotations

import math


def heldout_loss(model, tokenizer, records: list[dict], adapter: str | None, max_len: int = 2048) -> dict:
    """`{"loss", "perplexity", "tokens"}` for `records` (dataset lines) under `adapter` (`base` = no adapter)."""
    import contextlib

    import torch

    from domainlm.train.data import IGNORE, ChatEncoder

    encoder = ChatEncoder(tokenizer)
    peft = hasattr(model, "peft_config")
    if adapter in (None, "base"):
        scope = model.disable_adapter() if peft else contextlib.nullcontext()
    else:
        model.set_adapter(adapter)
        scope = contextlib.nullcontext()
    total, count = 0.0, 0
    with scope, torch.inference_mode():
        for record in records:
            enc = encoder.encode(record["messages"])
            ids, labels = enc.input_ids[:max_len], enc.labels[:max_len]
            if sum(1 for t in labels[1:] if t != IGNORE) == 0:
                continue
            input_ids = torch.tensor([ids], device=model.device)
            target = torch.tensor([labels], device=model.device)
            logits = model(input_ids=input_ids).logits[0, :-1].float()
            shifted = target[0, 1:]
            loss = torch.nn.functional.cross_entropy(logits, shifted, ignore_index=IGNORE, reduction="sum")
            total += float(loss)
            count += int((shifted != IGNORE).sum())
    if count == 0:
        return {"loss": None, "perplexity": None, "tokens": 0}
    mean = total / count
    return {"loss": round(mean, 4), "perplexity": round(math.exp(min(mean, 50)), 3), "tokens": count}
