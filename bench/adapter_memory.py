#!/usr/bin/env python3
"""Memory of serving several adapters: one base with N LoRA adapters (how `domainlm serve` holds them)
against N merged models, each measured as the resident set size (RSS) of a fresh process.

Every setup runs one short generation per model or adapter first, so all weights are really touched.
Printed: RSS of python+torch alone, of the base model alone, of base + N adapters, and of N merged
models, with ratios to the base alone (target: base + 4 adapters <= 1.1x base alone).

    HF_HUB_OFFLINE=1 python bench/adapter_memory.py            # SmolLM2-135M, 4 adapters, rank 16
    HF_HUB_OFFLINE=1 python bench/adapter_memory.py --quick    # 2 adapters, rank 8
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def rss_mb() -> float:
    """This process's resident set size in MiB (VmRSS from /proc)."""
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def _touch(engine_or_model, tokenizer, adapters: list[str | None]) -> None:
    """One 4-token generation per adapter (None: the base model)."""
    from domainlm.generate import GenerationParams, TransformersEngine

    messages = [{"role": "user", "content": "How much is the Lagavulin?"}]
    if isinstance(engine_or_model, TransformersEngine):
        for adapter in adapters:
            engine_or_model.generate(messages, GenerationParams(max_new_tokens=4), adapter=adapter)
    else:
        TransformersEngine(engine_or_model, tokenizer).generate(messages, GenerationParams(max_new_tokens=4))


def child(mode: str, base: str, folders: list[str]) -> dict:
    import torch  # noqa: F401  counted in every setup alike

    from domainlm.generate import TransformersEngine
    from domainlm.models.base import load_base_model

    if mode == "runtime":
        return {"rss_mb": rss_mb()}
    if mode == "base":
        model, tokenizer = load_base_model(base)
        _touch(model, tokenizer, [None])
        return {"rss_mb": rss_mb()}
    if mode == "adapters":
        model, tokenizer = load_base_model(base)
        engine = TransformersEngine(model, tokenizer, adapters={f"a{i}": f for i, f in enumerate(folders)})
        _touch(engine, tokenizer, [None, *engine.adapters])
        return {"rss_mb": rss_mb(), "adapters": len(engine.adapters)}
    if mode == "merged":
        from peft import PeftModel

        merged = []
        for folder in folders:
            model, tokenizer = load_base_model(base)
            merged.append(PeftModel.from_pretrained(model, folder).merge_and_unload())
            _touch(merged[-1], tokenizer, [None])
        return {"rss_mb": rss_mb(), "models": len(merged)}
    raise ValueError(mode)


def make_adapters(base: str, folder: Path, count: int, rank: int) -> list[str]:
    import torch
    from peft import LoraConfig, get_peft_model

    from domainlm.models.base import load_base_model

    paths = []
    for i in range(count):
        torch.manual_seed(i)
        model, _ = load_base_model(base)
        config = LoraConfig(r=rank, lora_alpha=2 * rank, target_modules=TARGETS, init_lora_weights=False,
                            task_type="CAUSAL_LM")
        path = folder / f"adapter-{i}"
        get_peft_model(model, config).save_pretrained(path)
        paths.append(str(path))
    return paths


def run_child(mode: str, base: str, folders: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--base", base, "--folders", json.dumps(folders)],
                         capture_output=True, text=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 adapters of rank 8")
    parser.add_argument("--base", default="smollm2-135m", help="base model alias or folder")
    parser.add_argument("--adapters", type=int, help="number of adapters (default 4; 2 with --quick)")
    parser.add_argument("--rank", type=int, help="LoRA rank (default 16; 8 with --quick)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folders", default="[]", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.base, json.loads(args.folders))))
        return
    count = args.adapters or (2 if args.quick else 4)
    rank = args.rank or (8 if args.quick else 16)
    folder = Path(tempfile.mkdtemp(prefix="domainlm-adapter-mem-"))
    try:
        folders = make_adapters(args.base, folder, count, rank)
        size = sum(f.stat().st_size for p in folders for f in Path(p).glob("*.safetensors")) / count / 2**20
        runtime = run_child("runtime", args.base, [])["rss_mb"]
        base = run_child("base", args.base, [])["rss_mb"]
        adapters = run_child("adapters", args.base, folders)["rss_mb"]
        merged = run_child("merged", args.base, folders)["rss_mb"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"base model: {args.base}; {count} LoRA adapters of rank {rank} on {', '.join(TARGETS)} "
          f"({size:.1f} MiB each on disk)")
    print(f"{'setup':32} {'RSS MiB':>9} {'x base':>7} {'above runtime MiB':>18} {'x base':>7}")
    for label, value in [("python + torch (no model)", runtime), ("base alone", base),
                         (f"base + {count} adapters (serve)", adapters), (f"{count} merged models", merged)]:
        print(f"{label:32} {value:9.0f} {value / base:7.2f} {value - runtime:18.0f} "
              f"{(value - runtime) / (base - runtime):7.2f}")


if __name__ == "__main__":
    main()
