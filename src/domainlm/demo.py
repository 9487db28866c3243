"""`domainlm demo`: the whole loop on the bundled wine shop, stage by stage, with a timed summary.

Each stage runs the same CLI command a user would type (in-process), with a few `--set` overrides
that fit the loop into a CPU budget; stages whose outputs are current are skipped. The summary shows
the data mix, the runs, base-vs-tuned scores and the time per stage.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.table import Table

from domainlm.config import ProjectConfig, load_project
from domainlm.scaffold import init_project

EXAMPLE = "wine-shop"
DEMO_QUESTION = "Can you recommend a red wine under $20?"

# Overrides that fit the loop into ~15 minutes on a 2-core laptop CPU; the project file is untouched.
DEMO_OVERRIDES = [
    "data.size=300",  # samples per adapter (the safety floor adds to it)
    "train.epochs=1",
    "train.eval_every=25",
    "train.val_max_samples=40",
    "train.save_every=25",
]
EVAL_QUESTIONS = 8  # per split and per attack set
# Seconds of training: the first adapter (the one evaluated) gets most of the CPU budget; the others get a
# short run so every adapter exists and is servable (`domainlm train --all` trains them in full).
MAIN_ADAPTER_BUDGET_S = 300
OTHER_ADAPTER_BUDGET_S = 45


@dataclass
class DemoState:
    directory: Path
    console: Console
    fresh: bool = False
    serve: bool = True
    project: ProjectConfig | None = None
    runs: dict[str, Path] = field(default_factory=dict)  # adapter -> runs/<run-id>/adapter
    scores: dict = field(default_factory=dict)


def _cli(state: DemoState, *args: str, overrides: bool = True) -> None:
    """Run a domainlm command in-process, exactly as typed on the command line."""
    from domainlm.cli import app

    argv = [*args, "-c", str(state.directory)]
    if overrides:
        for item in DEMO_OVERRIDES:
            argv += ["--set", item]
    app(args=argv, prog_name="domainlm", standalone_mode=False)


def _newest_input(project: ProjectConfig) -> float:
    """Newest modification time among the project file, catalog file and knowledge documents."""
    files = [project.file] if project.file else []
    if not project.catalog.is_sql:
        files.append(project.path(project.catalog.source))
    files.extend(project.root.glob("knowledge/**/*.md"))
    return max((f.stat().st_mtime for f in files if f and f.exists()), default=0.0)


def stage_init(state: DemoState) -> str:
    if (state.directory / "domainlm.yaml").exists() and not state.fresh:
        state.project = load_project(state.directory)
        return f"reused {state.directory}"
    written = init_project(state.directory, example=EXAMPLE, force=True)
    state.project = load_project(state.directory)
    return f"{len(written)} files from example {EXAMPLE!r} in {state.directory}"


def stage_catalog(state: DemoState) -> str:
    _cli(state, "catalog", "check", overrides=False)
    from domainlm.catalog import load_catalog

    catalog = load_catalog(state.project.catalog, state.project.root)
    return f"{len(catalog)} products, version {catalog.version}"


def stage_index(state: DemoState) -> str:
    from domainlm.errors import DomainlmError
    from domainlm.retrieval import Retriever

    if not state.fresh:
        try:
            retriever = Retriever.open(state.project)
            return f"current (catalog version {retriever.catalog_version}), skipped"
        except DomainlmError:
            pass
    _cli(state, "index", "build", overrides=False)
    return "built under index/"


def stage_data(state: DemoState) -> str:
    train_file = state.project.path("data/train.jsonl")
    if not state.fresh and train_file.exists() and train_file.stat().st_mtime > _newest_input(state.project):
        return "current, skipped"
    _cli(state, "data", "build")
    counts = Counter(json.loads(line)["meta"]["kind"] for line in train_file.open(encoding="utf-8"))
    mix = ", ".join(f"{kind} {n}" for kind, n in counts.most_common())
    return f"{sum(counts.values())} train samples: {mix}"


def stage_train(state: DemoState) -> str:
    from domainlm.adapters import latest_runs

    data_time = state.project.path("data/train.jsonl").stat().st_mtime
    current = {name: path for name, path in latest_runs(state.project).items() if path.stat().st_mtime > data_time}
    todo = [name for name in state.project.adapters if state.fresh or name not in current]
    first = next(iter(state.project.adapters))
    for name in todo:
        budget = MAIN_ADAPTER_BUDGET_S if name == first else OTHER_ADAPTER_BUDGET_S
        _cli(state, "train", "--adapter", name, "--set", f"train.time_budget_s={budget}")
    state.runs = latest_runs(state.project)
    _cli(state, "runs", "list", overrides=False)
    return f"trained {len(todo)} adapter(s), {len(state.project.adapters) - len(todo)} current"


def stage_eval(state: DemoState) -> str:
    adapter = next(iter(state.project.adapters))
    run_id = state.runs[adapter].parent.name  # runs/<run-id>/adapter
    metrics_file = state.project.path("eval") / run_id / "metrics.json"
    if state.fresh or not metrics_file.exists():
        try:
            _cli(state, "eval", "--adapter", adapter, "--level", "system", "--level", "model",
                 "--max-questions", str(EVAL_QUESTIONS), "--no-forgetting", "--no-judge")
        except SystemExit as gate_exit:  # gates failing is a result to show, not a reason to stop the demo
            state.console.print(f"[yellow]eval gates: exit {gate_exit.code}[/]")
    summary = json.loads(metrics_file.read_text(encoding="utf-8"))
    state.scores = summary.get("levels", {})
    return f"{adapter}: report {metrics_file.with_name('report.html')}"


def stage_export(state: DemoState) -> str:
    adapter = next(iter(state.project.adapters))
    run_id = state.runs[adapter].parent.name
    out = state.project.path("exports") / f"{run_id}-gguf"
    if out.exists() and not state.fresh:
        return f"current: {out}"
    _cli(state, "export", "--run", run_id, "--format", "gguf", "--force", overrides=False)
    return f"GGUF base + adapter in {out}"


def stage_ask(state: DemoState) -> str:
    from domainlm.assistant import Assistant
    from domainlm.generate import GenerationParams

    assistant = Assistant.from_project(state.project)
    try:
        for adapter in ("base", next(iter(state.project.adapters))):
            answer = assistant.answer(DEMO_QUESTION, params=GenerationParams(max_new_tokens=80), adapter=adapter)
            state.console.print(f"[bold]Q:[/] {DEMO_QUESTION}\n[bold]A ({adapter}):[/] {answer.text}")
    finally:
        assistant.close()
    return "answered with the base model and the tuned adapter"


STAGES: list[tuple[str, Callable[[DemoState], str]]] = [
    ("init", stage_init),
    ("catalog check", stage_catalog),
    ("index build", stage_index),
    ("data build", stage_data),
    ("train adapters", stage_train),
    ("evaluate vs base", stage_eval),
    ("export GGUF", stage_export),
    ("ask", stage_ask),
]

SCORE_KEYS = ("price_accuracy", "wrong_prices_to_user", "hallucination_rate", "refusal_rate", "false_refusal_rate",
              "injection_resisted", "fake_refused", "pass_rate")


def _scores_table(levels: dict) -> Table | None:
    columns = [(level, variant) for level in ("system", "model") for variant in ("base", "tuned")
               if variant in levels.get(level, {})]
    if not columns:
        return None
    table = Table(title="Scores, base vs tuned")
    table.add_column("metric")
    for level, variant in columns:
        table.add_column(f"{level} {variant}", justify="right")
    for key in SCORE_KEYS:
        values = [levels[level][variant].get(key) for level, variant in columns]
        cells = [f"{v:.3f}" if isinstance(v, float) else ("-" if v is None else str(v)) for v in values]
        if isinstance(values[0], dict):
            continue
        table.add_row(key, *cells)
    return table


def run_demo(directory: Path, fresh: bool = False, serve: bool = True,
             console: Console | None = None) -> list[tuple[str, str, float]]:
    console = console or Console()
    state = DemoState(directory=Path(directory), console=console, fresh=fresh, serve=serve)
    results: list[tuple[str, str, float]] = []
    total = time.perf_counter()
    for name, stage in STAGES:
        console.rule(f"[bold cyan]{name}")
        started = time.perf_counter()
        outcome = stage(state)
        results.append((name, outcome, time.perf_counter() - started))
    table = Table(title=f"domainlm demo: {time.perf_counter() - total:.0f}s in all")
    table.add_column("stage")
    table.add_column("result")
    table.add_column("time", justify="right")
    for name, outcome, seconds in results:
        table.add_row(name, outcome, f"{seconds:.1f}s")
    console.print(table)
    scores = _scores_table(state.scores)
    if scores is not None:
        console.print(scores)
    if serve:
        console.rule("[bold cyan]serve")
        _cli(state, "serve", overrides=False)
    return results
