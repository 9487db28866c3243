"""Dataset records: drafts (planned questions), samples (finished conversations) and JSONL files.

A generator first plans a `Draft` (the user turns and the retrieval query), then, once retrieval has
returned the context for that query, turns it into a `Sample` whose messages come from the prompt
contract. Files are written to a temporary name and renamed, so a crash never leaves half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from domainlm.prompt import Context, Message

SPLITS = ("train", "val", "test")


@dataclass
class Draft:
    """A planned sample: user turns fixed, answers still to be written from the retrieved context."""

    kind: str
    adapter: str
    split: str
    users: list[str]  # the user turns, in order
    query: str  # what retrieval is asked (the user turns joined for multi-turn samples)
    focus: list[str] = field(default_factory=list)  # product ids the sample is about (planned)
    plan: dict[str, Any] = field(default_factory=dict)  # generator-private details
    difficulty: float = 0.0  # higher = harder (typos, ids, several turns, attacks); used for golden.jsonl


@dataclass
class Sample:
    """A finished conversation: the messages serving would see plus the assistant's answers."""

    messages: list[Message]
    meta: dict[str, Any]
    context: Context
    rejected: str | None = None  # a realistic failure for the final assistant turn (DPO)
    difficulty: float = 0.0
    split: str = "train"
    tokens: int = 0  # length with the model's chat template, set by the token check

    def record(self) -> dict[str, Any]:
        return {"messages": self.messages, "meta": self.meta}

    def dpo_record(self) -> dict[str, Any] | None:
        """TRL's conversational preference shape: prompt messages, chosen and rejected final turns."""
        if self.rejected is None:
            return None
        return {
            "prompt": self.messages[:-1],
            "chosen": [self.messages[-1]],
            "rejected": [{"role": "assistant", "content": self.rejected}],
            "meta": self.meta,
        }

    @property
    def user_text(self) -> str:
        return "\n".join(m["content"] for m in self.messages if m["role"] == "user")

    @property
    def assistant_text(self) -> str:
        return "\n".join(m["content"] for m in self.messages if m["role"] == "assistant")


def stable_seed(*parts: Any) -> int:
    """A seed derived from the parts with SHA-256 (Python's hash() changes between processes)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def dumps(record: dict[str, Any]) -> str:
    """One JSONL line; keys in insertion order, Unicode kept, no spaces that vary."""
    return json.dumps(record, ensure_ascii=False, separators=(", ", ": "))


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a temporary file next to `path`, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> int:
    lines = [dumps(r) for r in records]
    write_text_atomic(path, "".join(line + "\n" for line in lines))
    return len(lines)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
