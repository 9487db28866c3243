"""Slow training tests: SIGKILL + --resume, SIGTERM checkpoint, 2-process gloo DDP, real SmolLM2 weights."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from test_train_support import make_train_project

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-c", "from domainlm.cli import main; main()"]


def _env() -> dict:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}


def _run(cmd, cwd, timeout=600):
    result = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _only_run(root: Path) -> dict:
    (run,) = list((root / "runs").glob("*/run.json"))
    return json.loads(run.read_text())


def _wait_for_checkpoint(root: Path, min_step: int, proc, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        for state in root.glob("runs/*/checkpoint/state.json"):
            try:
                if json.loads(state.read_text())["step"] >= min_step:
                    return
            except (json.JSONDecodeError, FileNotFoundError):
                continue  # being swapped in right now
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("no checkpoint appeared in time")


TRAIN = {"max_steps": 40, "save_every": 4, "eval_every": 10, "lora_dropout": 0.1, "bf16": "auto"}


def test_sigkill_then_resume_matches_uninterrupted_run(tmp_path, tiny_model_dir):
    straight = make_train_project(tmp_path / "straight", tiny_model_dir, n_train=96, train=TRAIN)
    killed = make_train_project(tmp_path / "killed", tiny_model_dir, n_train=96, train=TRAIN)
    _run([*CLI, "train", "-c", str(straight)], straight)

    proc = subprocess.Popen([*CLI, "train", "-c", str(killed)], cwd=killed, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_checkpoint(killed, 12, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _only_run(killed)["status"] == "running"  # killed without a chance to write anything
    _run([*CLI, "train", "-c", str(killed), "--resume"], killed)

    a, b = _only_run(straight), _only_run(killed)
    assert b["status"] == "finished" and b["steps"] == a["steps"] == 40
    assert b["final_train_loss"] == pytest.approx(a["final_train_loss"], rel=0.01)
    assert b["final_val_loss"] == pytest.approx(a["final_val_loss"], rel=0.01)
    assert b["tokens_seen"] == a["tokens_seen"]


def test_sigterm_checkpoints_and_marks_interrupted(tmp_path, tiny_model_dir):
    root = make_train_project(tmp_path / "shop", tiny_model_dir, n_train=96, train={**TRAIN, "max_steps": 400})
    proc = subprocess.Popen([*CLI, "train", "-c", str(root)], cwd=root, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _wait_for_checkpoint(root, 4, proc)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out
    info = _only_run(root)
    state = json.loads((root / "runs" / info["run_id"] / "checkpoint" / "state.json").read_text())
    assert info["status"] == "interrupted" and state["step"] == info["steps"] < 400
    assert "--resume" in out


def test_two_process_gloo_ddp_gives_a_valid_adapter(tmp_path, tiny_model_dir, tiny_tokenizer):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    # `accelerate launch --cpu` starts several CPU processes only through mpirun; `--multi_gpu` on a machine
    # without CUDA starts them with torchrun and accelerate picks gloo DDP on CPU (MULTI_CPU).
    root = make_train_project(tmp_path / "shop", tiny_model_dir, train={"max_steps": 3, "eval_every": 2, "batch_size": 2})
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", "2", "--multi_gpu",
              "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
              str(Path(sys.executable).parent / "domainlm"), "train", "-c", str(root)]
    _run(launch, root)
    info = _only_run(root)
    assert info["world_size"] == 2 and info["status"] == "finished" and info["steps"] == 3
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), Path(info["adapter_dir"]))
    ids = tiny_tokenizer("hello", return_tensors="pt").input_ids
    assert torch.isfinite(model(ids).logits).all()


def test_real_smollm2_weights_train_and_change_output(tmp_path, tiny_tokenizer):
    from peft import PeftModel

    from domainlm.config import load_project
    from domainlm.models.base import load_base_model
    from domainlm.train import train

    root = make_train_project(tmp_path / "shop", Path("unused"), n_train=16, n_val=4,
                              train={"max_steps": 3, "eval_every": 3, "bf16": "auto", "lr": 1e-3})
    project = load_project(root, ["base_model=smollm2-135m"])
    summary = train(project, "product-expert")
    assert summary["status"] == "finished"
    assert summary["final_val_loss"] < summary["initial_val_loss"]
    model, tokenizer = load_base_model("smollm2-135m", dtype=torch.float32)
    ids = tokenizer("<|im_start|>user\nHow much is Hendrick's Gin?<|im_end|>\n<|im_start|>assistant\n", return_tensors="pt").input_ids
    with torch.no_grad():
        before = model(ids).logits
        after = PeftModel.from_pretrained(model, summary["adapter_dir"]).eval()(ids).logits
    assert (before - after).abs().max() > 1e-3
