"""vLLM: the OpenAI-server launch command with every adapter as a LoRA module, and the domainlm serving config."""

from __future__ import annotations

import shlex

from domainlm.export.run import Run


def served_base(run: Run) -> str:
    """What vLLM loads as the base: the upstream HF id for an alias, else the local folder."""
    from domainlm.models.base import BASE_MODELS

    if run.base_model in BASE_MODELS:
        return BASE_MODELS.get(run.base_model).hf_id
    return str(run.base_folder)


def launch_command(runs: list[Run], adapter_paths: dict[str, str], port: int = 8001, max_model_len: int = 2048) -> str:
    """`vllm serve BASE --enable-lora --lora-modules name=path ... --max-lora-rank R`, shell-quoted."""
    max_rank = max(int(r.adapter_config["r"]) for r in runs)
    # vLLM accepts ranks from a fixed set; the smallest one that holds every adapter.
    allowed = [8, 16, 32, 64, 128, 256, 320, 512]
    rank = next((a for a in allowed if a >= max_rank), max_rank)
    lines = [f"vllm serve {shlex.quote(served_base(runs[0]))}"]
    lines += [f"--port {port}", f"--max-model-len {max_model_len}", "--enable-lora"]
    lines += [f"--max-loras {len(runs)}", f"--max-lora-rank {rank}"]
    lines.append("--lora-modules " + " ".join(shlex.quote(f"{n}={p}") for n, p in adapter_paths.items()))
    return " \\\n  ".join(lines)


def serving_config(runs: list[Run], port: int = 8001) -> dict:
    """The `serve:` section (plus adapter names) that puts domainlm's pipeline in front of the vLLM server."""
    return {
        "serve": {
            "backend": "vllm",
            "vllm_url": f"http://127.0.0.1:{port}/v1",
            "verifier": "repair",
        },
        "adapters_served": {r.name: {"vllm_model": r.name, "run": r.run_id} for r in runs},
    }
