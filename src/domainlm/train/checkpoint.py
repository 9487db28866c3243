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
