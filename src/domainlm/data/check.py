"""`domainlm data check`: validate a dataset a user brings and convert it to the messages shape.

Accepted shapes, one conversation per line:
- messages: {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}]}
- sharegpt: {"conversations": [{"from": "human"|"gpt"|"system", "value": "..."}]}
- alpaca:   {"instruction": "...", "input": "...", "output": "..."}
A file that mixes shapes is reported: trainers read the first shape they see and silently mangle the rest.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from domainlm.data.phrasing import normalise
from domainlm.data.records import write_jsonl
from domainlm.prompt import chat_text, end_of_turn_token

SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "model": "assistant",
                  "bot": "assistant", "system": "system"}


@dataclass
class CheckResult:
    path: Path
    lines: int = 0
    shapes: Counter = field(default_factory=Counter)
    first_line: dict[str, int] = field(default_factory=dict)  # shape -> first line with it
    problems: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))  # problem -> line numbers
    duplicates: list[tuple[int, int]] = field(default_factory=list)  # (line, first line with the same text)
    converted: list[dict] = field(default_factory=list)
    token_lengths: list[int] = field(default_factory=list)

    @property
    def mixed(self) -> bool:
        return len(self.shapes) > 1

    @property
    def ok(self) -> bool:
        return not self.mixed and not self.problems and not self.duplicates


def detect_shape(record) -> str:
    if not isinstance(record, dict):
        return "unknown"
    if isinstance(record.get("messages"), list):
        return "messages"
    if isinstance(record.get("conversations"), list):
        return "sharegpt"
    if "instruction" in record and "output" in record:
        return "alpaca"
    if {"prompt", "chosen", "rejected"} <= set(record):
        return "preference"
    return "unknown"


def to_messages(record: dict, shape: str) -> list[dict]:
    """The record as chat messages; raises ValueError with the reason when it cannot be converted."""
    if shape == "messages":
        messages = [{"role": m.get("role"), "content": m.get("content")} for m in record["messages"]
                    if isinstance(m, dict)]
        if len(messages) != len(record["messages"]):
            raise ValueError("a message is not an object")
        return messages
    if shape == "sharegpt":
        out = []
        for turn in record["conversations"]:
            role = SHAREGPT_ROLES.get(str(turn.get("from", "")).lower()) if isinstance(turn, dict) else None
            if role is None:
                raise ValueError(f"unknown sharegpt speaker {turn.get('from') if isinstance(turn, dict) else turn!r}")
            out.append({"role": role, "content": turn.get("value")})
        return out
    if shape == "alpaca":
        prompt = str(record.get("instruction") or "")
        if record.get("input"):
            prompt += "\n\n" + str(record["input"])
        out = [{"role": "system", "content": str(record["system"])}] if record.get("system") else []
        return out + [{"role": "user", "content": prompt}, {"role": "assistant", "content": record.get("output")}]
    raise ValueError(f"shape {shape!r} is not a conversation (accepted: messages, sharegpt, alpaca)")


def _structure_problem(messages: list[dict]) -> str | None:
    if not messages:
        return "empty sample"
    for m in messages:
        if m["role"] not in ("system", "user", "assistant"):
            return f"unknown role {m['role']!r}"
        if not isinstance(m["content"], str) or not m["content"].strip():
            return "empty turn"
    if not any(m["role"] == "assistant" for m in messages):
        return "no assistant turn"
    if messages[-1]["role"] != "assistant":
        return "does not end with an assistant turn (no end-of-turn to learn)"
    roles = [m["role"] for m in messages if m["role"] != "system"]
    if any(a == b for a, b in zip(roles, roles[1:])):
        return "two turns in a row from the same role"
    return None


def check_file(path: Path, tokenizer=None, max_seq_len: int = 512) -> CheckResult:
    """Read and check every line; converted messages go to `result.converted` (valid samples only)."""
    result = CheckResult(path=path)
    seen: dict[str, int] = {}
    special = [t for t in (tokenizer.all_special_tokens if tokenizer is not None else []) if t]
    eot = end_of_turn_token(tokenizer) if tokenizer is not None else None
    pending: list[tuple[int, list[dict]]] = []
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            result.lines += 1
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                result.problems[f"not valid JSON ({exc.msg})"].append(line_no)
                continue
            shape = detect_shape(record)
            result.shapes[shape] += 1
            result.first_line.setdefault(shape, line_no)
            try:
                messages = to_messages(record, shape)
            except (ValueError, AttributeError, TypeError) as exc:
                result.problems[str(exc)].append(line_no)
                continue
            problem = _structure_problem(messages)
            if problem:
                result.problems[problem].append(line_no)
                continue
            if any(tok in m["content"] for m in messages for tok in special):
                result.problems["contains the tokenizer's special tokens as text"].append(line_no)
                continue
            key = normalise("\n".join(f"{m['role']}:{m['content']}" for m in messages))
            if key in seen:
                result.duplicates.append((line_no, seen[key]))
                continue
            seen[key] = line_no
            pending.append((line_no, messages))
    if tokenizer is not None and pending:
        texts = [chat_text(tokenizer, messages) for _, messages in pending]
        lengths = [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
        kept = []
        for (line_no, messages), text, n in zip(pending, texts, lengths):
            last = messages[-1]["content"]
            if eot not in text[text.rfind(last) + len(last):]:
                result.problems["missing end-of-turn token after the last answer"].append(line_no)
                continue
            if n > max_seq_len:
                result.problems[f"longer than {max_seq_len} tokens"].append(line_no)
                continue
            result.token_lengths.append(n)
            kept.append((line_no, messages))
        pending = kept
    result.converted = [{"messages": messages} for _, messages in pending]
    return result


def write_converted(result: CheckResult, out: Path) -> int:
    return write_jsonl(out, result.converted)
