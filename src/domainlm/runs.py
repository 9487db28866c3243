"""The run registry: every `runs/<run-id>/` folder of a project, read back as rows and rich tables.

Each row says what changed against the previous run of the same adapter and stage (a diff of the resolved
configs and of the dataset hashes), the data size and mix, time, losses and eval scores when present
(`runs/<id>/eval.json` or `eval/<run-id>/metrics.json`).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from rich.table import Table

from domainlm.errors import DomainlmError

# Config fields that never change what is learned; left out of "what changed".
IGNORED_KEYS = ("train.cost_per_hour", "train.time_budget_s", "serve.", "eval.", "retrieval.")


class RunNotFound(DomainlmError):
    """A run id that is not under runs/."""


def _flatten(data, prefix: str = "") -> dict:
    out = {}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}{k}."))
    else:
        out[prefix[:-1]] = data
    return out


def config_diff(old: dict, new: dict) -> list[str]:
    """`['train.lr: 0.0002 -> 0.0001', ...]` for every leaf that differs (learning-relevant keys only)."""
    a, b = _flatten(old), _flatten(new)
    changes = []
    for key in sorted(set(a) | set(b)):
        if key.startswith(IGNORED_KEYS) or a.get(key) == b.get(key):
            continue
        changes.append(f"{key}: {a.get(key, '(unset)')} -> {b.get(key, '(unset)')}")
    return changes


def _read_json(path: Path) -> dict | None:
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def eval_scores(root: Path, run_id: str) -> dict:
    """Numeric scores from runs/<id>/eval.json or eval/<id>/metrics.json (top level or under `metrics`)."""
    for path in (root / "runs" / run_id / "eval.json", root / "eval" / run_id / "metrics.json"):
        data = _read_json(path)
        if data is None:
            continue
        scores = data.get("metrics", data) if isinstance(data, dict) else {}
        return {k: v for k, v in scores.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return {}


def load_runs(root: Path) -> list[dict]:
    """All runs of a project, oldest first, each with `config`, `data_files`, `changes` and `eval` added."""
    runs = []
    for folder in sorted((root / "runs").glob("*/run.json")):
        info = json.loads(folder.read_text(encoding="utf-8"))
        run_dir = folder.parent
        config_path = run_dir / "config.yaml"
        info["config"] = yaml.safe_load(config_path.read_text(encoding="utf-8")) if config_path.exists() else {}
        data = _read_json(run_dir / "data.json") or {}
        info["data_files"] = {k: v.get("sha256") for k, v in data.get("files", {}).items()}
        info["eval"] = eval_scores(root, info["run_id"])
        info["dir"] = str(run_dir)
        runs.append(info)
    runs.sort(key=lambda r: (r.get("started_at") or "", r["run_id"]))
    previous: dict[tuple, dict] = {}
    for run in runs:
        key = (run.get("adapter"), run.get("stage"))
        before = previous.get(key)
        if before is None:
            changes = ["first run"] if run.get("stage") != "dpo" else [f"from SFT {run.get('parent_run')}"]
        else:
            changes = config_diff(before["config"], run["config"])
            changes += [f"data {k} changed" for k, h in run["data_files"].items() if before["data_files"].get(k) not in (None, h)]
            if run.get("parent_run") != before.get("parent_run"):
                changes.append(f"parent {before.get('parent_run')} -> {run.get('parent_run')}")
            changes = changes or ["nothing (same config and data)"]
        run["changes"] = changes
        previous[key] = run
    return runs


def find_run(runs: list[dict], run_id: str) -> dict:
    matches = [r for r in runs if r["run_id"] == run_id] or [r for r in runs if r["run_id"].startswith(run_id)]
    if len(matches) != 1:
        known = ", ".join(r["run_id"] for r in runs[-5:]) or "none"
        what = "is ambiguous" if matches else "is not a run"
        raise RunNotFound(f"{run_id!r} {what} under runs/ (latest: {known}); see `domainlm runs list`")
    return matches[0]


def _f(value, fmt: str = ".3f") -> str:
    return "-" if value is None else format(value, fmt)


def _data(run: dict) -> str:
    data = run.get("data", {})
    kinds = data.get("mix", {}).get("kinds", {})
    mix = ", ".join(f"{k} {v}" for k, v in list(kinds.items())[:4])
    return f"{data.get('used', data.get('train_items', '?'))} ({mix})" if mix else str(data.get("used", "?"))


def _time(run: dict) -> str:
    seconds = run.get("wall_time_s")
    if seconds is None:
        return "-"
    return f"{seconds:.0f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


def _eval(run: dict, limit: int = 3) -> str:
    return ", ".join(f"{k} {v:.3g}" for k, v in list(run["eval"].items())[:limit]) or "-"


def list_table(runs: list[dict]) -> Table:
    table = Table(title="Runs")
    for column in ("run", "base", "adapter", "stage", "status", "what changed", "data (mix)", "time",
                   "train loss", "val loss", "eval"):
        table.add_column(column, overflow="fold")
    for r in runs:
        changes = r["changes"]
        changed = "; ".join(changes[:3]) + (f"; +{len(changes) - 3} more" if len(changes) > 3 else "")
        table.add_row(r["run_id"], Path(str(r.get("base_model", "?"))).name, r.get("adapter", "?"), r.get("stage", "?"),
                      r.get("status", "?"), changed, _data(r), _time(r), _f(r.get("final_train_loss")),
                      _f(r.get("final_val_loss")), _eval(r))
    return table


def show_table(run: dict) -> Table:
    table = Table(title=f"Run {run['run_id']}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    rows = [
        ("folder", run["dir"]), ("base model", f"{run.get('base_model')} ({run.get('base_model_path')})"),
        ("adapter / stage", f"{run.get('adapter')} / {run.get('stage')}"), ("parent run", run.get("parent_run") or "-"),
        ("status", run.get("status")), ("started / finished", f"{run.get('started_at')} / {run.get('finished_at')}"),
        ("steps", f"{run.get('steps', '-')} / {run.get('total_steps')}"),
        ("what changed", "\n".join(run["changes"])), ("data (mix)", _data(run)),
        ("sources", ", ".join(f"{k} {v}" for k, v in run.get("data", {}).get("mix", {}).get("sources", {}).items()) or "-"),
        ("data files", "\n".join(f"{k}: {h[:16]}" for k, h in run["data_files"].items())),
        ("train loss (last 10 steps)", _f(run.get("final_train_loss"), ".4f")),
        ("val loss before / final / best", f"{_f(run.get('initial_val_loss'), '.4f')} / {_f(run.get('final_val_loss'), '.4f')} / "
                                           f"{_f(run.get('best_val_loss'), '.4f')} (step {run.get('best_step')})"),
        ("tokens seen", f"{run.get('tokens_seen', 0):,} at {run.get('tokens_per_s', 0):.0f}/s"),
        ("wall time", _time(run)), ("estimated cost", _f(run.get("cost"), ".4f")),
        ("eval", "\n".join(f"{k}: {v}" for k, v in run["eval"].items()) or "-"),
    ]
    for k, v in rows:
        table.add_row(k, str(v))
    return table


def compare_table(runs: list[dict]) -> Table:
    """Runs side by side: outcomes, then every config field that differs between them."""
    table = Table(title="Compare runs")
    table.add_column("field", style="bold")
    for r in runs:
        table.add_column(r["run_id"], overflow="fold")
    outcome = [
        ("adapter / stage", lambda r: f"{r.get('adapter')} / {r.get('stage')}"),
        ("base", lambda r: Path(str(r.get("base_model"))).name), ("status", lambda r: r.get("status")),
        ("data (mix)", _data), ("time", _time), ("tokens", lambda r: f"{r.get('tokens_seen', 0):,}"),
        ("train loss", lambda r: _f(r.get("final_train_loss"))), ("val loss", lambda r: _f(r.get("final_val_loss"))),
        ("best val loss", lambda r: _f(r.get("best_val_loss"))),
    ]
    for name, get in outcome:
        table.add_row(name, *[str(get(r)) for r in runs])
    scores = sorted({k for r in runs for k in r["eval"]})
    for k in scores:
        table.add_row(f"eval: {k}", *[_f(r["eval"].get(k)) for r in runs])
    flat = [_flatten(r["config"]) for r in runs]
    keys = sorted({k for f in flat for k in f if not k.startswith(IGNORED_KEYS)})
    for k in keys:
        values = [f.get(k) for f in flat]
        if any(v != values[0] for v in values):
            table.add_row(f"config: {k}", *[str(v) for v in values])
    return table
