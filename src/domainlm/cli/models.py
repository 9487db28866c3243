"""`domainlm models`: base models and embedders, their aliases and what is cached."""

from __future__ import annotations

from rich.table import Table

from domainlm.cli.app import app, console


@app.command("models")
def models_command() -> None:
    """List base-model and embedder aliases, where their weights come from, and what is cached."""
    from domainlm import paths
    from domainlm.errors import ModelError
    from domainlm.models.base import model_inventory
    from domainlm.models.embedders import EMBEDDERS

    table = Table(title=f"Models (cache: {paths.home()})")
    for column in ("alias", "kind", "upstream", "available", "converted cache"):
        table.add_column(column)
    for row in model_inventory():
        cached = f"{row['cached']} ({row['cached_mb']} MB)" if row["cached"] else "not yet (converted on first use)"
        table.add_row(row["alias"], row["kind"], row["upstream"], "yes" if row["available"] else f"no: {row['source']}", cached)
    for alias, spec in EMBEDDERS.items():
        try:
            spec.locate()
            available = "yes"
        except ModelError:
            available = f"no: {spec.install_hint}"
        table.add_row(alias, f"embedder ({spec.dim}-d)", spec.hf_id, available, "used in place (package files)")
    console.print(table)
    console.print("Also accepted as base_model: a local Hugging Face folder, a .gguf file, or a repo id in the local HF cache.")
