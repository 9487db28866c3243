"""Forgetting: a small general-knowledge and instruction-following set, answered before and after the adapter.

The set (`eval/sets/forgetting.jsonl`, 120 items) is asked with no system prompt and no retrieval, so it
measures what the base model could do on its own and whether fine-tuning took it away.
"""

from __future__ import annotations

import json
import re

from domainlm.eval.attacks import read_set


def forgetting_items() -> list[dict]:
    return list(read_set("forgetting.jsonl"))


def _has_word(text: str, word: str, case: bool = False) -> bool:
    flags = 0 if case else re.IGNORECASE
    return re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text, flags) is not None


def check(answer: str, spec: dict) -> bool:
    """Does `answer` meet the item's check? `check("Paris.", {"type": "contains_any", "words": ["Paris"]}) -> True`."""
    text = answer.strip()
    kind = spec["type"]
    if kind == "contains_any":
        return any(_has_word(text, w, spec.get("case", False)) for w in spec["words"])
    if kind == "contains_all":
        return all(_has_word(text, w, spec.get("case", False)) for w in spec["words"])
    if kind == "regex":
        return re.search(spec["pattern"], text) is not None
    if kind == "max_words":
        words = text.split()
        ok = 0 < len(words) <= spec["n"]
        return ok and (not spec.get("contains") or any(_has_word(text, w) for w in spec["contains"]))
    if kind == "min_lines":
        return len([line for line in text.splitlines() if line.strip()]) >= spec["n"]
    if kind == "min_bullets":
        return len([line for line in text.splitlines() if re.match(r"\s*[-*•]\s+\S", line)]) >= spec["n"]
    if kind == "sentences":
        return len([s for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]) == spec["n"]
    if kind in ("json_key", "json_equals"):
        match = re.search(r"[\[{].*[\]}]", text, re.DOTALL)
        try:
            value = json.loads(match.group(0)) if match else None
        except json.JSONDecodeError:
            return False
        if kind == "json_equals":
            return value == spec["value"]
        return isinstance(value, dict) and value.get(spec["key"]) == spec["value"]
    raise ValueError(f"unknown forgetting check type {kind!r}")
