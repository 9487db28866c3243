"""Read and check a training run folder before anything is exported from it.

    runs/<run-id>/adapter/      PEFT LoRA folder (adapter_config.json + adapter_model.safetensors)
    runs/<run-id>/run.json      {"run_id", "adapter", "stage", "base_model", ...}
    runs/<run-id>/config.yaml   the resolved project config
    runs/<run-id>/metrics.jsonl one JSON object per logged step / evaluation
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from huggingface_hub.errors import HFValidationError

from domainlm.errors import ModelError
from domainlm.export.errors import ExportError
from domainlm.export.gguf_llama import check_finite, load_adapter_tensors, read_adapter_config, read_config


@dataclass
class Run:
    """One trained adapter and everything the exporters need to know about it."""

    folder: Path
    run_id: str
    name: str  # the adapter's name in the project (`product-expert`), used for files and served models
    base_model: str
    base_folder: Path  # the base model as a local Hugging Face folder
    adapter_dir: Path
    adapter_config: dict
    info: dict = field(default_factory=dict)  # run.json
    config: dict = field(default_factory=dict)  # config.yaml
    metrics: list[dict] = field(default_factory=list)

    @property
    def project_root(self) -> Path:
        return self.folder.parent.parent


def find_run(run: str, project_root: Path | None) -> Path:
    """A run folder from a path or a run id under `<project>/runs/`."""
    candidate = Path(run).expanduser()
    if candidate.is_dir():
        return candidate.resolve()
    if project_root is not None and (project_root / "runs" / run).is_dir():
        return (project_root / "runs" / run).resolve()
    where = f" or {project_root / 'runs' / run}" if project_root is not None else ""
    raise ExportError(f"run {run!r} not found (looked for {candidate}{where}); `domainlm runs list` shows the runs.")


def load_run(folder: Path) -> Run:
    """Read a run folder and check that its base model and adapter are usable; raises ExportError."""
    from domainlm.models.base import resolve_base_model

    info_path = folder / "run.json"
    if not info_path.exists():
        raise ExportError(f"{folder}: not a run folder (no run.json).")
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ExportError(f"{info_path}: corrupt run summary ({exc}).") from exc
    config_path = folder / "config.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) if config_path.exists() else {}
    base_model = info.get("base_model") or (config or {}).get("base_model")
    if not base_model:
        raise ExportError(f"{info_path}: no base_model recorded for run {info.get('run_id', folder.name)!r}.")
    adapter_dir = folder / (info.get("adapter_path") or "adapter")
    if not adapter_dir.is_dir():
        raise ExportError(f"{folder}: the run has no adapter folder ({adapter_dir.name}/).")

    project_root = folder.parent.parent
    local = Path(str(base_model)).expanduser()
    local = local if local.is_absolute() else project_root / local
    looks_like_path = str(base_model).startswith((".", "/", "~")) or str(base_model).endswith(".gguf")
    if looks_like_path and not local.exists():
        raise ExportError(f"run {folder.name}: base model {base_model!r} is missing ({local} does not exist).")
    try:
        base_folder = resolve_base_model(str(base_model), project_root)
    except (ModelError, HFValidationError) as exc:
        raise ExportError(f"run {folder.name}: base model {base_model!r} is missing: {exc}") from exc

    adapter_config = read_adapter_config(adapter_dir)
    tensors = load_adapter_tensors(adapter_dir)
    for key, array in tensors.items():
        check_finite(array, f"{adapter_dir.name}/{key}")
    _check_adapter_fits(adapter_dir, tensors, read_config(base_folder))

    metrics = []
    metrics_path = folder / "metrics.jsonl"
    if metrics_path.exists():
        for line in metrics_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                metrics.append(json.loads(line))
    return Run(
        folder=folder,
        run_id=info.get("run_id", folder.name),
        name=info.get("adapter") or folder.name,
        base_model=str(base_model),
        base_folder=base_folder,
        adapter_dir=adapter_dir,
        adapter_config=adapter_config,
        info=info,
        config=config or {},
        metrics=metrics,
    )


def _check_adapter_fits(adapter_dir: Path, tensors: dict, base_config: dict) -> None:
    """Every LoRA A must read `in` features and every B write `out` features of some base layer."""
    hidden = base_config.get("hidden_size")
    inner = base_config.get("intermediate_size")
    heads = base_config.get("num_attention_heads")
    head_dim = base_config.get("head_dim") or (hidden // heads if hidden and heads else None)
    kv = (base_config.get("num_key_value_heads") or heads or 0) * (head_dim or 0)
    dims = {hidden, inner, kv, (heads or 0) * (head_dim or 0), base_config.get("vocab_size")}
    for key, array in tensors.items():
        if array.ndim != 2:
            continue
        if ".lora_A." in key and array.shape[1] not in dims:
            raise ExportError(f"{adapter_dir}: {key} reads {array.shape[1]} features; it was not trained on this base model.")
        if ".lora_B." in key and array.shape[0] not in dims:
            raise ExportError(f"{adapter_dir}: {key} writes {array.shape[0]} features; it was not trained on this base model.")
