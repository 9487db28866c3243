"""Finding trained adapters in a project's run folders, and loading several of them onto one base model.

A run folder is `runs/<run-id>/` with `run.json` (`{"run_id", "adapter", "stage", "status", ...}`) and
`adapter/` (a PEFT folder). Every configured adapter is served from its newest finished run; `base` is the
pseudo-adapter that means "adapters disabled".
"""

from __future__ import annotations

import json
from pathlib import Path

from domainlm.config import ProjectConfig
from domainlm.errors import DomainlmError

BASE = "base"  # the pseudo-adapter name: the base model with every adapter disabled
# Statuses of a run whose adapter is complete (the trainer's FINISHED); a running or failed run is skipped.
FINISHED = ("finished", "early_stopped", "time_budget")


class AdapterError(DomainlmError):
    """An adapter folder cannot be found or loaded."""


def adapter_dir(path: str | Path) -> Path:
    """The PEFT folder for a run folder (`runs/<id>/`) or an adapter folder itself; raises AdapterError.

    >>> adapter_dir("runs/20261123-1530-product-expert-sft")  # doctest: +SKIP
    PosixPath('runs/20261123-1530-product-expert-sft/adapter')
    """
    folder = Path(path).expanduser()
    for candidate in (folder, folder / "adapter"):
        if (candidate / "adapter_config.json").exists():
            return candidate
    raise AdapterError(
        f"{folder}: neither a PEFT adapter folder (adapter_config.json) nor a run folder with adapter/; "
        f"train one with `domainlm train --adapter NAME`."
    )


def latest_runs(project: ProjectConfig) -> dict[str, Path]:
    """Adapter name -> PEFT folder of its newest finished run, for every adapter the project configures."""
    found: dict[str, tuple[str, str, Path]] = {}
    for info_file in sorted(project.path("runs").glob("*/run.json")):
        try:
            info = json.loads(info_file.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            continue  # a run.json being written right now; the next reload picks it up
        name = info.get("adapter")
        if name not in project.adapters or info.get("status") not in FINISHED:
            continue
        folder = info_file.parent / "adapter"
        if not (folder / "adapter_config.json").exists():
            continue
        key = (info.get("finished_at") or info.get("started_at") or "", info_file.parent.name, folder)
        if name not in found or key[:2] > found[name][:2]:
            found[name] = key
    return {name: key[2] for name, key in sorted(found.items())}


def attach_adapters(model, adapters: dict[str, Path]):
    """`model` with every adapter loaded under its name (a PeftModel), or `model` itself when there are none."""
    from peft import PeftModel

    for name, folder in adapters.items():
        if name == BASE:
            raise AdapterError(f"{BASE!r} is reserved for the base model without adapters; rename the adapter.")
        if isinstance(model, PeftModel):
            model.load_adapter(str(folder), adapter_name=name)
        else:
            model = PeftModel.from_pretrained(model, str(folder), adapter_name=name)
        _to_base_dtype(model, name)
        model.eval()
    return model


def _to_base_dtype(model, name: str) -> None:
    """Adapter `name`'s weights in the base's dtype when the base is bf16/fp16 (serving on bf16 CPUs and GPUs).

    PEFT upcasts loaded adapter weights to fp32, which doubles each adapter's memory (18.7 MiB for rank 16 on
    every linear layer of SmolLM2-135M: four adapters were 1.11x the base alone) and makes every LoRA call
    cast its bf16 input to fp32 and back. Trained weights are fp32 on disk; this only changes what is held.
    """
    import torch

    dtype = getattr(model, "dtype", torch.float32)
    if dtype not in (torch.bfloat16, torch.float16):
        return
    for pname, param in model.named_parameters():
        parts = pname.split(".")
        if name in parts and any(part.startswith("lora_") for part in parts) and param.dtype != dtype:
            param.data = param.data.to(dtype)


def _stamp(path: Path) -> str:
    import hashlib

    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    blob = "|".join(f"{p.name}:{p.stat().st_size}:{int(p.stat().st_mtime)}" for p in files)
    return hashlib.sha256(f"{path.resolve()}|{blob}".encode()).hexdigest()[:12]


def gguf_files(project: ProjectConfig, folders: dict[str, Path]) -> tuple[Path, dict[str, Path]]:
    """The base model and each PEFT adapter as GGUF files for the llama.cpp engine, converted once and cached
    under `$DOMAINLM_HOME/gguf/` (keyed by the source files' names, sizes and times)."""
    from domainlm import paths
    from domainlm.export.gguf_llama import read_config, write_base_gguf, write_lora_gguf
    from domainlm.models.base import resolve_base_model

    base_folder = resolve_base_model(project.base_model, project.root)
    cache = paths.home() / "gguf"
    base = cache / f"base-{_stamp(base_folder)}.f16.gguf"
    if not base.exists():
        cache.mkdir(parents=True, exist_ok=True)
        write_base_gguf(base_folder, base, "f16", name=project.base_model)
    lora = {}
    for name, folder in folders.items():
        target = cache / f"{name}-{_stamp(folder)}.lora.gguf"
        if not target.exists():
            write_lora_gguf(folder, read_config(base_folder), target, name)
        lora[name] = target
    return base, lora
