#!/usr/bin/env python3
"""Decode attention on a CPU: one batching-engine batch with torch's SDPA against `serve/attention.py`.

Runs the batching engine's own batch path (`BatchingEngine._run`: stored shared prefix, grouped prefill, static
cache, mixed-adapter LoRA) on SmolLM2-135M in bf16 with two LoRA adapters (random A, B = 0: the compute is
real and the answers equal the base's), 8 rows of example-shop-like prompts (shop rules, 3 catalog rows, a
question) over the base and both adapters, greedy, 32 new tokens. Alternates batches with stock SDPA
attention and with `domainlm_cpu_decode`, in one process, and prints each batch's time to the first token and
decoding time, the ratio of the medians, and whether both gave the same tokens. One run, printed.

    HF_HUB_OFFLINE=1 python bench/decode_attention.py [--rows 8] [--new 32] [--pairs 3]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
RULES = ("You are Vera, the assistant of Vineyard Cellars. Voice: warm, concise, knowledgeable; speak as we for "
         "the shop. Answer only about wine, spirits, food pairing and orders from our shop. Quote prices exactly "
         "as the catalog gives them and never invent a product. Politely refuse anything else. ") * 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--new", type=int, default=32, help="new tokens a row")
    parser.add_argument("--pairs", type=int, default=3, help="batches each way, alternating")
    parser.add_argument("--model", default="smollm2-135m")
    args = parser.parse_args()

    import torch
    from peft import LoraConfig, get_peft_model

    from domainlm.generate import GenerationParams, TransformersEngine
    from domainlm.models.base import load_base_model
    from domainlm.serve import attention
    from domainlm.serve.batching import BatchingEngine, _Request

    model, tokenizer = load_base_model(args.model, ROOT)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules=targets), adapter_name="a")
    model.add_adapter("b", LoraConfig(r=16, lora_alpha=32, target_modules=targets))
    model.eval()
    engine = TransformersEngine(model, tokenizer)
    batcher = BatchingEngine(engine, max_batch=args.rows)
    products = list(csv.DictReader(open(ROOT / "examples/wine-shop/catalog.csv", encoding="utf-8")))
    names = ["base", "a", "b"]

    def batch(seed: int):
        rows = []
        for i in range(args.rows):
            rng = random.Random(seed * 1000 + i)
            shown = rng.sample(products, 3)
            context = "\n".join("; ".join(f"{k}: {v}" for k, v in p.items()) for p in shown)
            messages = [{"role": "system", "content": RULES + "\nProducts:\n" + context},
                        {"role": "user", "content": f"How much is {shown[0]['name']}?"}]
            rows.append(_Request(messages, GenerationParams(max_new_tokens=args.new, temperature=0.0), names[i % 3]))
        return rows

    stock_install = attention.install
    modes = {"stock SDPA": lambda m: False, "domainlm_cpu_decode": stock_install}
    base = model.get_base_model()
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in modes}
    tokens: dict[str, list] = {name: [] for name in modes}
    batcher._run(batch(0))  # warm-up: the stored prefix and the LoRA masks
    for pair in range(args.pairs):
        for name, install in modes.items():
            base.set_attn_implementation("sdpa")
            attention.install = install  # the batcher calls it before every batch
            before_p, before_d = batcher.prefill_s, batcher.decode_s
            out = batcher._run(batch(pair + 1))
            times[name].append((batcher.prefill_s - before_p, batcher.decode_s - before_d))
            tokens[name].append([g.text for g in out])
    attention.install = stock_install
    batcher.close()

    print(f"model: {args.model} bf16={next(model.parameters()).dtype == torch.bfloat16}  rows: {args.rows}  "
          f"new tokens: {args.new}  torch threads: {torch.get_num_threads()}  cpus: {os.cpu_count()}")
    print(f"{'attention':22} {'first token s (each batch)':30} {'decoding s (each batch)':30} batch s (median)")
    medians = {}
    for name, runs in times.items():
        medians[name] = statistics.median(p + d for p, d in runs)
        print(f"{name:22} {', '.join(f'{p:.2f}' for p, _ in runs):30} {', '.join(f'{d:.2f}' for _, d in runs):30} "
              f"{medians[name]:.2f}")
    ratio = medians["stock SDPA"] / medians["domainlm_cpu_decode"]
    pairs = [(a, b) for x, y in zip(tokens["stock SDPA"], tokens["domainlm_cpu_decode"]) for a, b in zip(x, y)]
    differ = [(a, b) for a, b in pairs if a != b]
    print(f"speedup of a batch: {ratio:.2f}x; answers that differ: {len(differ)} of {len(pairs)} "
          "(bf16: the softmax runs in fp32 here, in torch's kernel in blocks, so near-ties can flip)")
    for a, b in differ[:2]:
        common = len(os.path.commonprefix([a, b]))
        print(f"  same for {common} characters, then {a[common:common + 40]!r} against {b[common:common + 40]!r}")
    print(f"load avg at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"({time.perf_counter() - start:.0f} s)")
