"""`domainlm train`: one recipe for the SFT and DPO stages, read top to bottom in the order it runs.

    setup    resolve the base and the run folder, read and encode the data, build model and optimiser
    train    micro-batches -> loss on trained tokens -> optimiser step; eval, early stop, checkpoint
    finish   best adapter, metrics, loss curve, run card, run.json, summary table

Why a hand-written loop instead of transformers' Trainer or TRL's trainers: measured on SmolLM2-135M on a
2-core CPU, TRL's SFTTrainer with default settings ran at ~84 useful tokens/s and a Trainer with bf16 and
packing at ~253. The loop here (plain PyTorch + peft + accelerate) adds what those trainers do not do on CPU:
the output head runs only on trained positions, frozen base weights stay in bf16 (no per-step casts),
packing uses a block-diagonal mask from restarting position ids, and there are no per-step callbacks.
accelerate keeps the same code working under `accelerate launch` (DDP on GPUs, or gloo on CPUs).
"""

from __future__ import annotations

import json
import math
import random
import signal
import threading
import time
import warnings
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch

from domainlm.config import ProjectConfig, resolved_dict
from domainlm.train import run_folder as rf
from domainlm.train.budget import TimeBudget
from domainlm.train.checkpoint import load_checkpoint, resume_changes, save_checkpoint
from domainlm.train.data import ChatEncoder, encode_records, for_adapter, mix_of, read_jsonl
from domainlm.train.errors import TrainError
from domainlm.train.model import TokenLogProbs, estimate_memory, load_for_training, memory_warning, use_bf16
from domainlm.train.objectives import DpoObjective, SftObjective, encode_pairs
from domainlm.train.progress import TrainProgress, summary_table
from domainlm.train.schedule import Horizon, make_scheduler

FINISHED = ("finished", "early_stopped", "time_budget")
# With `train.time_budget_s`, the schedule's horizon is fitted once this many steps after the first (warm-up)
# have been timed.
BUDGET_FIT_AFTER = 2
RESUMABLE = ("running", "interrupted", "failed")


@dataclass
class Plan:
    """Everything the loop needs, decided in setup."""

    run_dir: Path
    run_id: str
    stage: str
    adapter: str
    objective: object
    val_objective: object | None
    lr: float
    total_steps: int
    micro_per_epoch: int
    data_info: dict
    parent_run: str | None = None
    init_adapter: Path | None = None
    resume: bool = False
    notes: list[str] = field(default_factory=list)


class StopFlag:
    """Set by SIGINT/SIGTERM; the loop finishes its step, checkpoints and exits cleanly."""

    def __init__(self):
        self.signal: str | None = None

    def __call__(self, signum, frame):
        self.signal = signal.Signals(signum).name


@contextmanager
def catch_signals(flag: StopFlag):
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, flag) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _data_file(project: ProjectConfig, name: str) -> Path:
    return project.path(Path("data") / name)


def _find_resume_run(project: ProjectConfig, adapter: str, stage: str, run_id: str | None) -> Path:
    if run_id:
        folder = rf.runs_dir(project.root) / run_id
        if not (folder / "run.json").exists():
            raise TrainError(f"{folder}: no such run to resume (see `domainlm runs list`)")
    else:
        folder = rf.latest_run(project.root, adapter, stage, RESUMABLE)
        if folder is None:
            raise TrainError(f"no unfinished {stage} run of adapter {adapter!r} under {rf.runs_dir(project.root)} to resume")
    if not (folder / "checkpoint" / "state.json").exists():
        raise TrainError(f"run {folder.name} has no checkpoint yet; start a new run instead of --resume")
    return folder


def _check_same_base(project: ProjectConfig, info: dict, base_dir: Path, what: str) -> None:
    if info.get("base_model") != project.base_model or Path(info.get("base_model_path", "")) != base_dir:
        raise TrainError(
            f"{what} {info['run_id']} was trained on base model {info.get('base_model')!r} "
            f"({info.get('base_model_path')}), but this project's base_model is {project.base_model!r} ({base_dir}). "
            f"An adapter only fits the base it was trained on: set base_model back, or start a new run."
        )


def _find_parent_sft(project: ProjectConfig, adapter: str, from_run: str | None) -> Path:
    if from_run:
        folder = rf.runs_dir(project.root) / from_run
        if not (folder / "run.json").exists():
            raise TrainError(f"--from {from_run}: no such run under {rf.runs_dir(project.root)}")
    else:
        folder = rf.latest_run(project.root, adapter, "sft", FINISHED)
        if folder is None:
            raise TrainError(f"the DPO stage starts from an SFT adapter, and adapter {adapter!r} has no finished SFT run; "
                             f"run `domainlm train --adapter {adapter}` first or pass --from RUN")
    if not (folder / "adapter" / "adapter_config.json").exists():
        raise TrainError(f"run {folder.name} has no adapter/ folder to start DPO from")
    return folder


def _split_dpo(records: list) -> tuple[list, list]:
    """Every 10th pair is held out for validation when there are at least 20."""
    if len(records) < 20:
        return records, []
    return [r for i, r in enumerate(records) if i % 10 != 9], [r for i, r in enumerate(records) if i % 10 == 9]


def evenly_spaced(records: list, limit: int | None) -> list:
    """At most `limit` records spread evenly over the list (the val file is grouped by kind)."""
    if limit is None or len(records) <= limit:
        return records
    return [records[i * len(records) // limit] for i in range(limit)]


def _prepare_data(project, adapter, stage, tokenizer, notes) -> tuple[object, object | None, dict]:
    cfg = project.train
    encoder = ChatEncoder(tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    cleaning = ["malformed lines rejected at load (the run stops and names the file and line)"]
    counts: dict[str, dict] = {}
    files: dict[str, Path] = {}
    if stage == "sft":
        files["train"] = _data_file(project, "train.jsonl")
        if not files["train"].exists():
            raise TrainError(f"{files['train']}: no training data; run `domainlm data build` first")
        train_all = read_jsonl(files["train"])
        train_records = for_adapter(train_all, adapter)
        if not train_records:
            raise TrainError(f"{files['train']}: no samples for adapter {adapter!r} (meta.adapter)")
        train = encode_records(train_records, encoder, cfg.max_seq_len)
        counts["train"] = {"records": len(train_records), "used": len(train.samples)}
        cleaning.append(f"train: {len(train_all)} records in file, {len(train_records)} for adapter {adapter!r} "
                        f"(own + shared), {train.dropped_too_long} dropped longer than {cfg.max_seq_len} tokens, "
                        f"{train.dropped_no_target} dropped with no assistant token")
        if not train.samples:
            raise TrainError(f"{files['train']}: every sample for {adapter!r} was dropped (see max_seq_len)")
        objective = SftObjective(train.samples, cfg.max_seq_len, cfg.packing, pad_id)
        mix = mix_of(train_records)
        val_obj = None
        val_path = _data_file(project, "val.jsonl")
        if val_path.exists():
            files["val"] = val_path
            val_records = evenly_spaced(for_adapter(read_jsonl(val_path), adapter), cfg.val_max_samples)
            val = encode_records(val_records, encoder, cfg.max_seq_len)
            counts["val"] = {"records": len(val_records), "used": len(val.samples)}
            if val.samples:
                val_obj = SftObjective(val.samples, cfg.max_seq_len, cfg.packing, pad_id)
        if val_obj is None:
            notes.append("no val samples: no evaluation or early stopping; adapter/ is the last step")
        for extra in ("report.json", "report.md", "build_report.json"):
            if _data_file(project, extra).exists():
                cleaning.append(f"data build cleaning steps: see data/{extra}")
    else:
        files["dpo"] = _data_file(project, "dpo.jsonl")
        if not files["dpo"].exists():
            raise TrainError(f"{files['dpo']}: no preference data for the DPO stage")
        records = for_adapter(read_jsonl(files["dpo"]), adapter)
        if not records:
            raise TrainError(f"{files['dpo']}: no preference pairs for adapter {adapter!r}")
        train_records, val_records = _split_dpo(records)
        pairs, dropped = encode_pairs(train_records, encoder, cfg.max_seq_len)
        val_pairs, _ = encode_pairs(val_records, encoder, cfg.max_seq_len)
        counts["dpo"] = {"records": len(records), "used": len(pairs) + len(val_pairs)}
        cleaning.append(f"dpo: {len(records)} pairs for {adapter!r}, {len(val_records)} held out for val, "
                        f"{dropped} dropped longer than {cfg.max_seq_len} tokens")
        if not pairs:
            raise TrainError(f"{files['dpo']}: every pair for {adapter!r} was dropped (see max_seq_len)")
        objective = DpoObjective(pairs, cfg.dpo.beta, pad_id)
        val_obj = DpoObjective(val_pairs, cfg.dpo.beta, pad_id) if val_pairs else None
        mix = mix_of(train_records)
    data_info = rf.collect_data_info(files, counts, cleaning, mix, project.root)
    return objective, val_obj, data_info


def _total_steps(project, stage, micro_per_epoch) -> int:
    cfg = project.train
    epochs, max_steps = (cfg.epochs, cfg.max_steps) if stage == "sft" else (cfg.dpo.epochs, cfg.dpo.max_steps)
    if max_steps:
        return max_steps
    return max(1, math.ceil(epochs * micro_per_epoch / cfg.grad_accum))


def micro_batch_items(objective, step: int, cfg, world: int, rank: int, micro_per_epoch: int):
    """The items each micro-batch of optimiser step `step` holds for this rank: a pure function of
    (seed, step), which is what makes --resume replay the same order."""
    per_micro = cfg.batch_size * world
    out = []
    for m in range(step * cfg.grad_accum, (step + 1) * cfg.grad_accum):
        epoch, cursor = divmod(m, micro_per_epoch)
        g = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
        order = torch.randperm(len(objective.items), generator=g).tolist()
        chunk = order[cursor * per_micro:(cursor + 1) * per_micro]
        mine = chunk[rank * cfg.batch_size:(rank + 1) * cfg.batch_size]
        if mine:
            out.append([objective.items[i] for i in mine])
    return out


@torch.no_grad()
def evaluate(module, objective, device, autocast, batch_size: int, accelerator,
             stop: Callable[[], bool] | None = None) -> float | None:
    """Mean loss per unit (token for SFT, pair for DPO) over the whole val split, sharded over ranks.

    None when `stop()` turns true between batches (a SIGTERM): a validation pass of the example takes minutes on
    a CPU, longer than schedulers wait after SIGTERM before they kill. One process only: ranks must agree.
    """
    module.eval()
    total = torch.zeros(2, dtype=torch.float64, device=device)
    items = objective.items[accelerator.process_index::accelerator.num_processes]
    for start in range(0, len(items), batch_size):
        if stop is not None and accelerator.num_processes == 1 and stop():
            module.train()
            return None
        batch = objective.collate(items[start:start + batch_size]).to(device)
        with autocast():
            loss = objective.loss(module, batch)
        total += torch.tensor([float(loss.total.detach()), loss.units], dtype=torch.float64, device=device)
    module.train()
    if accelerator.num_processes > 1:
        total = accelerator.reduce(total, "sum")
    return float(total[0] / max(total[1], 1))


def train(
    project: ProjectConfig,
    adapter: str,
    stage: str = "sft",
    resume: bool = False,
    run_id: str | None = None,
    from_run: str | None = None,
    console=None,
) -> dict:
    """Train one adapter for one stage and return its run.json summary."""
    from accelerate import Accelerator
    from accelerate.utils import broadcast_object_list
    from rich.console import Console
    from transformers import AutoTokenizer

    from domainlm.models.base import resolve_base_model

    console = console or Console(stderr=True)
    if adapter not in project.adapters:
        raise TrainError(f"adapter {adapter!r} is not in the project's adapters ({', '.join(project.adapters)})")
    if stage not in ("sft", "dpo"):
        raise TrainError(f"--stage {stage!r}: accepted stages are sft, dpo")
    cfg = project.train

    # ---- setup -------------------------------------------------------------------------------------------
    # cpu=True without CUDA lets accelerate pick gloo DDP when launched with several processes.
    accelerator = Accelerator(cpu=not torch.cuda.is_available())
    device, main, world, rank = accelerator.device, accelerator.is_main_process, accelerator.num_processes, accelerator.process_index
    with accelerator.main_process_first():
        base_dir = resolve_base_model(project.base_model, project.root).resolve()
    bf16 = use_bf16(cfg, device)
    notes: list[str] = []

    run_dir: Path | None = None
    parent_info: dict | None = None
    if resume:
        run_dir = _find_resume_run(project, adapter, stage, run_id)
        info = rf.load_run(run_dir)
        _check_same_base(project, info, base_dir, "run")
        if info.get("parent_run"):
            parent_info = rf.load_run(rf.runs_dir(project.root) / info["parent_run"])
    elif stage == "dpo":
        parent_info = rf.load_run(_find_parent_sft(project, adapter, from_run))
        _check_same_base(project, parent_info, base_dir, "SFT run")

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    objective, val_objective, data_info = _prepare_data(project, adapter, stage, tokenizer, notes)
    if resume:
        refuse, changed = resume_changes(run_dir, resolved_dict(project)["train"], data_info, world,
                                         "train" if stage == "sft" else "dpo")
        if refuse:
            raise TrainError(
                f"cannot resume run {run_dir.name}: " + "; ".join(refuse) + ". The order of the remaining steps "
                f"depends on these, so the run could not continue as it would have: restore them (domainlm.yaml, "
                f"data/), or start a new run without --resume."
            )
        for line in changed:
            if main:
                console.print(f"[bold yellow]warning:[/] resuming {run_dir.name}: {line}")
            warnings.warn(f"resuming {run_dir.name}: {line}", UserWarning, stacklevel=2)
            notes.append(f"resumed with a change: {line}")

    per_micro = cfg.batch_size * world
    micro_per_epoch = len(objective.items) // per_micro if world > 1 else math.ceil(len(objective.items) / per_micro)
    if micro_per_epoch == 0:
        raise TrainError(f"{len(objective.items)} training rows cannot fill one batch of {cfg.batch_size} on each of {world} processes")
    total_steps = _total_steps(project, stage, micro_per_epoch)

    if not resume:
        new_id = [rf.new_run_id(project.root, adapter, stage) if main else None]
        if world > 1:
            broadcast_object_list(new_id)
        run_dir = rf.runs_dir(project.root) / new_id[0]
    assert run_dir is not None
    run_id = run_dir.name

    if cfg.cpu_threads and device.type == "cpu":
        torch.set_num_threads(cfg.cpu_threads)
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    init_adapter = rf.runs_dir(project.root) / parent_info["run_id"] / "adapter" if parent_info else None
    model = load_for_training(base_dir, cfg, device, bf16, adapter_dir=init_adapter)
    module = TokenLogProbs(model)

    def autocast():
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16) if bf16 else nullcontext()

    estimate = estimate_memory(model, cfg, device, bf16)
    warning = memory_warning(estimate)
    if warning and main:
        console.print(f"[bold yellow]warning:[/] {warning}")
        warnings.warn(warning, ResourceWarning, stacklevel=2)

    if stage == "dpo":
        # Reference log-probs from the starting (SFT) adapter, before any update.
        objective.fill_reference(module, device, autocast, cfg.batch_size)
        if val_objective is not None:
            val_objective.fill_reference(module, device, autocast, cfg.batch_size)

    lr = cfg.lr if stage == "sft" else cfg.dpo.lr
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=cfg.weight_decay)
    scheduler = make_scheduler(optimizer, total_steps, cfg.warmup_ratio)

    state = {"step": 0, "tokens_seen": 0, "trained_tokens": 0, "elapsed_s": 0.0, "train_time_s": 0.0,
             "best_val": None, "best_step": None, "bad_evals": 0, "initial_val": None, "last_eval_step": None}
    resolved = resolved_dict(project)
    summary = {
        "run_id": run_id, "project": project.name, "adapter": adapter, "stage": stage,
        "base_model": project.base_model, "base_model_path": str(base_dir),
        "parent_run": parent_info["run_id"] if parent_info else None,
        "status": "running", "started_at": rf.now_iso(), "finished_at": None, "total_steps": total_steps,
        "device": device.type, "world_size": world, "bf16": bf16,
        "data": {"train_items": len(objective.items), "val_items": len(val_objective.items) if val_objective else 0,
                 **{k: v for k, v in data_info["files"].get("train", data_info["files"].get("dpo")).items() if k in ("records", "used")},
                 "mix": data_info["mix"]},
        "memory_estimate_gb": round(estimate.total_gb, 2), "notes": notes,
    }
    if resume:
        state.update(load_checkpoint(run_dir, model, optimizer, scheduler))
        previous = rf.load_run(run_dir)
        horizon = scheduler.lr_lambdas[0]  # the checkpoint restored its fields
        if horizon.fitted and horizon.total < total_steps:  # a time budget's horizon: the run keeps it
            summary["planned_steps"], total_steps = total_steps, horizon.total
            summary["total_steps"] = total_steps
        else:  # the length the resumed config asks for (epochs or max_steps may have changed)
            vars(horizon).update(vars(Horizon(total_steps, cfg.warmup_ratio)))
        summary["started_at"] = previous.get("started_at", summary["started_at"])
        if main:
            kept = [m for m in rf.read_metrics(run_dir / "metrics.jsonl") if m["step"] <= state["step"]]
            (run_dir / "metrics.jsonl").write_text("".join(json.dumps(m) + "\n" for m in kept), encoding="utf-8")
    elif main:
        run_dir.mkdir(parents=True, exist_ok=False)
        rf.write_config(run_dir / "config.yaml", resolved)
        rf.write_json(run_dir / "data.json", data_info)
        rf.write_json(run_dir / "versions.json", rf.package_versions())
        (run_dir / "metrics.jsonl").touch()
    if main:
        rf.write_json(run_dir / "run.json", summary)
    accelerator.wait_for_everyone()

    module = accelerator.prepare_model(module)
    module.train()
    metrics_file = run_dir / "metrics.jsonl"

    def log(row: dict) -> None:
        if main:
            with metrics_file.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(row) + "\n")

    budget = TimeBudget(cfg.time_budget_s, val_objective is not None)

    def save_best() -> None:
        t0 = time.perf_counter()
        if main:
            tmp = run_dir / ".adapter-tmp"
            model.save_pretrained(tmp)
            rf.replace_dir(tmp, run_dir / "adapter")
        budget.record_save(time.perf_counter() - t0)

    def checkpoint() -> None:
        t0 = time.perf_counter()
        if main:
            save_checkpoint(run_dir, model, optimizer, scheduler, state)
        accelerator.wait_for_everyone()
        budget.record_save(time.perf_counter() - t0)

    def run_eval(step: int) -> float | None:
        """The val loss at `step`, logged; None without a val split or when a signal cut the pass short."""
        if val_objective is None:
            return None
        t0 = time.perf_counter()
        val = evaluate(module, val_objective, device, autocast, cfg.batch_size, accelerator,
                       stop=lambda: flag.signal is not None)
        if val is None:
            return None
        seconds = time.perf_counter() - t0
        budget.record_eval(seconds)
        state["last_eval_step"] = step
        log({"type": "eval", "step": step, "val_loss": val, "eval_s": round(seconds, 2)})
        return val

    def validate(step: int) -> bool:
        """Evaluate at `step`, keep the best adapter; True when early stopping says stop."""
        val = run_eval(step)
        if val is None:
            return False
        progress.print(f"step {step}: val loss {val:.4f}")
        if state["best_val"] is None or val < state["best_val"]:
            state.update(best_val=val, best_step=step, bad_evals=0)
            save_best()
            return False
        state["bad_evals"] += 1
        return bool(cfg.early_stopping_patience and state["bad_evals"] >= cfg.early_stopping_patience)

    def elapsed() -> float:
        return elapsed0 + time.perf_counter() - started

    # ---- train ---------------------------------------------------------------------------------------------
    flag = StopFlag()
    status = "running"
    started = time.perf_counter()
    elapsed0 = state["elapsed_s"]
    recent: list[float] = []
    if budget.active:
        checkpoint()  # times a save for the budget (and makes step 0 resumable)
    if state["step"] == 0 and val_objective is not None:
        state["initial_val"] = run_eval(0)
    elif budget.active and val_objective is not None:
        t0 = time.perf_counter()
        evaluate(module, val_objective, device, autocast, cfg.batch_size, accelerator)  # times an eval
        budget.record_eval(time.perf_counter() - t0)
    progress = TrainProgress(console, f"{adapter} {stage}", total_steps, enabled=main)
    with catch_signals(flag), progress:
        progress.update(state["step"], None, 0.0)
        step = state["step"]
        if (resume and val_objective is not None and 0 < step < total_steps and step % cfg.eval_every == 0
                and state["last_eval_step"] != step and validate(step)):
            status = "early_stopped"  # early stopping, decided by the validation a signal had cut short last time
        while state["step"] < total_steps and status == "running":
            step = state["step"]
            if budget.active:
                over = [not budget.fits_another_step(elapsed())]
                if world > 1:
                    over = (accelerator.reduce(torch.tensor(over, dtype=torch.int64, device=device), "max") > 0).tolist()
                if over[0]:
                    status = "time_budget"
                    progress.print(f"time budget: stopping before step {step + 1} (about {budget.step_estimate():.1f} s "
                                   f"a step, {budget.finish_estimate(True):.1f} s to evaluate and save, "
                                   f"{cfg.time_budget_s - elapsed():.1f} s left)")
                    break
            t0 = time.perf_counter()
            micro = [objective.collate(items).to(device) for items in
                     micro_batch_items(objective, step, cfg, world, rank, micro_per_epoch)]
            units = sum(objective.units(b) for b in micro)
            step_loss, stats = 0.0, {}
            for i, batch in enumerate(micro):
                sync = nullcontext() if i == len(micro) - 1 or world == 1 else accelerator.no_sync(module)
                with sync:
                    with autocast():
                        loss = objective.loss(module, batch)
                    (loss.total / units).backward()
                step_loss += float(loss.total.detach())
                for k, v in loss.stats.items():
                    stats[k] = stats.get(k, 0.0) + v
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            dt = time.perf_counter() - t0
            budget.record_step(dt)
            n_tokens = sum(b.n_tokens for b in micro) * world
            state["step"] = step = step + 1
            state["tokens_seen"] += n_tokens
            state["trained_tokens"] += sum(b.n_trained for b in micro) * world
            state["train_time_s"] += dt
            state["elapsed_s"] = elapsed()
            mean_loss = step_loss / max(units, 1)
            recent = (recent + [mean_loss])[-10:]
            row = {"type": "train", "step": step, "loss": mean_loss, "lr": scheduler.get_last_lr()[0],
                   "tokens": state["tokens_seen"], "tokens_per_s": n_tokens / dt, "elapsed_s": round(state["elapsed_s"], 2)}
            row.update({k: v / max(units, 1) for k, v in stats.items()})
            log(row)
            progress.update(step, mean_loss, n_tokens / dt)
            if budget.active and not state.get("horizon_fitted") and len(budget.step_s) >= BUDGET_FIT_AFTER:
                state["horizon_fitted"] = True
                fitted = budget.steps_that_fit(elapsed(), step, cfg.eval_every, cfg.save_every)
                if world > 1:  # every rank takes the same horizon: the smallest
                    fitted = -int(accelerator.reduce(torch.tensor(-fitted, dtype=torch.int64, device=device), "max"))
                if fitted < total_steps:
                    horizon = scheduler.lr_lambdas[0]
                    horizon.shorten(fitted, step)
                    progress.print(f"time budget: about {fitted} of {total_steps} steps fit; the learning rate now "
                                   f"decays to zero by step {horizon.total}")
                    notes.append(f"time budget {cfg.time_budget_s:g} s: the schedule was fitted to {horizon.total} "
                                 f"of {total_steps} steps")
                    total_steps = horizon.total
                    summary["planned_steps"] = summary["total_steps"]
                    summary["total_steps"] = total_steps
                    progress.set_total(total_steps)

            if val_objective is not None and (step % cfg.eval_every == 0 or step == total_steps) and validate(step):
                status = "early_stopped"
            stop = [flag.signal is not None]
            if world > 1:
                stop = (accelerator.reduce(torch.tensor(stop, dtype=torch.int64, device=device), "max") > 0).tolist()
            if step % cfg.save_every == 0 or stop[0] or status != "running":
                checkpoint()
            if stop[0]:
                status = "interrupted"
                progress.print(f"[yellow]{flag.signal or 'signal'}[/]: checkpoint saved at step {step}; "
                               f"continue with `domainlm train --adapter {adapter} --stage {stage} --resume`")
                break
            if status != "running":
                break

    # ---- finish ------------------------------------------------------------------------------------------
    if status == "running":  # a run the budget shortened ended at its fitted horizon: still the budget's stop
        status = "time_budget" if scheduler.lr_lambdas[0].fitted else "finished"
    step = state["step"]
    if status != "interrupted" and val_objective is not None and state["last_eval_step"] != step:
        val = run_eval(step)
        if val is not None and (state["best_val"] is None or val < state["best_val"]):
            state.update(best_val=val, best_step=step)
            save_best()
    if status != "interrupted" and (state["best_step"] is None):
        save_best()
    state["elapsed_s"] = elapsed()
    checkpoint()
    state["elapsed_s"] = elapsed()
    if not main:
        return summary
    metrics = rf.read_metrics(metrics_file)
    train_rows = [m["loss"] for m in metrics if m.get("type") == "train"][-10:]
    eval_rows = [m for m in metrics if m.get("type") == "eval"]
    summary.update(
        status=status, finished_at=rf.now_iso(), steps=step, wall_time_s=round(state["elapsed_s"], 1),
        train_time_s=round(state["train_time_s"], 1), tokens_seen=state["tokens_seen"],
        trained_tokens=state["trained_tokens"], tokens_per_s=state["tokens_seen"] / max(state["train_time_s"], 1e-9),
        final_train_loss=sum(train_rows) / len(train_rows) if train_rows else None,
        last_train_loss=train_rows[-1] if train_rows else None,
        initial_val_loss=state["initial_val"], final_val_loss=eval_rows[-1]["val_loss"] if eval_rows else None,
        best_val_loss=state["best_val"], best_step=state["best_step"],
        adapter_dir=str(run_dir / "adapter"), cost=round(cfg.cost_per_hour * state["elapsed_s"] / 3600, 4),
    )
    rf.write_json(run_dir / "run.json", summary)
    rf.plot_loss(metrics, run_dir / "loss.png", f"{run_id} ({adapter}, {stage})")
    (run_dir / "run_card.md").write_text(rf.run_card(summary, data_info, resolved), encoding="utf-8")
    console.print(summary_table(summary))
    return summary


def train_all(project: ProjectConfig, stage: str = "sft", console=None) -> list[dict]:
    """Train every configured adapter, each from its own data, one after another."""
    return [train(project, name, stage=stage, console=console) for name in project.adapters]
