"""Fast training tests on a 2-layer random model: loss mask, packing, schedule, run folder, bad input."""

from __future__ import annotations

import json
import math
import random
import time

import pytest
import torch

from domainlm.config import TrainConfig, load_project
from domainlm.train import DatasetError, TrainError, train, train_all
from domainlm.train.data import IGNORE, ChatEncoder, collate, pack, read_jsonl
from domainlm.train.budget import TimeBudget
from domainlm.train.model import CheapDropout, DropoutPool, MemoryEstimate, TokenLogProbs, load_for_training, memory_warning
from domainlm.train.schedule import warmup_cosine
from test_train_support import chat_sample, make_train_project, mark_interrupted, write_jsonl


def test_loss_mask_trains_assistant_turns_and_end_of_turn_only(tiny_tokenizer):
    messages = [
        {"role": "system", "content": "You are Vera. Products:\n[W-1] Wine | price: $12.00"},
        {"role": "user", "content": "How much is the wine?"},
        {"role": "assistant", "content": "The wine is $12.00."},
        {"role": "user", "content": "And two?"},
        {"role": "assistant", "content": "Two are $24.00."},
    ]
    enc = ChatEncoder(tiny_tokenizer).encode(messages)
    trained = [t for t in enc.labels if t != IGNORE]
    assert tiny_tokenizer.decode(trained) == "The wine is $12.00.<|im_end|>Two are $24.00.<|im_end|>"
    # Every masked token belongs to the template, the system prompt or a user turn.
    masked = tiny_tokenizer.decode([t for t, l in zip(enc.input_ids, enc.labels) if l == IGNORE])
    for text in ("You are Vera", "[W-1] Wine", "How much is the wine?", "And two?", "<|im_start|>assistant"):
        assert text in masked
    assert "The wine" not in masked and "Two are" not in masked
    # The pad token is the eos token for SmolLM2: the trained <|im_end|> must not be dropped as padding.
    assert tiny_tokenizer.pad_token_id in trained
    last_only = ChatEncoder(tiny_tokenizer).encode(messages, train_last_only=True)
    assert tiny_tokenizer.decode([t for t in last_only.labels if t != IGNORE]) == "Two are $24.00.<|im_end|>"


def test_packed_sample_logits_equal_its_logits_alone(tiny_tokenizer, tiny_model):
    encoder = ChatEncoder(tiny_tokenizer)
    rng = random.Random(1)
    a, b = (encoder.encode(chat_sample(rng)["messages"]) for _ in range(2))
    packed = collate([[a, b]], tiny_tokenizer.pad_token_id, multiple_of=64)
    alone = collate([[b]], tiny_tokenizer.pad_token_id, multiple_of=1)
    with torch.no_grad():
        out_packed = tiny_model(input_ids=packed.input_ids, position_ids=packed.position_ids, use_cache=False).logits
        out_alone = tiny_model(input_ids=alone.input_ids, position_ids=alone.position_ids, use_cache=False).logits
        # Without restarting positions the second sample would see the first: check the test can fail.
        leaky = tiny_model(input_ids=packed.input_ids, use_cache=False).logits
    span = slice(len(a), len(a) + len(b))
    torch.testing.assert_close(out_packed[0, span], out_alone[0], atol=1e-5, rtol=1e-4)
    assert not torch.allclose(leaky[0, span], out_alone[0], atol=1e-3)
    # The padding tail is its own segment with no labels.
    assert (packed.segment_ids[0, len(a) + len(b):] == -1).all()
    assert (packed.labels[0, len(a) + len(b):] == IGNORE).all()


def test_selected_head_loss_equals_full_logits_loss(tiny_tokenizer, tiny_model_dir):
    model = load_for_training(tiny_model_dir, TrainConfig(lora_dropout=0.0), torch.device("cpu"), bf16=False)
    encoder = ChatEncoder(tiny_tokenizer)
    rng = random.Random(2)
    batch = collate([[encoder.encode(chat_sample(rng)["messages"]) for _ in range(3)]], tiny_tokenizer.pad_token_id)
    with torch.no_grad():
        logp, _ = TokenLogProbs(model)(batch.input_ids, batch.position_ids, batch.labels, batch.segment_ids)
        logits = model(input_ids=batch.input_ids, position_ids=batch.position_ids).logits
    reference = torch.nn.functional.cross_entropy(logits[0, :-1], batch.labels[0, 1:], ignore_index=IGNORE)
    assert logp.numel() == batch.n_trained
    torch.testing.assert_close(-logp.mean(), reference, atol=1e-5, rtol=1e-5)


def test_pack_first_fit_decreasing_fills_rows():
    assert pack([5, 3, 4, 2], 8) == [[0, 1], [2, 3]]
    assert pack([8, 1, 1], 8) == [[0], [1, 2]]
    assert pack([3, 3], 8, packing=False) == [[0], [1]]


def test_warmup_then_cosine_schedule():
    total, warm = 100, 10
    values = [warmup_cosine(s, total, warm) for s in range(total + 1)]
    assert values[0] == pytest.approx(0.1) and values[9] == pytest.approx(1.0)
    assert values[10] == pytest.approx(1.0)
    assert values[55] == pytest.approx(0.5)  # half-way through the cosine
    assert values[100] == pytest.approx(0.0, abs=1e-9)
    assert all(b <= a + 1e-12 for a, b in zip(values[10:], values[11:]))
    assert warmup_cosine(5, 10, 0) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))


def test_malformed_line_names_file_and_line(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text('{"messages": []}\n\n{"messages": [oops\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"train\.jsonl:3: not valid JSON"):
        read_jsonl(path)


def test_bad_record_shape_names_file_and_line(tiny_tokenizer, tmp_path, tiny_model_dir):
    root = make_train_project(tmp_path / "shop", tiny_model_dir, n_train=4)
    with (root / "data" / "train.jsonl").open("a") as handle:
        handle.write(json.dumps({"messages": [{"role": "robot", "content": "x"}], "meta": {}}) + "\n")
    with pytest.raises(DatasetError, match=r"train\.jsonl:6: messages\[0\] has role 'robot'"):
        train(load_project(root), "product-expert")


def test_train_writes_run_folder_and_adapter_reloads(tmp_path, tiny_model_dir, tiny_tokenizer):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    root = make_train_project(tmp_path / "shop", tiny_model_dir, train={"cost_per_hour": 2.0})
    summary = train(load_project(root), "product-expert")
    run = root / "runs" / summary["run_id"]
    assert summary["status"] == "finished" and summary["steps"] == 6
    for name in ("adapter/adapter_config.json", "adapter/adapter_model.safetensors", "config.yaml", "data.json",
                 "versions.json", "metrics.jsonl", "loss.png", "run_card.md", "run.json", "checkpoint/state.json"):
        assert (run / name).exists(), name
    data = json.loads((run / "data.json").read_text())
    assert len(data["files"]["train"]["sha256"]) == 64
    # 48 samples alternate between two adapters, plus one shared sample.
    assert data["files"]["train"]["records"] == 25
    card = (run / "run_card.md").read_text()
    for text in ("## Data", "## Cleaning", "## Configuration", "Tokens seen", "Estimated cost", "Wall time"):
        assert text in card
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics if m["type"] == "eval"] == [0, 3, 6]
    assert summary["final_val_loss"] < summary["initial_val_loss"]

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    ids = tiny_tokenizer("<|im_start|>user\nHow much is Hendrick's Gin?<|im_end|>\n", return_tensors="pt").input_ids
    with torch.no_grad():
        before = base(ids).logits
        tuned = PeftModel.from_pretrained(base, run / "adapter").eval()
        after = tuned(ids).logits
    assert not torch.allclose(before, after)
    config = json.loads((run / "adapter" / "adapter_config.json").read_text())
    targets = config["target_modules"]
    targets = [targets] if isinstance(targets, str) else targets
    for name in ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"):
        assert any(name in t for t in targets), name  # every linear layer of the blocks, not the head


def test_train_all_trains_each_adapter_from_its_own_data(tmp_path, tiny_model_dir):
    root = make_train_project(tmp_path / "shop", tiny_model_dir, train={"max_steps": 1, "eval_every": 5})
    summaries = train_all(load_project(root))
    assert [s["adapter"] for s in summaries] == ["product-expert", "support-agent"]
    assert all(s["data"]["records"] == 25 for s in summaries)  # 24 own + 1 shared each


def test_early_stopping_keeps_best(tmp_path, tiny_model_dir):
    root = make_train_project(tmp_path / "shop", tiny_model_dir,
                              train={"lr": 0.0, "warmup_ratio": 0.0, "eval_every": 1, "early_stopping_patience": 2, "max_steps": 20})
    summary = train(load_project(root), "product-expert")
    assert summary["status"] == "early_stopped"
    assert summary["steps"] == 3 and summary["best_step"] == 1


def test_resume_refuses_adapter_of_another_base(tmp_path, tiny_model_dir, tiny_tokenizer):
    from conftest import build_tiny_model

    root = make_train_project(tmp_path / "shop", tiny_model_dir, train={"max_steps": 2, "save_every": 1})
    summary = train(load_project(root), "product-expert")
    mark_interrupted(root, summary["run_id"])
    other = tmp_path / "other-model"
    build_tiny_model(tiny_tokenizer, seed=1).save_pretrained(other)
    tiny_tokenizer.save_pretrained(other)
    project = load_project(root, [f"base_model={other}"])
    with pytest.raises(TrainError, match=r"trained on base model .*tiny-model.*this project's base_model is .*other-model"):
        train(project, "product-expert", resume=True)


def test_progress_writes_plain_lines_where_no_bar_is_drawn(monkeypatch):
    # `domainlm train > train.log`: rich draws no bar, so a line with step, loss, tokens/s and ETA is printed
    # every log_every_s; on a terminal the bar alone shows progress.
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from domainlm.train import progress as progress_module
    from domainlm.train.progress import TrainProgress

    clock = iter([100.0, 160.0, 220.0, 230.0, 400.0])  # the first update, then one per step
    monkeypatch.setattr(progress_module, "time", SimpleNamespace(monotonic=lambda: next(clock)))
    log = io.StringIO()
    with TrainProgress(Console(file=log, force_terminal=False, width=200), "product-expert sft", 4,
                       log_every_s=50) as bar:
        bar.update(0, None, 0.0)
        for step, loss in zip(range(1, 5), (2.0, 1.5, 1.25, 1.0)):
            bar.update(step, loss, 150.0)
    lines = [line for line in log.getvalue().splitlines() if "elapsed" in line]
    assert lines == [
        "product-expert sft: step 1/4 (25%), loss 2.0000, 150 tok/s, 1m elapsed, ETA 3m",
        "product-expert sft: step 2/4 (50%), loss 1.5000, 150 tok/s, 2m elapsed, ETA 2m",
        # step 3 came 10 s after the last line: none
        "product-expert sft: step 4/4 (100%), loss 1.0000, 150 tok/s, 5m elapsed",
    ]
    monkeypatch.setattr(progress_module, "time", SimpleNamespace(monotonic=lambda: 0.0))
    terminal = io.StringIO()
    with TrainProgress(Console(file=terminal, force_terminal=True, width=200), "x", 2, log_every_s=0) as bar:
        bar.update(0, None, 0.0)
        bar.update(1, 1.0, 10.0)
    assert "elapsed" not in terminal.getvalue()


def test_sigterm_during_validation_stops_at_once_and_resume_validates_that_step(tmp_path, tiny_model_dir, monkeypatch):
    # A validation pass of the example takes minutes on a CPU; a scheduler's SIGTERM must not wait for it. The
    # pass is cut short, the run checkpoints and stops; --resume first runs the validation it missed.
    import os
    import signal

    import domainlm.train.recipe as recipe

    root = make_train_project(tmp_path / "shop", tiny_model_dir, train={"max_steps": 6, "eval_every": 2, "save_every": 100,
                                                                        "batch_size": 2})
    real = recipe.evaluate
    calls = []

    def evaluate(*args, stop=None, **kwargs):
        calls.append(stop)
        if len(calls) == 3 and stop is not None:  # the pass at step 4 (step 0 and step 2 ran)
            os.kill(os.getpid(), signal.SIGTERM)
            assert stop()  # the handler has set the flag the pass checks between batches
        return real(*args, stop=stop, **kwargs)

    monkeypatch.setattr(recipe, "evaluate", evaluate)
    summary = train(load_project(root), "product-expert")
    run_dir = root / "runs" / summary["run_id"]
    evals = [m["step"] for m in map(json.loads, (run_dir / "metrics.jsonl").read_text().splitlines()) if m["type"] == "eval"]
    assert summary["status"] == "interrupted" and summary["steps"] == 4
    assert evals == [0, 2]  # the cut pass wrote no val loss
    monkeypatch.setattr(recipe, "evaluate", real)
    resumed = train(load_project(root), "product-expert", resume=True)
    evals = [m["step"] for m in map(json.loads, (run_dir / "metrics.jsonl").read_text().splitlines()) if m["type"] == "eval"]
    assert resumed["status"] == "finished" and resumed["steps"] == 6
    assert evals == [0, 2, 4, 6]


def test_memory_warning_names_sizes_and_fixes():
    assert memory_warning(MemoryEstimate(0.5, 0.1, 1.0, 16.0, "available RAM")) is None
    text = memory_warning(MemoryEstimate(8.0, 1.0, 20.0, 16.0, "available RAM"))
    assert "29.0 GiB needed" in text and "16.0 GiB available RAM" in text and "train.batch_size" in text


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_memory_estimate_counts_attention_scores_only_where_they_are_stored(tiny_model_dir, attention):
    # Korthikanti's count s*b*h*(34 + 5*a*s/h): the 5*a*s/h part is the [heads, s, s] scores, which SDPA never
    # holds, so with SDPA activations grow linearly with the sequence and with eager attention faster.
    from domainlm.train.model import estimate_memory

    model = load_for_training(tiny_model_dir, TrainConfig(), torch.device("cpu"), bf16=False)
    model.get_base_model().config._attn_implementation = attention
    short, long = (estimate_memory(model, TrainConfig(batch_size=4, max_seq_len=n), torch.device("cpu"), False)
                   for n in (512, 1024))
    ratio = long.activations_gb / short.activations_gb
    assert ratio == pytest.approx(2.0) if attention == "sdpa" else ratio > 2.1
    config = model.get_base_model().config
    logits = 4 * 1024 * config.vocab_size * 4 * 2 / 2**30
    linear = 1024 * 4 * config.hidden_size * 34 * 4 / 2 * config.num_hidden_layers / 2**30
    if attention == "sdpa":
        assert long.activations_gb == pytest.approx(linear + logits)


def test_memory_warning_before_first_step(tmp_path, tiny_model_dir):
    # 4096 x 4096 tokens per micro-batch: the estimate is far above any test machine's RAM, while the few real
    # rows of the tiny dataset still train in one small step.
    root = make_train_project(tmp_path / "shop", tiny_model_dir, train={"max_steps": 1, "batch_size": 4096, "max_seq_len": 4096})
    with pytest.warns(ResourceWarning, match="may not fit in memory"):
        summary = train(load_project(root), "product-expert")
    assert summary["memory_estimate_gb"] > 100


def test_qlora_on_cpu_is_refused(tmp_path, tiny_model_dir):
    root = make_train_project(tmp_path / "shop", tiny_model_dir, train={"qlora": True})
    with pytest.raises(TrainError, match="QLoRA .* needs a CUDA GPU"):
        train(load_project(root), "product-expert")


def test_dpo_starts_from_latest_sft_run(tmp_path, tiny_model_dir):
    root = make_train_project(tmp_path / "shop", tiny_model_dir, dpo=24, train={"max_steps": 2, "dpo": {"max_steps": 3}})
    project = load_project(root)
    with pytest.raises(TrainError, match="no finished SFT run"):
        train(project, "product-expert", stage="dpo")
    sft = train(project, "product-expert")
    dpo = train(project, "product-expert", stage="dpo")
    assert dpo["parent_run"] == sft["run_id"] and dpo["stage"] == "dpo" and dpo["steps"] == 3
    assert dpo["initial_val_loss"] == pytest.approx(math.log(2), abs=1e-3)  # policy == reference at the start
    assert (root / "runs" / dpo["run_id"] / "adapter" / "adapter_model.safetensors").exists()


def test_dpo_line_errors_name_file_and_line(tmp_path, tiny_model_dir):
    root = make_train_project(tmp_path / "shop", tiny_model_dir, train={"max_steps": 1})
    project = load_project(root)
    train(project, "product-expert")
    write_jsonl(root / "data" / "dpo.jsonl", [{"prompt": [{"role": "user", "content": "hi"}], "chosen": [], "rejected": []}])
    with pytest.raises(DatasetError, match=r"dpo\.jsonl:1: `chosen` must be a non-empty list"):
        train(project, "product-expert", stage="dpo")


def test_cli_train_all_then_runs_list(tmp_path, tiny_model_dir):
    from typer.testing import CliRunner

    from domainlm.cli import app

    root = make_train_project(tmp_path / "shop", tiny_model_dir, train={"max_steps": 1, "eval_every": 5})
    runner = CliRunner()
    out = runner.invoke(app, ["train", "-c", str(root), "--all", "--set", "train.lr=1e-3"])
    assert out.exit_code == 0, out.output
    runs = sorted(p.name for p in (root / "runs").iterdir())
    assert len(runs) == 2 and runs[0].endswith("product-expert-sft") and runs[1].endswith("support-agent-sft")
    out = runner.invoke(app, ["runs", "list", "-c", str(root)], env={"COLUMNS": "250"})
    assert out.exit_code == 0 and "support-agent" in out.output


def test_val_subset_is_evenly_spaced_and_bounded():
    from domainlm.train.recipe import evenly_spaced

    records = list(range(10))
    assert evenly_spaced(records, None) == records and evenly_spaced(records, 20) == records
    assert evenly_spaced(records, 5) == [0, 2, 4, 6, 8]
    assert evenly_spaced(list(range(7)), 3) == [0, 2, 4]


@pytest.mark.parametrize("change, message", [
    ("train.seed=7", r"train\.seed was 42 when the run started and is 7 now"),
    ("train.batch_size=2", r"train\.batch_size was 4 when the run started and is 2 now"),
])
def test_resume_refuses_changes_the_data_order_depends_on(tmp_path, tiny_model_dir, change, message):
    root = make_train_project(tmp_path / "shop", tiny_model_dir, train={"max_steps": 2, "save_every": 1})
    run_id = train(load_project(root), "product-expert")["run_id"]
    mark_interrupted(root, run_id)
    with pytest.raises(TrainError, match=rf"cannot resume run {run_id}: {message}.*start a new run without --resume"):
        train(load_project(root, [change]), "product-expert", resume=True)


def test_resume_refuses_changed_training_file(tmp_path, tiny_model_dir):
    root = make_train_project(tmp_path / "shop", tiny_model_dir, train={"max_steps": 2, "save_every": 1})
    run_id = train(load_project(root), "product-expert")["run_id"]
    mark_interrupted(root, run_id)
    old_hash = json.loads((root / "runs" / run_id / "data.json").read_text())["files"]["train"]["sha256"]
    with (root / "data" / "train.jsonl").open("a") as handle:
        handle.write(json.dumps(chat_sample(random.Random(5))) + "\n")
    with pytest.raises(TrainError, match=rf"data/train\.jsonl changed since the run started \(sha256 {old_hash[:12]} -> "):
        train(load_project(root), "product-expert", resume=True)


def test_resume_warns_about_other_changes_and_continues(tmp_path, tiny_model_dir):
    root = make_train_project(tmp_path / "shop", tiny_model_dir, train={"max_steps": 2, "save_every": 1})
    run_id = train(load_project(root), "product-expert")["run_id"]
    mark_interrupted(root, run_id)
    with (root / "data" / "val.jsonl").open("a") as handle:
        handle.write(json.dumps(chat_sample(random.Random(6))) + "\n")
    with pytest.warns(UserWarning) as caught:
        summary = train(load_project(root, ["train.lr=0.001", "train.max_steps=4"]), "product-expert", resume=True)
    text = "\n".join(str(w.message) for w in caught)
    assert "train.lr was 0.002 when the run started and is 0.001 now" in text
    assert "train.max_steps was 2 when the run started and is 4 now" in text
    assert "data/val.jsonl changed since the run started" in text
    assert summary["run_id"] == run_id and summary["status"] == "finished" and summary["steps"] == 4
    assert any("train.lr was 0.002" in note for note in summary["notes"])


def test_time_budget_predicts_step_eval_and_save_costs():
    budget = TimeBudget(10.0, has_val=True)
    budget.record_eval(1.0)
    budget.record_save(0.5)
    assert budget.fits_another_step(9.9)  # no step time measured yet: the first step runs
    budget.record_step(7.0)
    assert budget.step_estimate() == 7.0
    budget.record_step(3.0)
    budget.record_step(2.5)
    assert budget.step_estimate() == 3.0  # the slowest recent step, not the warm-up
    assert budget.fits_another_step(5.0)  # 5 + 3 (step) + 1 (final eval) + 2 x 0.5 (adapter, checkpoint) = 10
    assert not budget.fits_another_step(5.1)
    assert TimeBudget(None, has_val=True).fits_another_step(1e9)


def test_time_budget_stops_before_overshooting(tmp_path, tiny_model_dir, monkeypatch):
    # Every micro-batch, trained or evaluated, takes at least 0.5 s: the budget binds long before max_steps,
    # and a loop that only checked after each step would end past it by up to a step plus the final eval.
    # 20 s leaves room for the first step, which always runs, on a busy CI machine.
    from domainlm.train.objectives import SftObjective

    loss = SftObjective.loss

    def slow_loss(self, module, batch):
        time.sleep(0.5)
        return loss(self, module, batch)

    monkeypatch.setattr(SftObjective, "loss", slow_loss)
    budget = 20.0
    root = make_train_project(tmp_path / "shop", tiny_model_dir, n_val=8,
                              train={"max_steps": 1000, "eval_every": 1000, "save_every": 1000, "time_budget_s": budget,
                                     "cpu_threads": 1})
    summary = train(load_project(root), "product-expert")
    assert summary["status"] == "time_budget"
    assert summary["wall_time_s"] <= budget
    assert summary["steps"] >= 3
    metrics = [json.loads(line) for line in (root / "runs" / summary["run_id"] / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics if m["type"] == "eval"] == [0, summary["steps"]]  # the final eval fit too
    # The schedule was fitted to the budget after the warm-up step and two timed ones: the cosine reaches
    # (nearly) zero by the last step instead of stopping at the peak of a 1,000-step schedule.
    assert summary["planned_steps"] == 1000 and summary["steps"] <= summary["total_steps"] < 1000
    lrs = [m["lr"] for m in metrics if m["type"] == "train"]
    assert lrs[-1] < 0.05 * max(lrs)
    assert any("schedule was fitted" in note for note in summary["notes"])


def test_horizon_shortens_the_cosine_and_never_lengthens_it():
    from domainlm.train.schedule import Horizon

    horizon = Horizon(100, 0.1)
    assert horizon.warmup == 10 and horizon(50) > 0.5
    horizon.shorten(30, steps_done=3)
    assert (horizon.total, horizon.warmup) == (30, 3)
    values = [horizon(s) for s in range(3, 31)]
    assert values[0] == pytest.approx(1.0) and values[-1] == pytest.approx(0.0, abs=1e-9)
    assert all(b <= a + 1e-12 for a, b in zip(values, values[1:]))
    horizon.shorten(80, steps_done=5)  # a longer horizon is ignored
    assert horizon.total == 30
    horizon.shorten(2, steps_done=5)  # never ends before the next step
    assert horizon.total == 6


def test_steps_that_fit_count_periodic_evals_and_saves():
    budget = TimeBudget(100.0, has_val=True)
    budget.record_eval(2.0)
    budget.record_save(1.0)
    for seconds in (9.0, 2.0, 2.0):  # warm-up, then two steps of 2 s
        budget.record_step(seconds)
    # 100 - 13 elapsed - (2 final eval + 2 saves) = 83 s left; a step costs 2.1 + 2/10 + 1/10 = 2.4 s -> 34 more
    assert budget.steps_that_fit(13.0, 3, eval_every=10, save_every=10) == 3 + 34


def test_cheap_dropout_drops_p_keeps_the_mean_and_masks_the_gradient(tiny_model_dir):
    torch.manual_seed(0)
    dropout = CheapDropout(0.05).train()
    x = torch.ones(400_000, requires_grad=True)
    y = dropout(x)
    assert abs(float((y == 0).float().mean()) - 0.05) < 0.002
    assert abs(float(y.mean()) - 1.0) < 0.005
    y.sum().backward()
    assert torch.equal(x.grad, y.detach())  # d(out)/d(in) is the same mask and scale
    torch.manual_seed(0)
    assert torch.equal(CheapDropout(0.05).train()(torch.ones(400_000)), y.detach())  # seeded like nn.Dropout
    assert torch.equal(dropout.eval()(x), x)
    model = load_for_training(tiny_model_dir, TrainConfig(lora_dropout=0.1), torch.device("cpu"), bf16=False)
    kinds = {type(m).__name__ for m in model.modules() if isinstance(m, (CheapDropout, torch.nn.Dropout))}
    assert kinds == {"CheapDropout"}


def test_projections_that_read_one_input_share_one_dropout_mask(tiny_model_dir, monkeypatch):
    """q/k/v read one tensor and gate/up another: one mask each, so a Llama layer draws 4 masks, not 7; the
    gradient through the shared dropped copy is the sum of its users' gradients, masked once."""
    torch.manual_seed(0)
    dropout = CheapDropout(0.3).train()
    x = torch.randn(1000, requires_grad=True)
    a, b = torch.randn(1000), torch.randn(1000)
    first, second = dropout(x), dropout(x)
    assert second is first  # the same input again: the same mask
    ((first * a).sum() + (second * b).sum()).backward()
    keep = first.detach() != 0
    assert torch.allclose(x.grad, torch.where(keep, (a + b) * dropout.scale, 0))
    assert not torch.equal(dropout(x.detach().clone()), first.detach())  # another tensor: a new mask

    model = load_for_training(tiny_model_dir, TrainConfig(lora_dropout=0.1), torch.device("cpu"), bf16=False).train()
    draws = []
    real = CheapDropout._drop
    monkeypatch.setattr(CheapDropout, "_drop", lambda self, t: draws.append(t.shape) or real(self, t))
    ids = torch.randint(0, 100, (2, 16))
    model(input_ids=ids).logits.sum().backward()
    layers = model.get_base_model().config.num_hidden_layers
    assert len(draws) == 4 * layers  # q/k/v, o, gate/up, down
    assert all(p.grad is not None for n, p in model.named_parameters() if p.requires_grad and "lora_A" in n)


def test_rows_of_one_sample_need_no_packed_mask(tiny_tokenizer):
    from transformers.masking_utils import find_packed_sequence_indices

    encoder = ChatEncoder(tiny_tokenizer)
    rng = random.Random(3)
    a, b, c = (encoder.encode(chat_sample(rng)["messages"]) for _ in range(3))
    single = collate([[a], [b]], tiny_tokenizer.pad_token_id, multiple_of=64)
    assert find_packed_sequence_indices(single.position_ids) is None  # plain causal attention, no [b,1,s,s] mask
    packed = collate([[a, b], [c]], tiny_tokenizer.pad_token_id, multiple_of=64)
    segments = find_packed_sequence_indices(packed.position_ids)
    assert segments is not None and segments[0, len(a)] != segments[0, 0]


def test_run_config_masks_passwords(tmp_path):
    from domainlm.train.run_folder import write_config

    write_config(tmp_path / "config.yaml", {"catalog": {"source": "postgresql://shop:s3cret@db:5432/shop"},
                                            "retrieval": {"uri": "http://u:pw@milvus:19530"}, "train": {"lr": 0.001},
                                            "models": ["sqlite:///shop.db"]})
    text = (tmp_path / "config.yaml").read_text()
    assert "s3cret" not in text and ":pw@" not in text
    assert "postgresql://shop:***@db:5432/shop" in text and "http://u:***@milvus:19530" in text
    assert "sqlite:///shop.db" in text and "lr: 0.001" in text


def test_dropout_masks_are_windows_of_a_pool_drawn_anew_every_micro_batch(tiny_model_dir, monkeypatch):
    """Each mask is a window of one pre-scaled pool; every training forward of TokenLogProbs draws a new pool,
    from torch's generator (so a seeded or resumed run gets the same masks); a backward uses its forward's
    window even after the pool was drawn anew."""
    pool = DropoutPool()
    dropout = CheapDropout(0.2, pool).train()
    torch.manual_seed(1)
    x = torch.ones(300_000, requires_grad=True)
    first, second = dropout(x), dropout(torch.ones(300_000))
    assert torch.equal(first.detach().unique(), torch.tensor([0.0, dropout.scale]))
    assert abs(float((first == 0).float().mean()) - 0.2) < 0.005
    assert not torch.equal(first.detach(), second)  # another window of the pool
    pool.refresh(300_000)
    third = dropout(torch.ones(300_000))
    first.sum().backward()
    assert torch.equal(x.grad, first.detach())  # the backward kept its forward's window
    # Within one mask the drops show no runs: the share of dropped neighbours of a dropped element is p.
    dropped = third == 0
    assert abs(float(dropped[1:][dropped[:-1]].float().mean()) - 0.2) < 0.01

    model = load_for_training(tiny_model_dir, TrainConfig(lora_dropout=0.1), torch.device("cpu"), bf16=False).train()
    module = TokenLogProbs(model).train()
    pools = {id(m.pool) for m in model.modules() if isinstance(m, CheapDropout)}
    assert len(pools) == 1 and module._widest == max(
        m.in_features for n, m in model.named_modules() if n.endswith("down_proj") and hasattr(m, "in_features"))
    ids = torch.randint(0, 100, (2, 16))
    positions = torch.arange(16).repeat(2, 1)
    labels = ids.clone()

    def grads(seed: int) -> list[torch.Tensor]:
        torch.manual_seed(seed)
        model.zero_grad()
        for _ in range(2):  # two micro-batches, two pools
            logp, _ = module(ids, positions, labels, torch.zeros_like(ids))
            (-logp.sum()).backward()
        return [p.grad.clone() for p in model.parameters() if p.requires_grad]

    import domainlm.train.model as train_model

    pools_drawn = []
    real_keep_mask = train_model._keep_mask
    monkeypatch.setattr(train_model, "_keep_mask", lambda *a: pools_drawn.append(a[1]) or real_keep_mask(*a))
    a, b, c = grads(7), grads(7), grads(8)
    assert len(pools_drawn) == 6  # one pool a micro-batch, for all 4 x layers masks
    assert pools_drawn[0].numel() >= 4 * ids.numel() * module._widest
    assert all(torch.equal(x, y) for x, y in zip(a, b))  # same seed, same masks: resumable
    assert not all(torch.equal(x, y) for x, y in zip(a, c))
