"""Evaluation speed: answers a minute through `domainlm eval`'s own pipelines, llama.cpp against transformers,
in one run, and the time 500 questions would take at that rate (the evaluation issue's target: <= 5 min on CPU
with the llama.cpp engine).

    python bench/eval_speed.py --project PATH [--adapter NAME] [--questions 40] [--levels model system]
                               [--engines llamacpp transformers]

PATH is a built project (`domainlm data build` done: the questions are its test and golden splits plus the
attack sets, as `domainlm eval` gathers them, spread evenly over kinds). With --adapter the latest finished run of
that adapter answers (as `domainlm eval --adapter NAME`), else the base model. Each engine answers the same
questions at each level, `eval.concurrency` at a time; nothing is written to the project (answers go to a
temporary results file). transformers is the reference: the engine the evaluation uses without llama.cpp.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

TARGET_QUESTIONS = 500
TARGET_S = 300.0


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    from domainlm.adapters import BASE
    from domainlm.catalog import load_catalog
    from domainlm.config import load_project
    from domainlm.eval.items import _spread
    from domainlm.eval.pipeline import LEVELS, open_pipelines
    from domainlm.eval.recipe import SPLITS, _ask, _silent, gather_items, resolve_run
    from domainlm.eval.results import ResultsFile
    from domainlm.eval.score import Scorer
    from domainlm.generate import GenerationParams
    from domainlm.knowledge import load_knowledge

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True, type=Path, help="a built project folder (data build done)")
    parser.add_argument("--adapter", help="answer with the latest finished run of this adapter (default: the base)")
    parser.add_argument("--questions", type=int, default=40, help="questions per engine and level (default 40)")
    parser.add_argument("--levels", nargs="+", default=["model", "system"], choices=LEVELS)
    parser.add_argument("--engines", nargs="+", default=["llamacpp", "transformers"],
                        choices=["llamacpp", "transformers"])
    args = parser.parse_args()
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # one DEBUG line per index build otherwise

    project = load_project(args.project)
    catalog = load_catalog(project.catalog, project.root)
    sections = load_knowledge(project.knowledge, project.root)
    items = _spread(gather_items(project, catalog, SPLITS, None, True), args.questions)
    adapters, answerer = {}, BASE
    if args.adapter:
        adapters = {"tuned": resolve_run(project, adapter=args.adapter).adapter_dir}
        answerer = "tuned"
    scorer = Scorer.for_project(project, catalog, sections)
    params = GenerationParams(max_new_tokens=project.eval.max_new_tokens)
    rows: list[tuple[str, str, int, float]] = []  # engine, level, answers, seconds
    with tempfile.TemporaryDirectory() as tmp:
        for engine in args.engines:
            pipes = open_pipelines(project, adapters, engine, concurrency=project.eval.concurrency)
            try:
                for level in args.levels:
                    results = ResultsFile(Path(tmp) / f"{engine}-{level}.jsonl", catalog.version)
                    started = time.perf_counter()
                    _ask(pipes, level, answerer, answerer, items, results, scorer, params, _silent)
                    seconds = time.perf_counter() - started
                    rows.append((engine, level, len(results.rows), seconds))
            finally:
                pipes.close()

    reference = {level: s / n for engine, level, n, s in rows if engine == "transformers"}
    table = Table(title=f"eval speed: {len(items)} questions a level, {project.eval.concurrency} at a time, "
                        f"answered by {args.adapter or 'the base model'}")
    for column in ("engine", "level", "answers", "seconds", "answers/min", f"{TARGET_QUESTIONS} questions",
                   "vs transformers"):
        table.add_column(column, justify="left" if column in ("engine", "level") else "right")
    for engine, level, n, seconds in rows:
        per = seconds / n
        projected = per * TARGET_QUESTIONS
        ratio = f"{reference[level] / per:.2f}x" if level in reference else "-"
        table.add_row(engine, level, str(n), f"{seconds:.1f}", f"{60 / per:.1f}",
                      f"{projected / 60:.1f} min ({'meets' if projected <= TARGET_S else 'misses'} 5 min)", ratio)
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
