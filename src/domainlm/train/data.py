"""Training data: read chat JSONL, turn each conversation into token ids with an assistant-only loss mask,
and pack samples into fixed-length rows whose attention never crosses sample boundaries.

A packed row is a list of samples laid end to end; its `position_ids` restart at 0 for every sample, which is
what transformers reads to build a block-diagonal causal mask (and what flash-attention varlen kernels read).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from domainlm.prompt import chat_text, end_of_turn_token
from domainlm.train.errors import DatasetError

IGNORE = -100
ROLES = ("system", "user", "assistant")


@dataclass
class Record:
    """One line of a dataset file, with where it came from (for error messages and the run card)."""

    data: dict
    file: Path
    line: int

    @property
    def meta(self) -> dict:
        return self.data.get("meta") or {}


def read_jsonl(path: Path) -> list[Record]:
    """Every non-empty line of a JSONL file as a Record; a bad line raises DatasetError naming file:line."""
    records = []
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(data, dict):
                raise DatasetError(f"{path}:{number}: each line must be a JSON object, got {type(data).__name__}")
            records.append(Record(data, path, number))
    return records


def _check_messages(messages, where: str, field_name: str = "messages") -> list[dict]:
    if not isinstance(messages, list) or not messages:
        raise DatasetError(f"{where}: `{field_name}` must be a non-empty list of {{role, content}} objects")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            raise DatasetError(f"{where}: {field_name}[{i}] needs a string `content`")
        if message.get("role") not in ROLES:
            raise DatasetError(f"{where}: {field_name}[{i}] has role {message.get('role')!r}; accepted: {', '.join(ROLES)}")
    return messages


def chat_messages(record: Record) -> list[dict]:
    """The `messages` of an SFT record, validated; at least one assistant turn."""
    where = f"{record.file}:{record.line}"
    messages = _check_messages(record.data.get("messages"), where)
    if not any(m["role"] == "assistant" for m in messages):
        raise DatasetError(f"{where}: the conversation has no assistant turn to train on")
    return messages


def for_adapter(records: Iterable[Record], adapter: str | None) -> list[Record]:
    """Records meant for `adapter`: its own plus those whose meta names no adapter (shared by all)."""
    if adapter is None:
        return list(records)
    return [r for r in records if r.meta.get("adapter") in (None, adapter)]


def mix_of(records: Sequence[Record]) -> dict:
    """Counts by meta.kind and meta.source, for the run card and the registry."""
    return {
        "kinds": dict(Counter(str(r.meta.get("kind", "unknown")) for r in records).most_common()),
        "sources": dict(Counter(str(r.meta.get("source", "unknown")) for r in records).most_common()),
    }


@dataclass
class Encoded:
    """One conversation as token ids and labels (IGNORE where no loss is taken)."""

    input_ids: list[int]
    labels: list[int]

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def n_trained(self) -> int:
        return sum(1 for t in self.labels if t != IGNORE)


class ChatEncoder:
    """Token ids for a conversation in the tokenizer's own chat template, with loss on assistant turns only.

    Each assistant turn's content and its end-of-turn token (e.g. `<|im_end|>`) are trained; the template's
    role headers, the system prompt, retrieved context and user turns are IGNORE. Spans are found by rendering
    the template up to each turn and mapping characters to tokens through the tokenizer's offsets, so any
    template works without knowing its syntax (masking by pad id would be wrong: SmolLM2's pad is its eos).
    """

    def __init__(self, tokenizer):
        if not getattr(tokenizer, "is_fast", False):
            raise DatasetError("training needs a fast tokenizer (character offsets); this one is a slow tokenizer")
        self.tokenizer = tokenizer
        self.eot = end_of_turn_token(tokenizer)

    def encode(self, messages: Sequence[dict], train_last_only: bool = False) -> Encoded:
        text = chat_text(self.tokenizer, messages)
        spans = []
        assistant_at = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
        if train_last_only:
            assistant_at = assistant_at[-1:]
        for i in assistant_at:
            head = chat_text(self.tokenizer, messages[:i], add_generation_prompt=True)
            if not text.startswith(head):
                raise DatasetError("the chat template renders a prefix of the conversation differently from the whole")
            end = text.find(self.eot, len(head) + len(messages[i]["content"]))
            if end < 0:
                raise DatasetError(f"the chat template wrote no {self.eot!r} after an assistant turn")
            spans.append((len(head), end + len(self.eot)))
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        labels = [IGNORE] * len(enc["input_ids"])
        for k, (token, (start, _)) in enumerate(zip(enc["input_ids"], enc["offset_mapping"])):
            if any(a <= start < b for a, b in spans):
                labels[k] = token
        return Encoded(list(enc["input_ids"]), labels)


@dataclass
class Prepared:
    """Encoded samples ready for packing, with what was dropped and why."""

    samples: list[Encoded]
    dropped_too_long: int = 0
    dropped_no_target: int = 0
    records: list[Record] = field(default_factory=list)


def encode_records(records: Sequence[Record], encoder: ChatEncoder, max_seq_len: int) -> Prepared:
    """Encode SFT records; samples longer than max_seq_len or with no trained token are dropped and counted."""
    out = Prepared([], records=list(records))
    for record in records:
        encoded = encoder.encode(chat_messages(record))
        if len(encoded) > max_seq_len:
            out.dropped_too_long += 1
        elif encoded.n_trained == 0:
            out.dropped_no_target += 1
        else:
            out.samples.append(encoded)
    return out


def pack(lengths: Sequence[int], max_len: int, packing: bool = True) -> list[list[int]]:
    """Group sample indices into rows of at most max_len tokens (first-fit decreasing; deterministic).

    >>> pack([5, 3, 4, 2], 8)
    [[0, 1], [2, 3]]
    >>> pack([5, 3], 8, packing=False)
    [[0], [1]]
    """
    if not packing:
        return [[i] for i in range(len(lengths))]
    rows: list[list[int]] = []
    free: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda k: (-lengths[k], k)):
        for r, room in enumerate(free):
            if lengths[i] <= room:
                rows[r].append(i)
                free[r] -= lengths[i]
                break
        else:
            rows.append([i])
            free.append(max_len - lengths[i])
    return rows


@dataclass
class Batch:
    """A micro-batch: (B, L) tensors; `segment_ids` numbers the samples in the batch (-1 on padding)."""

    input_ids: "torch.Tensor"
    position_ids: "torch.Tensor"
    labels: "torch.Tensor"
    segment_ids: "torch.Tensor"
    n_tokens: int  # non-padding tokens
    n_trained: int  # tokens with a loss
    n_segments: int
    pairs: list | None = None  # DPO: the preference pairs behind rows 2k (chosen) and 2k+1 (rejected)

    def to(self, device) -> "Batch":
        return Batch(self.input_ids.to(device), self.position_ids.to(device), self.labels.to(device),
                     self.segment_ids.to(device), self.n_tokens, self.n_trained, self.n_segments, self.pairs)


def collate(rows: Sequence[Sequence[Encoded]], pad_id: int, multiple_of: int = 8) -> Batch:
    """Lay each row's samples end to end, restart positions per sample, and right-pad to the longest row.

    Padding continues the positions of the row's last sample: it comes after every real token, so causal
    attention already keeps it out of what they see, and it has no labels. A batch whose rows each hold one
    sample then has no position restart, and transformers runs plain causal SDPA with no [b, 1, s, s] mask.
    The first token of every sample is never a target, so no sample is trained to predict the next.
    """
    import torch

    width = max(sum(len(s) for s in row) for row in rows)
    width = -(-width // multiple_of) * multiple_of
    ids, pos, lab, seg = [], [], [], []
    segment = 0
    n_tokens = n_trained = 0
    for row in rows:
        r_ids, r_pos, r_lab, r_seg = [], [], [], []
        for sample in row:
            r_ids += sample.input_ids
            r_pos += range(len(sample))
            r_lab += [IGNORE] + sample.labels[1:]
            r_seg += [segment] * len(sample)
            segment += 1
            n_tokens += len(sample)
        pad = width - len(r_ids)
        r_ids += [pad_id] * pad
        r_pos += range(len(row[-1]), len(row[-1]) + pad)
        r_lab += [IGNORE] * pad
        r_seg += [-1] * pad
        ids.append(r_ids), pos.append(r_pos), lab.append(r_lab), seg.append(r_seg)
    labels = torch.tensor(lab)
    n_trained = int((labels[:, 1:] != IGNORE).sum())
    return Batch(torch.tensor(ids), torch.tensor(pos), labels, torch.tensor(seg), n_tokens, n_trained, segment)
