"""Cleaning: format and voice checks, grounding, exact and near-duplicate removal, and a chat-template
round trip with the real tokenizer. Every dropped sample is counted by reason for the report."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from datasketch import MinHash, MinHashLSH

from domainlm.config import BrandConfig
from domainlm.data.grounding import GroundingCheck
from domainlm.data.phrasing import normalise
from domainlm.data.records import Sample
from domainlm.prompt import chat_text, end_of_turn_token

MAX_USER_CHARS = 2000
MAX_ASSISTANT_CHARS = 2000
NEAR_DUP_THRESHOLD = 0.9
NEAR_DUP_PERMUTATIONS = 64
BANNED_PHRASES = (
    "as an ai language model", "as an ai model", "i am an ai", "i'm an ai", "as a large language model",
    "i am chatgpt", "i'm chatgpt", "openai", "i cannot browse", "my training data", "knowledge cutoff",
)
_SELF_NAME = re.compile(r"\b(?:i am|i'm|my name is)\s+([A-Z][\w-]+)")


@dataclass
class CleanReport:
    """How many samples each check dropped, by reason."""

    dropped: Counter = field(default_factory=Counter)  # reason -> samples
    by_kind: Counter = field(default_factory=Counter)  # (reason, kind) -> samples

    def drop(self, reason: str, sample: Sample) -> None:
        self.dropped[reason] += 1
        self.by_kind[(reason, sample.meta["kind"])] += 1


def format_problem(messages: list[dict]) -> str | None:
    """Why the messages are not system, then alternating user/assistant turns ending with the assistant."""
    if not messages or messages[0].get("role") != "system":
        return "first message is not the system prompt"
    expected = "user"
    for message in messages[1:]:
        if set(message) != {"role", "content"} or not isinstance(message["content"], str):
            return "a message is not {role, content} text"
        if message["role"] != expected:
            return f"expected a {expected} turn, got {message['role']}"
        if not message["content"].strip():
            return f"empty {message['role']} turn"
        limit = MAX_USER_CHARS if expected == "user" else MAX_ASSISTANT_CHARS
        if len(message["content"]) > limit:
            return f"{expected} turn longer than {limit} characters"
        expected = "assistant" if expected == "user" else "user"
    if messages[-1]["role"] != "assistant":
        return "the conversation does not end with an assistant turn"
    return None


def voice_problem(text: str, brand: BrandConfig) -> str | None:
    """Generic-assistant phrases, or the assistant calling itself by another name."""
    lowered = text.lower()
    for phrase in BANNED_PHRASES:
        if phrase in lowered:
            return f"off-voice phrase {phrase!r}"
    for match in _SELF_NAME.finditer(text):
        name = match.group(1)
        if name.lower() not in (brand.assistant_name.lower(), "sorry", "afraid", "happy", "not", "here", "glad"):
            return f"calls itself {name!r} instead of {brand.assistant_name!r}"
    return None


def grounding_problem(sample: Sample, grounding: GroundingCheck) -> str | None:
    extra = str(sample.meta.get("fake_name", ""))
    for message in sample.messages:
        if message["role"] == "assistant":
            found = grounding.problems(message["content"], sample.context, allowed_extra=extra)
            if found:
                return found[0]
    return None


def dedup_key(sample: Sample) -> str:
    turns = [m["content"] for m in sample.messages if m["role"] != "system"]
    return sample.meta["adapter"] + "\x1f" + normalise("\n".join(turns))


def _minhash(text: str) -> MinHash:
    shingles = {text[i: i + 5] for i in range(max(len(text) - 4, 1))}
    mh = MinHash(num_perm=NEAR_DUP_PERMUTATIONS, seed=1)
    mh.update_batch([s.encode("utf-8") for s in sorted(shingles)])
    return mh


def remove_duplicates(samples: list[Sample], report: CleanReport) -> list[Sample]:
    """Exact duplicates on normalised text, then near-duplicates (MinHash LSH on character 5-grams)."""
    seen: set[str] = set()
    unique = []
    for sample in samples:
        key = dedup_key(sample)
        if key in seen:
            report.drop("exact duplicate", sample)
            continue
        seen.add(key)
        unique.append(sample)
    indexes: dict[str, MinHashLSH] = {}
    template = MinHashLSH(threshold=NEAR_DUP_THRESHOLD, num_perm=NEAR_DUP_PERMUTATIONS)  # parameter search is slow
    kept = []
    for i, sample in enumerate(unique):
        group = f"{sample.meta['adapter']}|{sample.meta['kind']}"
        if group not in indexes:
            indexes[group] = MinHashLSH(num_perm=NEAR_DUP_PERMUTATIONS, params=(template.b, template.r))
        lsh = indexes[group]
        mh = _minhash(dedup_key(sample))
        if lsh.query(mh):
            report.drop("near duplicate", sample)
            continue
        lsh.insert(str(i), mh)
        kept.append(sample)
    return kept


def token_check(samples: list[Sample], tokenizer, max_seq_len: int, report: CleanReport) -> list[Sample]:
    """Render each sample with the model's chat template; keep those that fit, end with the end-of-turn
    token after the last answer, and survive encode -> decode unchanged."""
    if not samples:
        return []
    eot = end_of_turn_token(tokenizer)
    texts = [chat_text(tokenizer, s.messages) for s in samples]
    encoded = tokenizer(texts, add_special_tokens=False)["input_ids"]
    kept = []
    for sample, text, ids in zip(samples, texts, encoded):
        last = sample.messages[-1]["content"]
        tail = text[text.rfind(last) + len(last):] if last in text else ""
        if eot not in tail:
            report.drop("no end-of-turn token after the answer", sample)
            continue
        if len(ids) > max_seq_len:
            report.drop(f"longer than max_seq_len ({max_seq_len} tokens)", sample)
            continue
        if tokenizer.decode(ids) != text:
            report.drop("changes in a tokenizer round trip", sample)
            continue
        sample.tokens = len(ids)
        kept.append(sample)
    return kept


def check_samples(samples: list[Sample], brand: BrandConfig, grounding: GroundingCheck,
                  report: CleanReport) -> list[Sample]:
    """Format, voice and grounding checks (no tokenizer needed)."""
    kept = []
    for sample in samples:
        problem = format_problem(sample.messages)
        if problem:
            report.drop(f"format: {problem}", sample)
            continue
        problem = voice_problem(sample.assistant_text, brand)
        if problem:
            report.drop("voice: " + problem.split(" '")[0].split(" \"")[0], sample)
            continue
        problem = grounding_problem(sample, grounding)
        if problem:
            report.drop("ungrounded: " + problem.split(" ", 1)[0], sample)
            continue
        kept.append(sample)
    return kept
