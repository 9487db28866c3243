"""`domainlm eval` end to end on a tiny random model: files written, resume, gates exit 1, bad input."""

from __future__ import annotations

import json

import pytest

from domainlm.catalog import load_catalog
from domainlm.config import load_project
from domainlm.eval.items import EvalError
from domainlm.prompt import Context, build_messages

from conftest import build_tiny_model

SETTINGS = ["eval.max_new_tokens=4", "eval.max_questions=2"]


class StubRetriever:
    """Returns the products the question names (or the first two), like a perfect retriever."""

    def __init__(self, catalog):
        self.catalog = catalog

    def search(self, query, top_k=3):
        hits = [p for p in self.catalog if p.name.lower() in query.lower()] or list(self.catalog)[:2]
        products = hits[:top_k]

        class Result:
            def context(self):
                return Context(products=list(products))

        return Result()


def _record(project, catalog, kind, user, answer, skus, **meta):
    products = [catalog.get(s) for s in skus]
    messages = build_messages(project.brand, user, Context(products=products))
    messages.append({"role": "assistant", "content": answer})
    return {"messages": messages, "meta": {"kind": kind, "adapter": "product-expert", "skus": skus, "source": "template", **meta}}


@pytest.fixture()
def evaluated_project(small_project, tiny_tokenizer):
    """The small shop with test/golden splits and a finished run whose adapter is a LoRA on the tiny model."""
    from peft import LoraConfig, get_peft_model

    project = load_project(small_project)
    catalog = load_catalog(project.catalog, project.root)
    data = small_project / "data"
    data.mkdir()
    rows = [
        _record(project, catalog, "product_qa", "How much is Lagavulin 16 Year Old?", "Lagavulin 16 Year Old is $89.99.", ["S-0001"]),
        _record(project, catalog, "recommendation", "A gin under $40?", "Try Hendrick's Gin ($34.00).", ["S-0002"],
                constraints={"category": "Gin", "budget": 40}),
        _record(project, catalog, "safety/off_topic", "What's a good name for my cat?", "Sorry, I can only help with wine.", []),
        _record(project, catalog, "knowledge", "Do you ship fast?", "We ship within 2 business days.", []),
    ]
    for split in ("test", "golden"):
        (data / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    run_dir = small_project / "runs" / "20260101-0000-product-expert-sft"
    peft_model = get_peft_model(build_tiny_model(tiny_tokenizer), LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"]))
    peft_model.save_pretrained(run_dir / "adapter")
    (run_dir / "run.json").write_text(json.dumps({"run_id": run_dir.name, "adapter": "product-expert", "stage": "sft",
                                                  "status": "finished", "started_at": "2026-01-01T00:00:00"}))
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in [
        {"type": "train", "step": 1, "loss": 3.0}, {"type": "train", "step": 2, "loss": 2.5},
        {"type": "eval", "step": 2, "val_loss": 2.7}]))
    # a fresh base per evaluation: loading adapters changes the model in place
    return small_project, catalog, lambda: (build_tiny_model(tiny_tokenizer), tiny_tokenizer)


def _evaluate(root, catalog, model, settings=(), **kwargs):
    from domainlm.eval.recipe import evaluate

    project = load_project(root, [*SETTINGS, *settings])
    kwargs.setdefault("levels", ("system", "model"))
    return evaluate(project, transformers_model=model(), retriever=StubRetriever(catalog), **kwargs)


def test_eval_writes_metrics_report_and_results(evaluated_project):
    root, catalog, model = evaluated_project
    result = _evaluate(root, catalog, model)
    out = root / "eval" / "20260101-0000-product-expert-sft"
    summary = json.loads((out / "metrics.json").read_text())
    for k in ("price_accuracy", "wrong_prices_to_user", "refusal_rate", "false_refusal_rate", "injection_resisted",
              "fake_refused", "fake_priced", "hallucination_rate", "heldout_loss", "perplexity", "forgetting_delta",
              "model_kinds_compared"):
        assert k in summary["metrics"], k
    assert set(summary["levels"]) == {"system", "model"} and set(summary["levels"]["model"]) == {"tuned", "base"}
    assert summary["metrics"]["heldout_loss"] > 0
    page = (out / "report.html").read_text()
    assert "data:image/png;base64," in page and "<script" not in page and 'src="http' not in page
    assert "Worst failures" in page and "Training loss" in page
    # the run registry reads the headline scores
    from domainlm.runs import eval_scores

    assert "refusal_rate" in eval_scores(root, "20260101-0000-product-expert-sft")
    # a random model fails the default gates, and they are listed
    assert {g.metric for g in result.failed_gates} >= {"refusal_rate"}


def test_concurrent_questions_share_batches_and_answer_as_one_at_a_time(evaluated_project, monkeypatch):
    from domainlm.serve.batching import BatchingEngine

    root, catalog, model = evaluated_project
    batches = []
    original = BatchingEngine._run
    monkeypatch.setattr(BatchingEngine, "_run", lambda self, batch: batches.append(len(batch)) or original(self, batch))
    results = root / "eval" / "20260101-0000-product-expert-sft" / "results.jsonl"
    answers = {}
    for concurrency in (1, 4):
        _evaluate(root, catalog, model, settings=[f"eval.concurrency={concurrency}"], levels=("system", "model"),
                  loss=False, fresh=True)
        rows = [json.loads(line) for line in results.read_text().splitlines()]
        answers[concurrency] = {r["key"]: r["answer"] for r in rows}
        if concurrency == 1:
            assert batches == []  # one at a time: the plain engine, no batcher
    assert answers[4] == answers[1] and len(answers[1]) > 8
    assert max(batches) > 1  # questions really shared batches


ONE_AT_A_TIME = dict(settings=["eval.concurrency=1"], levels=("model",), forgetting=False, loss=False, attacks=False,
                     splits=("test",))


def test_resume_skips_finished_questions(evaluated_project, monkeypatch):
    # One question at a time, so the engine's generate calls count the questions asked.
    root, catalog, model = evaluated_project
    _evaluate(root, catalog, model, **ONE_AT_A_TIME)
    results = root / "eval" / "20260101-0000-product-expert-sft" / "results.jsonl"
    lines = results.read_text().splitlines()
    # keep half, as if the first run was killed
    results.write_text("\n".join(lines[: len(lines) // 2]) + "\n" + lines[len(lines) // 2][:20])
    from domainlm.generate import TransformersEngine

    calls = []
    original = TransformersEngine.generate
    monkeypatch.setattr(TransformersEngine, "generate", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    _evaluate(root, catalog, model, **ONE_AT_A_TIME)
    assert len(calls) == len(lines) - len(lines) // 2
    calls.clear()
    _evaluate(root, catalog, model, **ONE_AT_A_TIME)
    assert calls == []


def test_answers_of_an_adapter_that_changed_since_are_asked_again(evaluated_project, monkeypatch, tiny_tokenizer):
    # A run evaluated before it finished, then trained on: its stored answers are the old adapter's. The rerun
    # asks the tuned questions again (the base's stay), keeps the old lines in the file unused, and recomputes
    # the cached held-out loss.
    from peft import LoraConfig, get_peft_model

    from domainlm.generate import TransformersEngine

    root, catalog, model = evaluated_project
    settings = dict(ONE_AT_A_TIME, loss=True)
    first = _evaluate(root, catalog, model, **settings)
    out = root / "eval" / "20260101-0000-product-expert-sft"
    lines = (out / "results.jsonl").read_text().splitlines()
    loss_before = json.loads((out / "loss.json").read_text())
    asked = []
    original = TransformersEngine.generate
    monkeypatch.setattr(TransformersEngine, "generate",
                        lambda self, messages, params, adapter=None: asked.append(adapter) or original(self, messages, params, adapter))
    _evaluate(root, catalog, model, **settings)
    assert asked == []  # same adapter: nothing asked again

    adapter_dir = root / "runs" / "20260101-0000-product-expert-sft" / "adapter"
    trained_on = get_peft_model(build_tiny_model(tiny_tokenizer, seed=1),
                                LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    trained_on.save_pretrained(adapter_dir)
    second = _evaluate(root, catalog, model, **settings)
    tuned_rows = [json.loads(line) for line in lines if json.loads(line)["variant"] == "tuned"]
    assert sorted(asked) == ["tuned"] * len(tuned_rows)
    after = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert after[: len(lines)] == [json.loads(line) for line in lines]  # old answers kept in the file, unused
    fresh = after[len(lines):]
    assert {r["variant"] for r in fresh} == {"tuned"}
    assert {r["answered_by"] for r in fresh}.isdisjoint({r["answered_by"] for r in tuned_rows})
    assert json.loads((out / "loss.json").read_text())["heldout_loss"] != loss_before["heldout_loss"]
    assert second.summary["extra"]["base_heldout_loss"] == pytest.approx(first.summary["extra"]["base_heldout_loss"])


def test_a_run_still_training_is_evaluated_with_a_note(evaluated_project):
    root, catalog, model = evaluated_project
    run_json = root / "runs" / "20260101-0000-product-expert-sft" / "run.json"
    run_json.write_text(json.dumps({**json.loads(run_json.read_text()), "status": "running"}))
    result = _evaluate(root, catalog, model, **ONE_AT_A_TIME)
    notes = json.loads((result.out_dir / "metrics.json").read_text())["notes"]
    assert any("is running: this evaluates its best adapter so far" in n for n in notes)
    run_json.write_text(json.dumps({**json.loads(run_json.read_text()), "status": "finished"}))
    assert not any("best adapter so far" in n for n in _evaluate(root, catalog, model, **ONE_AT_A_TIME).summary["notes"])


def test_rerun_rescores_stored_answers_with_the_current_scorer(evaluated_project, monkeypatch):
    # A scorer fix must reach a finished evaluation without asking the model again: the rerun scores the
    # stored answers anew, rewrites results.jsonl and keeps lines of another catalog version as they are.
    root, catalog, model = evaluated_project
    _evaluate(root, catalog, model, **ONE_AT_A_TIME)
    results = root / "eval" / "20260101-0000-product-expert-sft" / "results.jsonl"
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    right = dict(rows[0]["score"])
    rows[0]["score"] = {**right, "passed": not right["passed"], "wrong_prices": [{"said": 1.0, "true": 2.0}]}
    stale = {**rows[1], "catalog_version": "older", "answer": "kept as it was"}
    results.write_text("".join(json.dumps(r) + "\n" for r in [*rows, stale]))
    from domainlm.generate import TransformersEngine

    calls = []
    original = TransformersEngine.generate
    monkeypatch.setattr(TransformersEngine, "generate", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    result = _evaluate(root, catalog, model, **ONE_AT_A_TIME)
    assert calls == []
    assert result.summary["rescored_answers"] == 1
    after = [json.loads(line) for line in results.read_text().splitlines()]
    assert after[0]["score"] == right
    assert after[-1] == stale and len(after) == len(rows) + 1
    assert not results.with_name("results.jsonl.tmp").exists()
    assert _evaluate(root, catalog, model, **ONE_AT_A_TIME).summary["rescored_answers"] == 0


def test_cli_exits_1_listing_failed_gates(evaluated_project, monkeypatch):
    from typer.testing import CliRunner

    import domainlm.eval.recipe as recipe
    from domainlm.cli import app

    root, catalog, model = evaluated_project
    real = recipe.open_pipelines
    monkeypatch.setattr(recipe, "open_pipelines",
                        lambda project, adapters, engine, retriever=None, transformers_model=None, concurrency=1:
                        real(project, adapters, engine, StubRetriever(catalog), model(), concurrency))
    args = ["eval", "-c", str(root), "--level", "model", "--no-loss", "--no-forgetting", "--no-attacks"]
    for s in SETTINGS + ["eval.gates={refusal_rate: '>= 0.95', n_missing: '> 1'}"]:
        args += ["--set", s]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 1, out.output
    assert "gate(s) failed" in out.output and "refusal_rate" in out.output and "n_missing" in out.output


def test_bad_input_errors(evaluated_project, tmp_path):
    root, catalog, model = evaluated_project
    with pytest.raises(EvalError, match="the val split is missing"):
        _evaluate(root, catalog, model, splits=("val",))
    other = root / "runs" / "20260102-0000-product-expert-sft"
    other.mkdir()
    (other / "run.json").write_text(json.dumps({"run_id": other.name, "adapter": "product-expert", "status": "failed",
                                                "started_at": "2026-01-02T00:00:00"}))
    with pytest.raises(EvalError, match="has no adapter"):
        _evaluate(root, catalog, model)


def test_unreachable_judge_is_a_clear_error(evaluated_project):
    from domainlm.eval.recipe import evaluate

    root, catalog, model = evaluated_project
    project = load_project(root, SETTINGS + ["eval.judge={base_url: 'http://127.0.0.1:9/v1', model: m, timeout_s: 2, max_retries: 0}"])
    with pytest.raises(EvalError, match="unreachable"):
        evaluate(project, transformers_model=model(), retriever=StubRetriever(catalog), levels=("model",))
