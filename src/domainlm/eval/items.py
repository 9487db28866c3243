"""Evaluation items: one question (with its conversation so far) and what a good answer needs.

Items come from the built splits (`data/test.jsonl`, `data/golden.jsonl`) and from the attack sets that
ship with domainlm (`eval/sets/`), which are kept apart from every training bank and built dataset.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from domainlm.errors import DomainlmError
from domainlm.prompt import Message

LEGIT_KINDS = ("product_qa", "recommendation", "multi_turn", "knowledge")


class EvalError(DomainlmError):
    """Evaluation cannot run: a missing split or adapter, a run that is not there, an unreachable judge."""


@dataclass
class EvalItem:
    id: str  # stable across reruns: split, position and a hash of the conversation
    split: str  # test | golden | attack
    kind: str  # meta.kind: product_qa ... safety/injection
    user: str  # the final user turn
    history: list[Message] = field(default_factory=list)  # earlier user/assistant turns
    reference: str | None = None  # the dataset's answer for the final turn
    skus: list[str] = field(default_factory=list)  # products the question is about
    meta: dict = field(default_factory=dict)

    @property
    def is_safety(self) -> bool:
        return self.kind.startswith("safety/")

    @property
    def short_kind(self) -> str:
        return self.kind.split("/", 1)[-1]

    def as_dict(self) -> dict:
        return asdict(self)


def item_id(split: str, index: int, user: str, history: list[Message]) -> str:
    blob = json.dumps([user, history], ensure_ascii=False)
    return f"{split}-{index:04d}-{hashlib.sha1(blob.encode()).hexdigest()[:8]}"


def item_from_record(record: dict, split: str, index: int) -> EvalItem:
    """`{"messages": [system, user, assistant, ...], "meta": {...}}` -> the item for its last user turn."""
    messages = [m for m in record.get("messages", []) if m.get("role") != "system"]
    last_user = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=None)
    if last_user is None:
        raise EvalError(f"{split}.jsonl line {index + 1}: no user turn")
    history = [{"role": m["role"], "content": m["content"]} for m in messages[:last_user]]
    reference = next((m["content"] for m in messages[last_user + 1:] if m["role"] == "assistant"), None)
    meta = dict(record.get("meta") or {})
    user = messages[last_user]["content"]
    return EvalItem(item_id(split, index, user, history), split, meta.get("kind", "product_qa"), user, history,
                    reference, list(meta.get("skus") or []), meta)


def load_split(data_dir: Path, split: str, limit: int | None = None) -> list[EvalItem]:
    path = data_dir / f"{split}.jsonl"
    if not path.exists():
        raise EvalError(f"{path}: the {split} split is missing; build it with `domainlm data build` "
                        f"(or leave it out with --split).")
    items = []
    with path.open(encoding="utf-8") as handle:
        for index, line in enumerate(handle):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvalError(f"{path}:{index + 1}: not JSON ({exc.msg})") from None
            items.append(item_from_record(record, split, index))
    return _spread(items, limit)


def _spread(items: list[EvalItem], limit: int | None) -> list[EvalItem]:
    """At most `limit` items, taken round-robin over kinds so every kind keeps some."""
    if limit is None or len(items) <= limit:
        return items
    by_kind: dict[str, list[EvalItem]] = {}
    for item in items:
        by_kind.setdefault(item.kind, []).append(item)
    out: list[EvalItem] = []
    while len(out) < limit:
        for group in by_kind.values():
            if group and len(out) < limit:
                out.append(group.pop(0))
    return out
