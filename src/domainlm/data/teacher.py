"""An optional teacher model behind an OpenAI-compatible endpoint: paraphrased questions and more natural
answers from the same grounded facts.

Every request is cached on disk (`data/.cache/teacher/`), so a crash or a down endpoint loses nothing
and a rerun resumes. Requests are retried with exponential backoff; an endpoint that stays down or only
answers garbage is reported clearly and the build keeps the template samples.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from domainlm.config import BrandConfig, TeacherConfig
from domainlm.data.records import write_text_atomic
from domainlm.errors import DomainlmError


class TeacherError(DomainlmError):
    """The teacher endpoint cannot be reached or keeps failing."""


@dataclass
class TeacherStats:
    requests: int = 0
    cached: int = 0
    failed: int = 0
    accepted: int = 0
    rejected: Counter = field(default_factory=Counter)
    stopped: str | None = None  # why the build stopped asking the teacher

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


class Teacher:
    """Chat completions with a disk cache and retries; `complete` returns the reply text."""

    def __init__(self, config: TeacherConfig, cache_dir: Path, sleep=time.sleep):
        from openai import OpenAI

        self.config = config
        self.cache_dir = cache_dir
        self.sleep = sleep
        self.stats = TeacherStats()
        self.client = OpenAI(base_url=config.base_url, api_key=os.environ.get(config.api_key_env) or "unused",
                             timeout=config.timeout_s, max_retries=0)

    def _key(self, messages: list[dict], max_tokens: int) -> str:
        blob = json.dumps([self.config.base_url, self.config.model, messages, max_tokens], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def complete(self, messages: list[dict], max_tokens: int = 200) -> str:
        """The teacher's reply, from the cache when this exact request was answered before."""
        import openai

        key = self._key(messages, max_tokens)
        path = self.cache_dir / key[:2] / f"{key}.json"
        if path.exists():
            self.stats.cached += 1
            return json.loads(path.read_text(encoding="utf-8"))["reply"]
        last: Exception | None = None
        for attempt in range(self.config.max_retries + 1):
            if attempt:
                self.sleep(min(2 ** (attempt - 1), 30))
            try:
                self.stats.requests += 1
                response = self.client.chat.completions.create(
                    model=self.config.model, messages=messages, max_tokens=max_tokens, temperature=0.0, seed=0)
                reply = (response.choices[0].message.content or "").strip() if response.choices else ""
                write_text_atomic(path, json.dumps({"messages": messages, "reply": reply}, ensure_ascii=False))
                return reply
            except (openai.APIConnectionError, openai.APITimeoutError, openai.RateLimitError,
                    openai.InternalServerError) as exc:
                last = exc
            except openai.APIStatusError as exc:  # 4xx other than 429: retrying will not help
                self.stats.failed += 1
                raise TeacherError(f"teacher {self.config.base_url} refused the request: HTTP {exc.status_code} "
                                   f"{_short(exc)}. Check data.teacher.model and the key in "
                                   f"${self.config.api_key_env}.") from None
        self.stats.failed += 1
        raise TeacherError(f"teacher {self.config.base_url} is unreachable after {self.config.max_retries + 1} "
                           f"attempts ({type(last).__name__}: {_short(last)}). Start it or fix data.teacher.base_url; "
                           f"answers so far are cached in {self.cache_dir}, a rerun resumes.")


def _short(exc: Exception | None) -> str:
    return str(exc).splitlines()[0][:200] if exc else ""


def paraphrase_request(question: str) -> list[dict]:
    return [
        {"role": "system", "content": "You rewrite customer questions for a shop. Keep every product name, id and "
                                      "number exactly as written. Reply with the rewritten question only."},
        {"role": "user", "content": f"Rewrite this question in different words:\n{question}"},
    ]


def rewrite_request(brand: BrandConfig, question: str, answer: str) -> list[dict]:
    return [
        {"role": "system", "content": f"You are {brand.assistant_name}, the assistant of {brand.shop_name}. Voice: "
                                      f"{brand.voice}. Rewrite draft answers to sound natural. Keep every product "
                                      f"name, price and number exactly as written, add no new facts, and reply with "
                                      f"the answer only."},
        {"role": "user", "content": f"Customer: {question}\nDraft answer: {answer}\nRewritten answer:"},
    ]


def clean_reply(text: str) -> str:
    """Strip quotes and labels small models like to add around a rewrite."""
    text = text.strip()
    for label in ("Rewritten answer:", "Rewritten question:", "Answer:", "Question:"):
        if text.lower().startswith(label.lower()):
            text = text[len(label):].strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text
