"""The run registry: list/show/compare tables, what changed between runs, eval scores."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from domainlm.cli import app
from domainlm.runs import RunNotFound, config_diff, find_run, load_runs


def _fake_run(root, run_id, adapter="product-expert", stage="sft", lr=2e-4, started="2026-01-01T10:00", sha="a" * 64, **extra):
    folder = root / "runs" / run_id
    folder.mkdir(parents=True)
    config = {"base_model": "smollm2-135m", "train": {"lr": lr, "lora_r": 16, "cost_per_hour": 1.0}}
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    (folder / "data.json").write_text(json.dumps({"files": {"train": {"path": "data/train.jsonl", "sha256": sha}}}))
    info = {"run_id": run_id, "adapter": adapter, "stage": stage, "base_model": "smollm2-135m", "status": "finished",
            "started_at": started, "wall_time_s": 95.0, "final_train_loss": 1.23, "final_val_loss": 1.5,
            "data": {"used": 120, "mix": {"kinds": {"product_qa": 80, "multi_turn": 40}, "sources": {"template": 120}}},
            "tokens_seen": 1000, "total_steps": 10, "steps": 10, **extra}
    (folder / "run.json").write_text(json.dumps(info))
    return folder


@pytest.fixture()
def project_with_runs(tmp_path):
    root = tmp_path / "shop"
    root.mkdir()
    (root / "domainlm.yaml").write_text("name: shop\nadapters:\n  product-expert: {}\n  support-agent: {}\n")
    _fake_run(root, "20260101-1000-product-expert-sft")
    _fake_run(root, "20260101-1100-product-expert-sft", lr=1e-4, started="2026-01-01T11:00", sha="b" * 64)
    _fake_run(root, "20260101-1200-support-agent-sft", adapter="support-agent", started="2026-01-01T12:00")
    _fake_run(root, "20260101-1300-product-expert-dpo", stage="dpo", started="2026-01-01T13:00",
              parent_run="20260101-1100-product-expert-sft")
    (root / "runs" / "20260101-1100-product-expert-sft" / "eval.json").write_text(json.dumps({"price_accuracy": 0.98, "note": "x"}))
    (root / "eval" / "20260101-1000-product-expert-sft").mkdir(parents=True)
    (root / "eval" / "20260101-1000-product-expert-sft" / "metrics.json").write_text(json.dumps({"metrics": {"refusal_rate": 0.9}}))
    return root


def test_config_diff_lists_changed_leaves_only():
    old = {"train": {"lr": 2e-4, "lora_r": 16, "cost_per_hour": 1.0}, "base_model": "a"}
    new = {"train": {"lr": 1e-4, "lora_r": 16, "cost_per_hour": 3.0}, "base_model": "a"}
    assert config_diff(old, new) == ["train.lr: 0.0002 -> 0.0001"]


def test_load_runs_says_what_changed_and_reads_eval_scores(project_with_runs):
    runs = {r["run_id"]: r for r in load_runs(project_with_runs)}
    assert runs["20260101-1000-product-expert-sft"]["changes"] == ["first run"]
    assert runs["20260101-1100-product-expert-sft"]["changes"] == ["train.lr: 0.0002 -> 0.0001", "data train changed"]
    assert runs["20260101-1200-support-agent-sft"]["changes"] == ["first run"]
    assert runs["20260101-1300-product-expert-dpo"]["changes"] == ["from SFT 20260101-1100-product-expert-sft"]
    assert runs["20260101-1100-product-expert-sft"]["eval"] == {"price_accuracy": 0.98}
    assert runs["20260101-1000-product-expert-sft"]["eval"] == {"refusal_rate": 0.9}


def test_find_run_by_prefix_and_unknown(project_with_runs):
    runs = load_runs(project_with_runs)
    assert find_run(runs, "20260101-12")["adapter"] == "support-agent"
    with pytest.raises(RunNotFound, match="is not a run"):
        find_run(runs, "nope")
    with pytest.raises(RunNotFound, match="ambiguous"):
        find_run(runs, "20260101")


def test_cli_runs_list_show_compare(project_with_runs):
    runner = CliRunner()
    cfg = str(project_with_runs / "domainlm.yaml")
    wide = {"COLUMNS": "250"}
    out = runner.invoke(app, ["runs", "list", "-c", cfg], env=wide)
    assert out.exit_code == 0, out.output
    for text in ("20260101-1100-product-expert-sft", "train.lr: 0.0002 -> 0.0001", "product_qa 80", "1.230", "1.500",
                 "price_accuracy 0.98", "95s", "dpo"):
        assert text in out.output, text
    out = runner.invoke(app, ["runs", "show", "20260101-1300", "-c", cfg], env=wide)
    assert out.exit_code == 0 and "parent run" in out.output and "20260101-1100-product-expert-sft" in out.output
    out = runner.invoke(app, ["runs", "compare", "20260101-1000-product-expert-sft", "20260101-1100-product-expert-sft", "-c", cfg], env=wide)
    assert out.exit_code == 0, out.output
    assert "config: train.lr" in out.output and "eval: price_accuracy" in out.output
    out = runner.invoke(app, ["runs", "-c", cfg], env=wide)
    assert out.exit_code == 0 and "Runs" in out.output
