"""Checkpoints for `--resume`: trainable weights, optimiser, scheduler, RNG states and the data cursor.

The data order is a function of (seed, epoch), so the optimiser step count is the whole cursor: a resumed
run replays exactly the micro-batches an uninterrupted run would have seen next.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

import torch

from domainlm.train.run_folder import replace_dir


def save_checkpoint(run_dir: Path, model, optimizer, scheduler, state: dict) -> Path:
    """Write `run_dir/checkpoint/` aside and swap it in, so a kill mid-save keeps the previous one."""
    tmp = Path(tempfile.mkdtemp(prefix=".checkpoint-", dir=run_dir))
    model.save_pretrained(tmp / "adapter")
    torch.save(
        {
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            "python_rng": random.getstate(),
        },
        tmp / "state.pt",
    )
    (tmp / "state.json").write_text(json.dumps(state, indent=2), encoding="utf-8")
    target = run_dir / "checkpoint"
    replace_dir(tmp, target)
    return target


def load_checkpoint(run_dir: Path, model, optimizer, scheduler) -> dict:
    """Restore weights, optimiser, scheduler and RNG from `run_dir/checkpoint/`; returns the loop state."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    folder = run_dir / "checkpoint"
    weights = load_file(folder / "adapter" / "adapter_model.safetensors")
    set_peft_model_state_dict(model, weights)
    blob = torch.load(folder / "state.pt", weights_only=False)
    optimizer.load_state_dict(blob["optimizer"])
    scheduler.load_state_dict(blob["scheduler"])
    torch.set_rng_state(blob["torch_rng"])
    if blob.get("cuda_rng") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(blob["cuda_rng"])
    random.setstate(blob["python_rng"])
    return json.loads((folder / "state.json").read_text(encoding="utf-8"))


# Settings the data order is a function of (see recipe.micro_batch_items and data.pack): changing one on
# --resume means the remaining steps would not see what an uninterrupted run would have.
ORDER_FIELDS = ("seed", "batch_size", "grad_accum", "max_seq_len", "packing")
# Settings that change nothing the run computes.
IGNORED_FIELDS = ("time_budget_s", "cpu_threads", "save_every", "cost_per_hour")


def resume_changes(run_dir: Path, train_cfg: dict, data_info: dict, world_size: int, order_file: str) -> tuple[list[str], list[str]]:
    """What changed since `run_dir` started: (refusals, warnings), each a sentence naming old and new values.

    Refusals are changes the data order depends on (ORDER_FIELDS, the world size, the contents of the file
    the order is drawn from, `order_file`: "train" or "dpo"); warnings are every other train setting or file.
    """
    import yaml

    old_cfg = (yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8")) or {}).get("train", {})
    old_data = json.loads((run_dir / "data.json").read_text(encoding="utf-8"))
    old_world = json.loads((run_dir / "run.json").read_text(encoding="utf-8")).get("world_size", 1)
    refuse, warn = [], []
    for key in sorted(set(old_cfg) | set(train_cfg)):
        old, new = old_cfg.get(key), train_cfg.get(key)
        if old == new or key in IGNORED_FIELDS:
            continue
        line = f"train.{key} was {old!r} when the run started and is {new!r} now"
        (refuse if key in ORDER_FIELDS else warn).append(line)
    if old_world != world_size:
        refuse.append(f"the run started on {old_world} process(es) and is resuming on {world_size}")
    old_files, new_files = old_data.get("files", {}), data_info.get("files", {})
    for split in sorted(set(old_files) | set(new_files)):
        old, new = old_files.get(split, {}), new_files.get(split, {})
        if old.get("sha256") == new.get("sha256"):
            continue
        path = new.get("path") or old.get("path")
        line = (f"{path} changed since the run started (sha256 {str(old.get('sha256'))[:12]} -> "
                f"{str(new.get('sha256'))[:12]}, {old.get('used')} -> {new.get('used')} samples used)")
        (refuse if split == order_file else warn).append(line)
    return refuse, warn
