"""The run folder `runs/<run-id>/`: everything that made a result, saved next to it.

    adapter/            PEFT folder (best val loss, or last when there is no val split)
    checkpoint/         last state for --resume: trainable weights, optimiser, scheduler, RNG, data cursor
    config.yaml         the resolved project config
    data.json           dataset files with sha256, sample counts and mix
    versions.json       package versions
    metrics.jsonl       one JSON object per logged step and evaluation
    loss.png            train and val loss curves
    run_card.md         human summary: data, cleaning, config, metrics, time, tokens, cost
    run.json            machine summary read by `domainlm runs`
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from datetime import datetime
from importlib import metadata
from pathlib import Path

import yaml

PACKAGES = ("domainlm", "torch", "transformers", "peft", "accelerate", "trl", "datasets", "safetensors", "numpy")


def runs_dir(root: Path) -> Path:
    return root / "runs"


def new_run_id(root: Path, adapter: str, stage: str, now: datetime | None = None) -> str:
    """`20261123-1530-product-expert-sft`, with `-2`, `-3`... if that folder exists."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M")
    base = f"{stamp}-{adapter}-{stage}"
    candidate, n = base, 1
    while (runs_dir(root) / candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def package_versions() -> dict:
    from domainlm.allocator import active_allocator

    versions = {"python": platform.python_version(), "allocator": active_allocator()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def write_json(path: Path, data) -> None:
    """Write atomically (temp file + rename), so a kill never leaves half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, default=str)
    os.replace(tmp, path)


def write_config(path: Path, resolved: dict) -> None:
    """The resolved project config, with passwords in connection URLs masked (run folders get shared)."""
    path.write_text(yaml.safe_dump(_masked(resolved), sort_keys=False, allow_unicode=True), encoding="utf-8")


def _masked(value):
    """Every string that looks like a URL with a password gets `***` in its place, at any depth."""
    from domainlm.catalog.sources import mask_url

    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return mask_url(value) if isinstance(value, str) and "://" in value else value


def replace_dir(tmp: Path, target: Path) -> None:
    """Swap a freshly written folder into place."""
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    if old.exists():
        shutil.rmtree(old)


def read_metrics(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rows.append(json.loads(line))
    return rows


def plot_loss(metrics: list[dict], path: Path, title: str) -> None:
    """loss.png: train loss per logged step and val loss per evaluation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [(m["step"], m["loss"]) for m in metrics if m.get("type") == "train"]
    val = [(m["step"], m["val_loss"]) for m in metrics if m.get("type") == "eval"]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    if train:
        ax.plot(*zip(*train), label="train", linewidth=1)
    if val:
        ax.plot(*zip(*val), "o-", label="val")
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _fmt(value, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def run_card(summary: dict, data: dict, resolved: dict) -> str:
    """run_card.md: what a reviewer needs to trust or reproduce the run."""
    hours = summary["wall_time_s"] / 3600
    cost_rate = resolved["train"]["cost_per_hour"]
    lines = [
        f"# Run {summary['run_id']}",
        "",
        f"- Project: {summary['project']}",
        f"- Adapter: {summary['adapter']} (stage {summary['stage']})",
        f"- Base model: {summary['base_model']} ({summary.get('base_model_path', '')})",
    ]
    if summary.get("parent_run"):
        lines.append(f"- Started from: run {summary['parent_run']}")
    lines += [
        f"- Status: {summary['status']}",
        f"- Device: {summary['device']} x{summary['world_size']}, bf16 autocast: {summary['bf16']}",
        "",
        "## Data",
        "",
        "| split | file | sha256 | records for this adapter | used |",
        "|---|---|---|---|---|",
    ]
    for split, info in data["files"].items():
        lines.append(f"| {split} | {info['path']} | {info['sha256'][:16]} | {info.get('records', 'n/a')} | {info.get('used', 'n/a')} |")
    mix = data.get("mix", {})
    if mix.get("kinds"):
        lines += ["", "Mix of the train split by kind: " + ", ".join(f"{k} {v}" for k, v in mix["kinds"].items())]
    if mix.get("sources"):
        lines.append("By source: " + ", ".join(f"{k} {v}" for k, v in mix["sources"].items()))
    lines += ["", "## Cleaning", ""]
    for step in data.get("cleaning", []):
        lines.append(f"- {step}")
    lines += [
        "",
        "## Configuration",
        "",
        "```yaml",
        yaml.safe_dump({"base_model": resolved["base_model"], "train": resolved["train"]}, sort_keys=False).rstrip(),
        "```",
        "",
        "## Metrics",
        "",
        f"- Steps: {summary['steps']} of {summary['total_steps']}",
        f"- Final train loss: {_fmt(summary.get('final_train_loss'))}",
        f"- Val loss before training: {_fmt(summary.get('initial_val_loss'))}",
        f"- Final val loss: {_fmt(summary.get('final_val_loss'))}",
        f"- Best val loss: {_fmt(summary.get('best_val_loss'))} at step {_fmt(summary.get('best_step'))} (this is `adapter/`)",
        f"- Wall time: {summary['wall_time_s']:.0f} s",
        f"- Tokens seen: {summary['tokens_seen']:,} ({summary['trained_tokens']:,} with a loss); "
        f"{summary.get('tokens_per_s', 0):.0f} tokens/s",
        f"- Estimated cost: {cost_rate * hours:.4f} at {cost_rate}/hour (train.cost_per_hour)",
        "",
        "![loss](loss.png)",
        "",
    ]
    return "\n".join(lines)


def collect_data_info(files: dict[str, Path], counts: dict[str, dict], cleaning: list[str], mix: dict, root: Path) -> dict:
    from domainlm.paths import file_sha256

    out = {"files": {}, "mix": mix, "cleaning": cleaning}
    for split, path in files.items():
        try:
            rel = str(path.relative_to(root))
        except ValueError:
            rel = str(path)
        out["files"][split] = {"path": rel, "sha256": file_sha256(path), "bytes": path.stat().st_size, **counts.get(split, {})}
    return out


def load_run(folder: Path) -> dict:
    return json.loads((folder / "run.json").read_text(encoding="utf-8"))


def latest_run(root: Path, adapter: str, stage: str, statuses: tuple[str, ...] | None = None) -> Path | None:
    """The newest run folder of an adapter and stage (by start time), optionally with one of `statuses`."""
    found = []
    for folder in runs_dir(root).glob("*/run.json"):
        info = json.loads(folder.read_text(encoding="utf-8"))
        if info.get("adapter") == adapter and info.get("stage") == stage:
            if statuses is None or info.get("status") in statuses:
                found.append((info.get("started_at", ""), folder.parent.name, folder.parent))
    return max(found)[2] if found else None


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")
