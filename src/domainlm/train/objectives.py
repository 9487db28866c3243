"""What a stage optimises, behind one small interface the loop calls: SFT (next-token loss on assistant
tokens of packed rows) and DPO (preference loss on chosen/rejected pairs against a frozen reference)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F

from domainlm.registry import Registry
from domainlm.train.data import Batch, ChatEncoder, Encoded, Record, _check_messages, collate, pack
from domainlm.train.errors import DatasetError
from domainlm.train.model import run_logps

OBJECTIVES: Registry[type] = Registry("training stage")


@dataclass
class Loss:
    """Sum of per-unit losses in a micro-batch (divided by the step's unit count by the loop) and stats."""

    total: torch.Tensor
    units: int
    stats: dict


@OBJECTIVES.register("sft")
class SftObjective:
    """Items are packed rows of samples; units are trained tokens."""

    def __init__(self, samples: Sequence[Encoded], max_len: int, packing: bool, pad_id: int):
        self.samples = list(samples)
        self.items = [[self.samples[i] for i in row] for row in pack([len(s) for s in samples], max_len, packing)]
        self.pad_id = pad_id

    def collate(self, items) -> Batch:
        return collate(items, self.pad_id)

    def units(self, batch: Batch) -> int:
        return batch.n_trained

    def loss(self, module, batch: Batch) -> Loss:
        logp, _ = run_logps(module, batch)
        return Loss(-logp.sum(), batch.n_trained, {})


@dataclass
class Pair:
    chosen: Encoded
    rejected: Encoded
    ref_chosen: float = 0.0
    ref_rejected: float = 0.0


def encode_pairs(records: Sequence[Record], encoder: ChatEncoder, max_seq_len: int) -> tuple[list[Pair], int]:
    """TRL-shaped preference records -> pairs; pairs where either side exceeds max_seq_len are dropped."""
    pairs, dropped = [], 0
    for r in records:
        where = f"{r.file}:{r.line}"
        prompt = _check_messages(r.data.get("prompt"), where, "prompt")
        chosen = _check_messages(r.data.get("chosen"), where, "chosen")
        rejected = _check_messages(r.data.get("rejected"), where, "rejected")
        if prompt[-1]["role"] != "user" or chosen[-1]["role"] != "assistant" or rejected[-1]["role"] != "assistant":
            raise DatasetError(f"{where}: `prompt` must end with a user turn, `chosen`/`rejected` with an assistant turn")
        c = encoder.encode(prompt + chosen, train_last_only=True)
        j = encoder.encode(prompt + rejected, train_last_only=True)
        if max(len(c), len(j)) > max_seq_len:
            dropped += 1
            continue
        pairs.append(Pair(c, j))
    return pairs, dropped


def pair_batch(pairs: Sequence[Pair], pad_id: int) -> Batch:
    """Chosen and rejected as separate rows: segment 2k is pair k's chosen, 2k+1 its rejected."""
    rows = []
    for p in pairs:
        rows += [[p.chosen], [p.rejected]]
    return collate(rows, pad_id)


def segment_sums(logp: torch.Tensor, segments: torch.Tensor, n: int) -> torch.Tensor:
    return torch.zeros(n, dtype=logp.dtype, device=logp.device).index_add_(0, segments, logp)


@OBJECTIVES.register("dpo")
class DpoObjective:
    """Items are pairs; units are pairs. The reference is the starting adapter, whose log-probs are computed
    once before training (it is frozen, so this is exact and saves a forward pass per step)."""

    def __init__(self, pairs: Sequence[Pair], beta: float, pad_id: int):
        self.items = list(pairs)
        self.beta = beta
        self.pad_id = pad_id

    def collate(self, items):
        batch = pair_batch(items, self.pad_id)
        batch.pairs = list(items)
        return batch

    def units(self, batch) -> int:
        return len(batch.pairs)

    @torch.no_grad()
    def fill_reference(self, module, device, autocast, batch_size: int) -> None:
        for start in range(0, len(self.items), batch_size):
            chunk = self.items[start:start + batch_size]
            batch = pair_batch(chunk, self.pad_id).to(device)
            with autocast():
                logp, seg = run_logps(module, batch)
            sums = segment_sums(logp.float(), seg, batch.n_segments).tolist()
            for k, p in enumerate(chunk):
                p.ref_chosen, p.ref_rejected = sums[2 * k], sums[2 * k + 1]

    def loss(self, module, batch) -> Loss:
        logp, seg = run_logps(module, batch)
        sums = segment_sums(logp.float(), seg, batch.n_segments)
        ref = torch.tensor([[p.ref_chosen, p.ref_rejected] for p in batch.pairs], device=sums.device)
        policy = sums.view(-1, 2)
        chosen_reward = self.beta * (policy[:, 0] - ref[:, 0])
        rejected_reward = self.beta * (policy[:, 1] - ref[:, 1])
        losses = -F.logsigmoid(chosen_reward - rejected_reward)
        stats = {
            "reward_acc": float((chosen_reward > rejected_reward).float().sum().detach()),
            "margin": float((chosen_reward - rejected_reward).detach().sum()),
        }
        return Loss(losses.sum(), len(batch.pairs), stats)
