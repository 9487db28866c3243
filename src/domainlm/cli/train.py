"""`domainlm train`: fine-tune one adapter (or all) with LoRA, SFT or DPO, into runs/<run-id>/."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from domainlm.cli.app import DEFAULT_CONFIG, ConfigOption, SetOption, app, console, err_console, exit_with, load


@app.command("train")
def train_command(
    config: ConfigOption = DEFAULT_CONFIG,
    set_: SetOption = None,
    adapter: Annotated[Optional[str], typer.Option("--adapter", "-a", help="Adapter to train (default: the first configured).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Train every configured adapter, each from its own data.")] = False,
    stage: Annotated[str, typer.Option(help="sft, or dpo (from data/dpo.jsonl, starting from an SFT adapter).")] = "sft",
    resume: Annotated[bool, typer.Option("--resume", help="Continue the latest unfinished run of this adapter and stage.")] = False,
    run: Annotated[Optional[str], typer.Option("--run", help="With --resume: the run id to continue.")] = None,
    from_run: Annotated[Optional[str], typer.Option("--from", help="DPO: the SFT run to start from (default: the latest).")] = None,
) -> None:
    """Train LoRA adapters on data/train.jsonl (SFT) or data/dpo.jsonl (DPO); works under `accelerate launch`."""
    from domainlm.errors import ConfigError
    from domainlm.train import train, train_all

    project = load(config, set_)
    if all_ and (adapter or resume):
        raise ConfigError("--all trains every adapter from scratch; it cannot be combined with --adapter or --resume")
    if all_:
        summaries = train_all(project, stage=stage, console=err_console)
    else:
        name = adapter or next(iter(project.adapters), None)
        if name is None:
            raise ConfigError("the project has no adapters; add one under `adapters:`")
        summaries = [train(project, name, stage=stage, resume=resume, run_id=run, from_run=from_run, console=err_console)]
    for s in summaries:
        console.print(f"[green]{s['status']}[/] {s['run_id']}: adapter at {s.get('adapter_dir', '-')}")
    if any(s["status"] == "interrupted" for s in summaries):
        exit_with(130)
