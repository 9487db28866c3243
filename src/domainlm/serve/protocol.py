"""Request and response bodies of the HTTP API, in OpenAI's shapes (pydantic models, no logic).

What domainlm adds to OpenAI's objects sits in one namespaced field, `domainlm`, so OpenAI clients
read responses unchanged and can still reach the extras (`response.model_extra["domainlm"]` in the
official Python client).
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class OpenAIModel(BaseModel):
    # Unknown request fields (OpenAI adds new ones often) are accepted and ignored, as OpenAI does.
    model_config = ConfigDict(extra="ignore")


# ---- requests

class TextPart(OpenAIModel):
    type: Literal["text"] = "text"
    text: str


class ChatMessage(OpenAIModel):
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        """The message text; OpenAI's content parts are joined."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


# Characters that make a question non-blank; the same test in the JSON schema and in the validator.
NON_BLANK = r"[^ \t\r\n]"
# The schema of "a user message with text" (JSON Schema `contains`, so generated clients and fuzzers see it).
USER_TURN = {
    "type": "object",
    "required": ["role", "content"],
    "properties": {
        "role": {"const": "user"},
        "content": {"anyOf": [
            {"type": "string", "pattern": NON_BLANK},
            {"type": "array", "contains": {"type": "object", "required": ["text"],
                                           "properties": {"text": {"type": "string", "pattern": NON_BLANK}}}},
        ]},
    },
}


def is_user_turn(message: ChatMessage) -> bool:
    if message.role != "user" or message.content is None:
        return False
    texts = [message.content] if isinstance(message.content, str) else [part.text for part in message.content]
    return any(re.search(NON_BLANK, text) for text in texts)


class StreamOptions(OpenAIModel):
    include_usage: bool = False


class ChatCompletionRequest(OpenAIModel):
    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1, json_schema_extra={"contains": USER_TURN})
    """The conversation; the last user message with text is the question, turns before it the history."""
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stop: str | Annotated[list[str], Field(max_length=4)] | None = None
    seed: int | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(default=1, ge=1, le=1)
    user: str | None = None

    @field_validator("messages")
    @classmethod
    def _has_user_turn(cls, messages: list[ChatMessage]) -> list[ChatMessage]:
        if not any(is_user_turn(m) for m in messages):
            raise ValueError("no user message with text: the conversation needs a question")
        return messages

    def turns(self) -> tuple[str, list[dict[str, str]]]:
        """The question (the last user message with text) and the user/assistant turns before it."""
        last = max(i for i, m in enumerate(self.messages) if is_user_turn(m))
        history = [{"role": m.role, "content": m.text()} for m in self.messages[:last]
                   if m.role in ("user", "assistant")]
        return self.messages[last].text(), history

    def stop_list(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)


class AdapterLoadRequest(OpenAIModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    """The adapter name clients will pass as `model`."""
    run: str = Field(min_length=1)
    """A run folder (`runs/<id>`, relative to the project) or a run id."""


# ---- responses

def completion_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex[:24]


def now() -> int:
    return int(time.time())


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class RetrievedProduct(BaseModel):
    id: str
    name: str
    price: float
    currency: str


class GuardVerdict(BaseModel):
    kind: str | None = None
    score: float | None = None
    action: str | None = None


class VerifierReport(BaseModel):
    mode: str | None = None
    actions: list[dict | str] = Field(default_factory=list)


class DomainlmInfo(BaseModel):
    """What the pipeline did for this answer: what it retrieved, guarded and verified."""

    retrieved_ids: list[str] = Field(default_factory=list)
    products: list[RetrievedProduct] = Field(default_factory=list)
    passages: list[str] = Field(default_factory=list)
    guard: GuardVerdict = Field(default_factory=GuardVerdict)
    verifier: VerifierReport = Field(default_factory=VerifierReport)
    catalog_version: str | None = None
    cache_hit: bool = False
    adapter: str | None = None
    timings_ms: dict[str, float] = Field(default_factory=dict)


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop", "length"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str = Field(default_factory=completion_id)
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(default_factory=now)
    model: str
    choices: list[Choice]
    usage: Usage
    domainlm: DomainlmInfo


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop", "length"] | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    domainlm: DomainlmInfo | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = Field(default_factory=now)
    owned_by: str = "domainlm"
    parent: str | None = None
    """The base model for an adapter; None for the base model itself."""
    run: str | None = None


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class ErrorInfo(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorInfo


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    model: str
    adapters: list[str]
    catalog_version: str | None
    queue_depth: int
    in_flight: int
    allocator: str = "system"
    """The process's memory allocator: `tcmalloc` (what `domainlm serve` restarts under where installed), `glibc`."""


class AdminResult(BaseModel):
    ok: bool = True
    adapters: list[str] = Field(default_factory=list)
    catalog_version: str | None = None
