"""Decode tokens/s and time-to-first-token, transformers fp32 vs llama.cpp GGUF, in one run.

    python bench/generate_speed.py [--base smollm2-135m] [--gguf f16 q8_0] [--tokens 64] [--threads 2]

The base model is written to GGUF under $DOMAINLM_HOME/bench/ once. Both engines get the same token ids.
"""

from __future__ import annotations

import argparse
import os
import time


def bench_transformers(model, tokenizer, ids: list[int], n: int) -> tuple[float, float]:
    """(ttft seconds, decode tokens/s) for greedy decoding of exactly n tokens."""
    import torch

    prompt = torch.tensor([ids])
    greedy = dict(do_sample=False, temperature=None, top_p=None, top_k=None)
    with torch.inference_mode():
        started = time.perf_counter()
        model.generate(prompt, max_new_tokens=1, min_new_tokens=1, **greedy)
        ttft = time.perf_counter() - started
        started = time.perf_counter()
        model.generate(prompt, max_new_tokens=n, min_new_tokens=n, **greedy)
        total = time.perf_counter() - started
    return ttft, (n - 1) / max(total - ttft, 1e-9)


def bench_llamacpp(engine, ids: list[int], n: int) -> tuple[float, float]:
    from domainlm.generate import GenerationParams

    engine.llm.reset()
    engine.llm._ctx.kv_cache_clear()
    eot = engine.eot_id
    engine.eot_id = -1  # decode exactly n tokens, like transformers with min_new_tokens
    try:
        tokens = engine.generate_ids(ids, GenerationParams(max_new_tokens=n), None)
    finally:
        engine.eot_id = eot
    timing = engine.last_timing
    return timing["ttft_s"], (len(tokens) - 1) / max(timing["decode_s"], 1e-9)


def main() -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from domainlm import paths
    from domainlm.engines.llamacpp import LlamaCppEngine
    from domainlm.export.gguf_llama import write_base_gguf
    from domainlm.models.base import resolve_base_model
    from domainlm.prompt import chat_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="smollm2-135m")
    parser.add_argument("--gguf", nargs="+", default=["f16", "q8_0"])
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    folder = resolve_base_model(args.base)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    messages = [{"role": "user", "content": "Which red wine would you pair with roast lamb, and why?"}]
    ids = tokenizer(chat_text(tokenizer, messages, add_generation_prompt=True), add_special_tokens=False)["input_ids"]
    rows = []

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    bench_transformers(model, tokenizer, ids, 4)  # warm-up
    runs = [bench_transformers(model, tokenizer, ids, args.tokens) for _ in range(args.repeats)]
    rows.append(("transformers fp32", min(r[0] for r in runs), max(r[1] for r in runs)))
    del model

    out = paths.home() / "bench"
    out.mkdir(parents=True, exist_ok=True)
    for kind in args.gguf:
        path = out / f"{args.base}-{kind}.gguf"
        if not path.exists():
            write_base_gguf(folder, path, kind)
        with LlamaCppEngine(path, tokenizer, n_ctx=1024, n_threads=args.threads) as engine:
            bench_llamacpp(engine, ids, 4)
            runs = [bench_llamacpp(engine, ids, args.tokens) for _ in range(args.repeats)]
        rows.append((f"llama.cpp {kind}", min(r[0] for r in runs), max(r[1] for r in runs)))

    reference = rows[0][2]
    print(f"prompt {len(ids)} tokens, {args.tokens} new tokens, {args.threads} threads, best of {args.repeats}")
    print(f"{'engine':<20} {'TTFT ms':>9} {'decode tok/s':>13} {'speed-up':>9}")
    for name, ttft, tps in rows:
        print(f"{name:<20} {ttft * 1000:>9.1f} {tps:>13.1f} {tps / reference:>8.1f}x")


if __name__ == "__main__":
    main()
