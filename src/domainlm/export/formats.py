"""Export formats, one function each, and `export_runs`, which writes a folder whole or not at all.

    merged  base + adapter merged into a Hugging Face folder per adapter
    gguf    base-f16.gguf, base-q8_0.gguf, <adapter>.lora.gguf, <adapter>.merged-f16.gguf
    ollama  gguf files + Modelfile.<adapter> + create.sh
    vllm    vllm_serve.sh (every adapter as a LoRA module) + domainlm-serve.yaml + the PEFT folders
Every folder also gets README.md, the model card.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import yaml

from domainlm.export.card import model_card
from domainlm.export.errors import ExportError
from domainlm.export.run import Run
from domainlm.registry import Registry

Exporter = Callable[[list[Run], Path], list[str]]  # (runs, staging folder) -> files written, relative
EXPORTERS: Registry[Exporter] = Registry("export format")


def _tokenizer(run: Run):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(run.base_folder)


@EXPORTERS.register("merged")
def export_merged(runs: list[Run], out: Path) -> list[str]:
    from domainlm.export.merge import merge_run

    files = []
    for run in runs:
        merge_run(run, out / run.name)
        files.append(f"{run.name}/")
    return files


@EXPORTERS.register("gguf")
def export_gguf(runs: list[Run], out: Path, merged: bool = True) -> list[str]:
    from domainlm.export.gguf_llama import read_config, write_base_gguf, write_lora_gguf
    from domainlm.export.merge import merge_run

    base = runs[0].base_folder
    files = []
    for kind in ("f16", "q8_0"):
        write_base_gguf(base, out / f"base-{kind}.gguf", kind, name=runs[0].base_model)
        files.append(f"base-{kind}.gguf")
    for run in runs:
        write_lora_gguf(run.adapter_dir, read_config(base), out / f"{run.name}.lora.gguf", run.name)
        files.append(f"{run.name}.lora.gguf")
        if merged:
            with tempfile.TemporaryDirectory(prefix="merge-", dir=out) as tmp:
                merge_run(run, Path(tmp))
                write_base_gguf(Path(tmp), out / f"{run.name}.merged-f16.gguf", "f16", name=f"{run.base_model}+{run.name}")
            files.append(f"{run.name}.merged-f16.gguf")
    return files


@EXPORTERS.register("ollama")
def export_ollama(runs: list[Run], out: Path) -> list[str]:
    from domainlm.export.ollama import modelfile

    files = export_gguf(runs, out, merged=False)
    tokenizer = _tokenizer(runs[0])
    project = runs[0].config.get("name", "domainlm")
    commands = ["#!/bin/sh", "# Create one Ollama model per adapter (run from this folder).", "set -e", 'cd "$(dirname "$0")"']
    for run in runs:
        text = modelfile("./base-f16.gguf", f"./{run.name}.lora.gguf", tokenizer, _system_prompt(run))
        (out / f"Modelfile.{run.name}").write_text(text, encoding="utf-8")
        files.append(f"Modelfile.{run.name}")
        commands.append(f"ollama create {project}-{run.name} -f Modelfile.{run.name}")
    commands.append(f"# then: ollama run {project}-{runs[0].name}")
    (out / "create.sh").write_text("\n".join(commands) + "\n", encoding="utf-8")
    (out / "create.sh").chmod(0o755)
    return files + ["create.sh"]


def _system_prompt(run: Run) -> str | None:
    """The brand's system prompt as training used it (without per-turn retrieved context)."""
    from domainlm.config import BrandConfig
    from domainlm.prompt import system_prompt

    brand = (run.config or {}).get("brand")
    return system_prompt(BrandConfig(**brand)) if brand else None


@EXPORTERS.register("vllm")
def export_vllm(runs: list[Run], out: Path) -> list[str]:
    from domainlm.export.vllm import launch_command, serving_config

    adapters = out / "adapters"
    paths = {}
    for run in runs:
        shutil.copytree(run.adapter_dir, adapters / run.name)
        paths[run.name] = f"./adapters/{run.name}"
    script = "#!/bin/sh\n# vLLM OpenAI server with every adapter as a LoRA module (run from this folder).\n"
    script += 'cd "$(dirname "$0")"\n' + launch_command(runs, paths) + "\n"
    (out / "vllm_serve.sh").write_text(script, encoding="utf-8")
    (out / "vllm_serve.sh").chmod(0o755)
    (out / "domainlm-serve.yaml").write_text(
        "# Merge into domainlm.yaml: domainlm serve then runs retrieval, guardrails and the verifier\n"
        "# in front of the vLLM server, selecting each adapter by its LoRA module name.\n"
        + yaml.safe_dump(serving_config(runs), sort_keys=False),
        encoding="utf-8",
    )
    return ["adapters/", "vllm_serve.sh", "domainlm-serve.yaml"]


def default_out(runs: list[Run], fmt: str) -> Path:
    name = runs[0].run_id if len(runs) == 1 else f"{runs[0].config.get('name', 'project')}-{len(runs)}-adapters"
    return runs[0].project_root / "exports" / f"{name}-{fmt}"


def export_runs(runs: list[Run], fmt: str, out: Path | None = None, overwrite: bool = False) -> Path:
    """Export `runs` (adapters on one base) as `fmt` into `out`; the folder appears only when complete."""
    try:
        exporter = EXPORTERS.get(fmt)
    except KeyError as exc:
        raise ExportError(str(exc.args[0])) from None
    if not runs:
        raise ExportError("nothing to export: give at least one --run.")
    bases = {str(r.base_folder) for r in runs}
    if len(bases) > 1:
        raise ExportError(f"runs use different base models ({', '.join(sorted(bases))}); export them separately.")
    names = [r.name for r in runs]
    if len(set(names)) != len(names):
        raise ExportError(f"two runs train the same adapter name ({', '.join(names)}); export them separately.")
    out = (out or default_out(runs, fmt)).resolve()
    if out.exists() and not overwrite:
        raise ExportError(f"{out} already exists; remove it or pass --force.")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        files = exporter(runs, staging)
        (staging / "README.md").write_text(model_card(runs, fmt, files), encoding="utf-8")
        (staging / "export.json").write_text(
            json.dumps({"format": fmt, "runs": [r.run_id for r in runs], "base_model": runs[0].base_model, "files": files}, indent=2),
            encoding="utf-8",
        )
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out
