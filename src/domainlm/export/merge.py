"""Merge a LoRA adapter into a fresh copy of its base model and save a Hugging Face folder."""

from __future__ import annotations

from pathlib import Path

from domainlm.export.errors import ExportError
from domainlm.export.run import Run


def merge_run(run: Run, target: Path) -> Path:
    """Write base + adapter merged (fp32 safetensors, tokenizer, chat template) into `target`.

    The base is loaded anew for the merge, so no shared model is modified; peft's `safe_merge` checks
    each merged weight for NaN/inf, and the whole state dict is checked again before anything is written.
    """
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(run.base_folder, dtype=torch.float32)
    try:
        model = PeftModel.from_pretrained(base, run.adapter_dir)
        merged = model.merge_and_unload(safe_merge=True)
    except ValueError as exc:
        raise ExportError(f"run {run.run_id}: merging {run.adapter_dir} failed: {exc}") from exc
    for name, tensor in merged.state_dict().items():
        if not torch.isfinite(tensor).all():
            raise ExportError(f"run {run.run_id}: merged tensor {name!r} holds NaN or inf; nothing was written.")
    target.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(target, safe_serialization=True)
    tokenizer = AutoTokenizer.from_pretrained(run.base_folder)
    tokenizer.save_pretrained(target)
    return target
