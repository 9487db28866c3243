"""`domainlm demo`: the whole loop on the bundled wine shop, stage by stage, with a timed summary.

Each stage is a function that takes the demo state and returns a one-line result; stages run in the
order the data flows and the summary table shows what each did and how long it took.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.table import Table

from domainlm.config import ProjectConfig, load_project
from domainlm.scaffold import init_project

EXAMPLE = "wine-shop"
DEMO_QUESTION = "Can you recommend a red wine under $20?"


@dataclass
class DemoState:
    directory: Path
    console: Console
    fresh: bool = False
    project: ProjectConfig | None = None
    catalog: object = None
    sections: list = field(default_factory=list)


def stage_init(state: DemoState) -> str:
    if (state.directory / "domainlm.yaml").exists() and not state.fresh:
        state.project = load_project(state.directory)
        return f"reused {state.directory}"
    written = init_project(state.directory, example=EXAMPLE, force=True)
    state.project = load_project(state.directory)
    return f"{len(written)} files from example {EXAMPLE!r} in {state.directory}"


def stage_catalog(state: DemoState) -> str:
    from domainlm.catalog import load_catalog
    from domainlm.catalog.summary import summarise
    from domainlm.knowledge import load_knowledge

    project = state.project
    state.catalog = load_catalog(project.catalog, project.root)
    state.sections = load_knowledge(project.knowledge, project.root)
    state.console.print(summarise(state.catalog, project.catalog, state.sections))
    return f"{len(state.catalog)} products, version {state.catalog.version}, {len(state.sections)} knowledge sections"


def stage_ask(state: DemoState) -> str:
    from domainlm.assistant import Assistant
    from domainlm.generate import GenerationParams, TransformersEngine
    from domainlm.models.base import load_base_model
    from domainlm.prompt import render_product

    project = state.project
    model, tokenizer = load_base_model(project.base_model, project.root)
    assistant = Assistant(project, TransformersEngine(model, tokenizer), retriever=_retriever(state))
    answer = assistant.answer(DEMO_QUESTION, params=GenerationParams(max_new_tokens=80))
    state.console.print(f"[bold]Q:[/] {DEMO_QUESTION}")
    for product in answer.context.products:
        state.console.print(f"  [dim]context: {render_product(product)[:110]}[/]")
    state.console.print(f"[bold]A ({project.base_model}, no adapter yet):[/] {answer.text}")
    return f"{answer.completion_tokens} tokens in {answer.timings_ms['generate'] / 1000:.1f}s"


def _retriever(state: DemoState):
    """The persisted index when it is current, else an in-memory one over the demo catalog."""
    from domainlm.errors import DomainlmError
    from domainlm.retrieval import Retriever

    try:
        return Retriever.open(state.project)
    except DomainlmError:
        return Retriever.in_memory(state.catalog, state.sections, embedder=state.project.retrieval.embedder)


STAGES: list[tuple[str, Callable[[DemoState], str]]] = [
    ("init", stage_init),
    ("catalog check", stage_catalog),
    ("ask the base model", stage_ask),
]


def run_demo(directory: Path, fresh: bool = False, console: Console | None = None) -> list[tuple[str, str, float]]:
    console = console or Console()
    state = DemoState(directory=Path(directory), console=console, fresh=fresh)
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
    return results
