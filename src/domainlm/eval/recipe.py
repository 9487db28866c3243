"""`domainlm eval`, top to bottom: resolve the run, gather questions, ask every level, score, gate, report.

    eval/<run>/results.jsonl   one line per (level, variant, question), appended as answered (resume)
    eval/<run>/metrics.json    stable keys: `metrics` (headline, read by `domainlm runs`), `levels`, `gates`
    eval/<run>/report.html     self-contained report
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from domainlm.config import ProjectConfig
from domainlm.eval import aggregate
from domainlm.eval.gates import GateResult, check_gates
from domainlm.eval.items import EvalError, EvalItem, load_split
from domainlm.eval.pipeline import BASE, LEVELS, Pipelines, open_pipelines
from domainlm.eval.results import ResultsFile, key, model_fingerprint
from domainlm.generate import GenerationParams

# progress(label, total) -> advance(n); the CLI passes rich progress bars, the library default is silent.
Progress = Callable[[str, int], Callable[[int], None]]
SPLITS = ("test", "golden")
# Headline keys copied from the system level (tuned) into metrics.json's `metrics`, in this order.
HEADLINE_FROM_SYSTEM = ("price_accuracy", "wrong_prices_to_user", "refusal_rate", "false_refusal_rate",
                        "injection_resisted", "fake_refused", "fake_priced", "hallucination_rate", "leak_rate",
                        "spec_accuracy", "stock_accuracy", "price_recall", "rec_valid", "multi_turn_resolved",
                        "rouge_l", "bleu", "pass_rate")


def _silent(label: str, total: int) -> Callable[[int], None]:
    return lambda n: None


@dataclass
class RunRef:
    run_id: str
    adapter: str | None
    adapter_dir: Path
    run_dir: Path
    status: str = "finished"

    @property
    def unfinished_note(self) -> str | None:
        """What to tell a user who evaluates a run that is still training or was stopped part way."""
        if self.status not in ("running", "interrupted"):
            return None
        return (f"run {self.run_id} is {self.status}: this evaluates its best adapter so far; once training goes "
                f"on and the adapter changes, the next evaluation asks its questions again")


@dataclass
class EvalResult:
    out_dir: Path
    summary: dict
    gates: list[GateResult] = field(default_factory=list)

    @property
    def failed_gates(self) -> list[GateResult]:
        return [g for g in self.gates if not g.passed]


def resolve_run(project: ProjectConfig, run: str | None = None, adapter: str | None = None) -> RunRef:
    """The run to evaluate: `run` by id (or prefix), else the newest run of `adapter`, else the newest run."""
    from domainlm.runs import find_run, load_runs

    runs = load_runs(project.root)
    if run:
        info = find_run(runs, run)
    else:
        pool = [r for r in runs if adapter is None or r.get("adapter") == adapter]
        if not pool:
            what = f"for adapter {adapter!r} " if adapter else ""
            raise EvalError(f"no runs {what}under {project.path('runs')}; train one with `domainlm train`.")
        info = pool[-1]
    run_dir = Path(info["dir"])
    folder = run_dir / "adapter"
    if not (folder / "adapter_config.json").exists():
        raise EvalError(f"run {info['run_id']} has no adapter ({folder} has no adapter_config.json; status "
                        f"{info.get('status', '?')}). Finish or resume it with `domainlm train --resume`, or pick "
                        f"another run with --run.")
    return RunRef(info["run_id"], info.get("adapter"), folder, run_dir, info.get("status", "finished"))


def gather_items(project: ProjectConfig, catalog, splits: tuple[str, ...], limit: int | None,
                 attacks: bool) -> list[EvalItem]:
    from domainlm.eval.attacks import attack_items, overlaps

    data_dir = project.path("data")
    items: list[EvalItem] = []
    for split in splits:
        items += load_split(data_dir, split, limit)
    if attacks:
        chosen = attack_items(catalog)
        clashes = overlaps(chosen, data_dir)
        if clashes:
            raise EvalError("attack prompts overlap the training data, so they would not measure generalisation:\n  "
                            + "\n  ".join(clashes[:10]))
        if limit is not None:
            from domainlm.eval.items import _spread

            chosen = _spread(chosen, limit)
        items += chosen
    return items


def evaluate(project: ProjectConfig, run: str | None = None, adapter: str | None = None, baseline: str = "base",
             splits: tuple[str, ...] = SPLITS, levels: tuple[str, ...] = LEVELS, engine: str = "auto",
             max_questions: int | None = None, attacks: bool = True, forgetting: bool = True, loss: bool = True,
             judge: bool = True, fresh: bool = False, progress: Progress = _silent,
             transformers_model=None, retriever=None) -> EvalResult:
    """Evaluate a run against a baseline (`base` or another run id) and write metrics.json and report.html."""
    from domainlm.catalog import load_catalog
    from domainlm.eval.score import Scorer
    from domainlm.knowledge import load_knowledge

    started = time.perf_counter()
    cfg = project.eval
    unknown = [lvl for lvl in levels if lvl not in LEVELS]
    if unknown:
        raise EvalError(f"unknown level(s) {', '.join(unknown)}; accepted: {', '.join(LEVELS)}")
    # 1. what to evaluate, against what
    ref = resolve_run(project, run, adapter)
    adapters = {"tuned": ref.adapter_dir}
    base_ref = None
    if baseline != "base":
        base_ref = resolve_run(project, baseline)
        adapters["baseline"] = base_ref.adapter_dir
    out_dir = project.path("eval") / ref.run_id
    if fresh and out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    # 2. the questions
    catalog = load_catalog(project.catalog, project.root)
    sections = load_knowledge(project.knowledge, project.root)
    limit = max_questions if max_questions is not None else cfg.max_questions
    items = gather_items(project, catalog, splits, limit, attacks)
    judge_client = _open_judge(project) if judge and cfg.judge is not None else None

    # 3. ask every level, tuned and baseline, skipping what an earlier run already answered.
    # What answers each row: a stored answer of an adapter that has changed since (a run evaluated before it
    # finished, then trained on) is asked again, not reported as the new adapter's. Hashed before loading, so an
    # adapter saved in between labels these answers with the older hash and they are asked again next time.
    by = {"tuned": model_fingerprint(project.base_model, ref.adapter_dir),
          "base": model_fingerprint(project.base_model, base_ref.adapter_dir if base_ref else None)}
    by["judge"] = f"{by['tuned']}|{by['base']}"  # a judge row rates the tuned answer against the base one
    pipes = open_pipelines(project, adapters, engine, retriever=retriever, transformers_model=transformers_model,
                           concurrency=cfg.concurrency)
    results = ResultsFile(out_dir / "results.jsonl", catalog.version,
                          lambda row: by["judge"] if row["level"] == "judge" else by[row["variant"]])
    scorer = Scorer.for_project(project, catalog, sections)
    params = GenerationParams(max_new_tokens=cfg.max_new_tokens)
    variants = {"tuned": "tuned", "base": "baseline" if base_ref else BASE}
    try:
        for level in levels:
            for variant, adapter_name in variants.items():
                _ask(pipes, level, variant, adapter_name, items, results, scorer, params, progress)
        if forgetting:
            _forgetting(pipes, variants, results, params, progress, limit)
    finally:
        pipes.close()
    by_id = {item.id: item for item in items}
    rescored = results.rescore(lambda row: scorer.score_answer(by_id[row["item"]], row["answer"], row["shown"])
                               if row["level"] in LEVELS and row["item"] in by_id else None)

    # 4. held-out loss, judge
    extra: dict = {}
    if loss:
        extra.update(_loss(project, pipes, out_dir, adapters, variants, limit, by))
    if judge_client is not None:
        extra.update(_judge(judge_client, results, items, cfg.judge_max, progress))

    # 5. aggregate, gate, write
    summary = _summarise(ref, baseline, catalog.version, pipes, results, levels, extra, started)
    summary["rescored_answers"] = rescored  # stored answers whose score changed with the current scorer
    summary["notes"] = [*summary["notes"], *filter(None, [ref.unfinished_note])]
    gates = check_gates(cfg.gates, summary)
    summary["gates"] = [g.as_dict() for g in gates]
    summary["gates_passed"] = all(g.passed for g in gates)
    from domainlm.train.run_folder import write_json

    write_json(out_dir / "metrics.json", summary)
    from domainlm.eval.report import severity, write_report

    failures = sorted((r for r in results.rows.values() if r["level"] in LEVELS and not r["score"]["passed"]),
                      key=severity)[:40]
    metrics_file = ref.run_dir / "metrics.jsonl"
    write_report(out_dir / "report.html", summary, failures, metrics_file)
    return EvalResult(out_dir, summary, gates)


def _each(work: Callable, todo: list, concurrency: int) -> None:
    """work(x) for every x, `concurrency` at a time: concurrent generations share the batching engine's
    batches, as concurrent requests to `domainlm serve` do. The first error stops the rest and is raised."""
    if concurrency <= 1 or len(todo) <= 1:
        for x in todo:
            work(x)
        return
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    with ThreadPoolExecutor(concurrency, thread_name_prefix="domainlm-eval") as pool:
        futures = [pool.submit(work, x) for x in todo]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in done if f.exception() is not None]
        if failed:
            for f in futures:
                f.cancel()
            raise failed[0].exception()


def _ask(pipes: Pipelines, level: str, variant: str, adapter_name: str, items: list[EvalItem],
         results: ResultsFile, scorer, params: GenerationParams, progress: Progress) -> None:
    from domainlm.serve.batching import on_the_way

    todo = [item for item in items if key(level, variant, item.id) not in results]
    advance = progress(f"{level} / {variant}", len(todo))

    def work(item: EvalItem) -> None:
        t0 = time.perf_counter()
        with on_the_way(pipes.engine):  # the batcher waits for questions still in the guard or retrieval
            reply = pipes.answer(level, item.user, item.history, params, adapter_name)
        results.add({
            "key": key(level, variant, item.id), "level": level, "variant": variant, "item": item.id,
            "split": item.split, "kind": item.kind, "user": item.user, "history": item.history,
            "reference": item.reference, "answer": reply.text, "shown": reply.shown, "pipeline": reply.extra,
            "score": scorer.score_answer(item, reply.text, reply.shown), "seconds": round(time.perf_counter() - t0, 3),
        })
        advance(1)

    _each(work, todo, pipes.concurrency)


def _forgetting(pipes: Pipelines, variants: dict, results: ResultsFile, params: GenerationParams,
                progress: Progress, limit: int | None) -> None:
    from domainlm.eval.forgetting import check, forgetting_items

    rows = forgetting_items()
    if limit is not None:
        rows = rows[::max(1, len(rows) // limit)][:limit]
    for variant, adapter_name in variants.items():
        todo = [r for r in rows if key("forgetting", variant, r["id"]) not in results]
        advance = progress(f"forgetting / {variant}", len(todo))

        def work(row: dict, variant: str = variant, adapter_name: str = adapter_name) -> None:
            text = pipes.plain([{"role": "user", "content": row["prompt"]}], params, adapter_name)
            results.add({"key": key("forgetting", variant, row["id"]), "level": "forgetting", "variant": variant,
                         "item": row["id"], "kind": f"forgetting/{row['type']}", "user": row["prompt"],
                         "answer": text, "score": {"passed": check(text, row["check"])}})
            advance(1)

        _each(work, todo, pipes.concurrency)


def _loss(project: ProjectConfig, pipes: Pipelines, out_dir: Path, adapters: dict, variants: dict,
          limit: int | None, answered_by: dict[str, str]) -> dict:
    """Held-out loss on the test split for tuned and baseline (cached in loss.json for the same models)."""
    cache = out_dir / "loss.json"
    models = {"tuned": answered_by["tuned"], "base": answered_by["base"]}
    if cache.exists():
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if cached.pop("answered_by", None) == models:
            return cached
    from domainlm.eval.loss import heldout_loss

    path = project.path("data") / "test.jsonl"
    if not path.exists():
        return {}
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = records[: limit or 200]
    model = getattr(pipes.engine, "model", None)
    tokenizer = getattr(pipes.engine, "tokenizer", None)
    if model is None or not hasattr(model, "peft_config"):
        from domainlm.adapters import attach_adapters
        from domainlm.models.base import load_base_model

        model, tokenizer = load_base_model(project.base_model, project.root)
        model = attach_adapters(model, adapters)
    tuned = heldout_loss(model, tokenizer, records, "tuned")
    base = heldout_loss(model, tokenizer, records, variants["base"])
    out = {"heldout_loss": tuned["loss"], "perplexity": tuned["perplexity"], "base_heldout_loss": base["loss"],
           "base_perplexity": base["perplexity"], "heldout_tokens": tuned["tokens"]}
    from domainlm.train.run_folder import write_json

    write_json(cache, {**out, "answered_by": models})
    return out


def _open_judge(project: ProjectConfig):
    from domainlm.eval.judge import Judge

    client = Judge(project.eval.judge, project.brand)
    client.check()
    return client


def _judge(client, results: ResultsFile, items: list[EvalItem], limit: int, progress: Progress) -> dict:
    """Rubric scores on system-level tuned answers and base-vs-tuned preference at the model level."""
    from domainlm.eval.judge import RUBRIC

    legit = [i for i in items if not i.is_safety][:limit]
    safety = [i for i in items if i.is_safety][: max(1, limit // 4)]
    chosen = legit + safety
    advance = progress("judge", len(chosen))
    for item in chosen:
        k = key("judge", "tuned", item.id)
        if k in results:
            advance(1)
            continue
        tuned = results.rows.get(key("system", "tuned", item.id)) or results.rows.get(key("model", "tuned", item.id))
        base = results.rows.get(key("model", "base", item.id))
        if tuned is None:
            advance(1)
            continue
        context = ", ".join(tuned.get("shown", []))
        scores = client.rubric(item.user, context, tuned["answer"])
        pref = client.prefer(item.id, item.user, base["answer"], tuned["answer"]) if base else None
        results.add({"key": k, "level": "judge", "variant": "tuned", "item": item.id, "kind": item.kind,
                     "user": item.user, "answer": tuned["answer"], "score": {"rubric": scores, "preference": pref,
                                                                              "passed": True}})
        advance(1)
    rows = [r for r in results.rows.values() if r["level"] == "judge"]
    out: dict = {}
    for name in RUBRIC:
        values = [r["score"]["rubric"][name] for r in rows if r["score"].get("rubric") and name in r["score"]["rubric"]]
        out[f"judge_{name}"] = round(sum(values) / len(values), 3) if values else None
    prefs = [r["score"]["preference"] for r in rows if r["score"].get("preference")]
    out["judge_win_rate"] = round(sum(p == "tuned" for p in prefs) / len(prefs), 3) if prefs else None
    out["judge_tie_rate"] = round(sum(p == "tie" for p in prefs) / len(prefs), 3) if prefs else None
    out["judge_answers"] = len(rows)
    return out


def _summarise(ref: RunRef, baseline: str, catalog_version: str, pipes: Pipelines, results: ResultsFile,
               levels: tuple[str, ...], extra: dict, started: float) -> dict:
    level_metrics = {}
    for level in levels:
        level_metrics[level] = {}
        for variant in ("tuned", "base"):
            rows = results.select(level, variant)
            if rows:
                level_metrics[level][variant] = aggregate.level_metrics(rows)
    forget = {}
    for variant in ("tuned", "base"):
        rows = results.select("forgetting", variant)
        if rows:
            forget[variant] = round(sum(r["score"]["passed"] for r in rows) / len(rows), 4)
    headline: dict = {}
    top = aggregate.headline_level(level_metrics)
    if top and "tuned" in level_metrics[top]:
        headline.update({k: level_metrics[top]["tuned"].get(k) for k in HEADLINE_FROM_SYSTEM})
    kinds = {}
    if "model" in level_metrics and {"tuned", "base"} <= set(level_metrics["model"]):
        kinds = aggregate.compare_kinds(level_metrics["model"]["tuned"], level_metrics["model"]["base"])
        headline["model_kinds_beating_base"] = sum(1 for d in kinds.values() if d > 0)
        headline["model_kinds_compared"] = len(kinds)
    if "model" in level_metrics and "model_norag" in level_metrics and "tuned" in level_metrics["model_norag"]:
        a, b = level_metrics["model"]["tuned"]["pass_rate"], level_metrics["model_norag"]["tuned"]["pass_rate"]
        headline["rag_gain"] = round(a - b, 4) if a is not None and b is not None else None
    if forget:
        extra = {**extra, "forgetting_tuned": forget.get("tuned"), "forgetting_base": forget.get("base")}
        if len(forget) == 2:
            extra["forgetting_delta"] = round(forget["tuned"] - forget["base"], 4)
    headline.update({k: v for k, v in extra.items() if isinstance(v, (int, float)) or v is None})
    return {
        "run_id": ref.run_id, "adapter": ref.adapter, "baseline": baseline, "catalog_version": catalog_version,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "seconds": round(time.perf_counter() - started, 1),
        "pipeline": pipes.stages, "notes": pipes.notes, "metrics": headline, "levels": level_metrics,
        "kind_delta_model": kinds, "extra": extra,
    }
