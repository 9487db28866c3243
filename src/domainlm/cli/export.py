"""`domainlm export`: write a trained run as a merged HF folder, GGUF files, an Ollama Modelfile or a vLLM launch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from domainlm.cli.app import DEFAULT_CONFIG, ConfigOption, app, console


@app.command("export")
def export(
    run: Annotated[list[str], typer.Option("--run", "-r", help="Run id under runs/ or a run folder (repeat for several adapters).")],
    format: Annotated[str, typer.Option("--format", "-f", help="merged, gguf, ollama or vllm.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Output folder (default exports/<run>-<format>).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output folder.")] = False,
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Export trained adapters for llama.cpp, Ollama, vLLM or plain transformers."""
    from domainlm.export import export_runs, find_run, load_run

    project_file = config if config.suffix in (".yaml", ".yml") else config / "domainlm.yaml"
    root = project_file.parent.resolve() if project_file.exists() else None
    runs = [load_run(find_run(r, root)) for r in run]
    with console.status(f"Exporting {', '.join(r.run_id for r in runs)} as {format}"):
        folder = export_runs(runs, format, out, overwrite=force)
    console.print(f"[green]Exported[/] {format} -> {folder}")
    for line in (folder / "README.md").read_text(encoding="utf-8").split("## Files", 1)[1].split("\n## ", 1)[0].strip().splitlines():
        console.print(f"  {line}", highlight=False)
