"""The Assistant pipeline (DESIGN.md): retrieve -> prompt contract -> generate, one object for every caller.

Serve, chat and eval all call `Assistant.answer`, so what is measured is what users get. Input guard,
output verifier and cache plug into the same object as they are built.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

from domainlm.config import ProjectConfig
from domainlm.generate import Engine, GenerationParams
from domainlm.prompt import Context, Message, build_messages


@dataclass
class Answer:
    text: str
    context: Context
    messages: list[Message]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def product_ids(self) -> list[str]:
        return [p.id for p in self.context.products]


class Assistant:
    """Answers one user turn for a project, grounded in what retrieval finds."""

    def __init__(self, project: ProjectConfig, engine: Engine, retriever=None):
        self.project = project
        self.engine = engine
        self.retriever = retriever  # anything with .search(query, top_k=...) -> result with .context()

    def retrieve(self, user: str) -> Context:
        if self.retriever is None:
            return Context()
        return self.retriever.search(user, top_k=self.project.retrieval.top_k).context()

    def answer(
        self,
        user: str,
        history: Sequence[Message] = (),
        params: GenerationParams | None = None,
        adapter: str | None = None,
    ) -> Answer:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        context = self.retrieve(user)
        timings["retrieve"] = (time.perf_counter() - started) * 1000
        messages = build_messages(self.project.brand, user, context, history)
        started = time.perf_counter()
        generation = self.engine.generate(messages, params or GenerationParams(), adapter=adapter)
        timings["generate"] = (time.perf_counter() - started) * 1000
        return Answer(
            text=generation.text,
            context=context,
            messages=messages,
            prompt_tokens=generation.prompt_tokens,
            completion_tokens=generation.completion_tokens,
            finish_reason=generation.finish_reason,
            timings_ms=timings,
        )
