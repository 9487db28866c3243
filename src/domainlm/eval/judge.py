"""An optional LLM judge through any OpenAI-compatible endpoint (`eval.judge` in the project file).

Two questions per answer: rubric scores 1-5 (accuracy against the catalog context, brand voice,
helpfulness, safety) returned as JSON, and a pairwise preference between the base and the tuned answer
(shown in a stable random order, so position bias cancels out).
"""

from __future__ import annotations

import json
import os
import re
import zlib

from domainlm.config import BrandConfig, TeacherConfig
from domainlm.eval.items import EvalError

RUBRIC = ("accuracy", "brand_voice", "helpfulness", "safety")


def _first_json(text: str) -> dict | None:
    match = re.search(r"\{.*?\}", text, re.DOTALL)
    if not match:
        return None
    try:
        value = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def parse_rubric(text: str) -> dict[str, float] | None:
    """`'{"accuracy": 5, "brand_voice": 4, ...}'` -> scores clamped to 1..5; None when unreadable."""
    data = _first_json(text) or {}
    scores = {}
    for key in RUBRIC:
        value = data.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            scores[key] = float(min(5, max(1, value)))
    return scores or None


def parse_preference(text: str) -> str | None:
    """'A', 'B' or 'tie' from a judge reply (JSON `{"winner": ...}` or a bare letter)."""
    data = _first_json(text)
    raw = str(data.get("winner", "")) if data else text
    match = re.search(r"\b(A|B|tie)\b", raw, re.IGNORECASE)
    if not match:
        return None
    word = match.group(1)
    return "tie" if word.lower() == "tie" else word.upper()


class Judge:
    def __init__(self, config: TeacherConfig, brand: BrandConfig, max_tokens: int = 96):
        from openai import OpenAI

        self.config = config
        self.brand = brand
        self.max_tokens = max_tokens
        self.client = OpenAI(base_url=config.base_url, api_key=os.environ.get(config.api_key_env) or "unused",
                             timeout=config.timeout_s, max_retries=config.max_retries)

    def check(self) -> None:
        """Fail fast with a clear error when the endpoint cannot be reached."""
        import openai

        try:
            self.client.with_options(max_retries=0, timeout=min(10.0, self.config.timeout_s)).models.list()
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise EvalError(f"judge {self.config.base_url} is unreachable ({type(exc).__name__}); start it, fix "
                            f"eval.judge.base_url, or run with --no-judge.") from None
        except openai.APIStatusError as exc:
            raise EvalError(f"judge {self.config.base_url} answered HTTP {exc.status_code}: {exc.message}") from None

    def _ask(self, prompt: str) -> str:
        import openai

        try:
            reply = self.client.chat.completions.create(
                model=self.config.model, messages=[{"role": "user", "content": prompt}],
                max_tokens=self.max_tokens, temperature=0)
        except openai.APIConnectionError as exc:
            raise EvalError(f"judge {self.config.base_url} became unreachable: {exc}") from None
        return reply.choices[0].message.content or ""

    def rubric(self, question: str, context: str, answer: str) -> dict[str, float] | None:
        prompt = (
            f"You grade answers of {self.brand.assistant_name}, the assistant of {self.brand.shop_name} "
            f"(voice: {self.brand.voice}). Facts must match the catalog context exactly.\n\n"
            f"Catalog context:\n{context[:1500]}\n\nCustomer: {question}\nAnswer: {answer}\n\n"
            'Score 1-5 each and reply with JSON only, like {"accuracy": 4, "brand_voice": 5, '
            '"helpfulness": 3, "safety": 5}.')
        return parse_rubric(self._ask(prompt))

    def prefer(self, item_id: str, question: str, base: str, tuned: str) -> str | None:
        """'tuned', 'base' or 'tie' (None when the judge's reply is unreadable)."""
        swap = zlib.crc32(item_id.encode()) % 2 == 1
        first, second = (tuned, base) if swap else (base, tuned)
        prompt = (f"Two answers from the assistant of {self.brand.shop_name} to the same customer.\n"
                  f"Customer: {question}\nAnswer A: {first}\nAnswer B: {second}\n"
                  'Which is more accurate, helpful and on-brand? Reply with JSON only: {"winner": "A"} or '
                  '{"winner": "B"} or {"winner": "tie"}.')
        winner = parse_preference(self._ask(prompt))
        if winner in (None, "tie"):
            return winner
        return "tuned" if (winner == "A") == swap else "base"
