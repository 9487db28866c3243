"""Generation engines: turn prompt-contract messages into an answer with a base model (and adapter).

The transformers engine is the reference; faster engines register beside it.
"""

from __future__ import annotations

import contextlib
import threading
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterator, Protocol

from domainlm.prompt import Message, chat_text, end_of_turn_token
from domainlm.registry import Registry


@dataclass
class GenerationParams:
    max_new_tokens: int = 256
    temperature: float = 0.0  # 0 means greedy
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" or "length"


class GenerationCancelled(Exception):
    """Generation stopped early because its caller went away; there is no answer (and nothing to cache)."""


_CANCEL: ContextVar[threading.Event | None] = ContextVar("domainlm_cancel", default=None)


@contextlib.contextmanager
def cancel_scope(event: threading.Event) -> Iterator[threading.Event]:
    """Generation started in this thread inside the scope stops at its next token once `event` is set.

    The serving layer sets the event when a client disconnects or times out; engines read it with
    `current_cancel()`, so the pipeline between them (assistant, guard, verifier) needs no parameter for it.
    """
    token = _CANCEL.set(event)
    try:
        yield event
    finally:
        _CANCEL.reset(token)


def current_cancel() -> threading.Event | None:
    """The cancel event of the enclosing `cancel_scope`, if any."""
    return _CANCEL.get()


class CancelCriteria:
    """A transformers stopping criterion: every row is done once any of `events` is set (checked once per token)."""

    def __init__(self, *events: threading.Event | None):
        self.events = [e for e in events if e is not None]

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        return torch.full((input_ids.shape[0],), self.is_set(), dtype=torch.bool, device=input_ids.device)


class Engine(Protocol):
    def generate(self, messages: list[Message], params: GenerationParams, adapter: str | None = None) -> Generation: ...


ENGINES: Registry[type] = Registry("generation engine")


@ENGINES.register("transformers")
class TransformersEngine:
    """Generation with transformers `generate`; adapters are PEFT adapters on the same base model.

    Several adapters live on one base (`load_adapter`); each request picks one, or `None`/`"base"` for
    the base model with adapters disabled. Requests run one at a time under a lock, since the active
    adapter is state of the shared model.
    """

    def __init__(self, model, tokenizer, adapters: dict | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.eot = end_of_turn_token(tokenizer)
        self._lock = threading.Lock()
        self.adapter_loads = 0  # adapters loaded so far; state derived from adapter weights keys on it
        for name, path in (adapters or {}).items():
            self.load_adapter(name, path)

    @property
    def adapters(self) -> list[str]:
        """Names of the loaded adapters (without the `base` pseudo-adapter)."""
        return sorted(getattr(self.model, "peft_config", {}) or {})

    def load_adapter(self, name: str, path) -> None:
        """Load a PEFT adapter folder under `name` onto the shared base; no reload of the base weights."""
        from domainlm.adapters import attach_adapters

        with self._lock:
            if name in self.adapters:
                self.model.delete_adapter(name)  # a newer run of the same adapter replaces the old one
            self.model = attach_adapters(self.model, {name: path})
            self.adapter_loads += 1

    def _adapter_scope(self, adapter: str | None):
        """A context in which the model runs `adapter` (or the bare base for None / "base")."""
        import contextlib

        peft = hasattr(self.model, "peft_config")
        if adapter in (None, "base"):
            return self.model.disable_adapter() if peft else contextlib.nullcontext()
        if adapter not in self.adapters:
            from domainlm.errors import ModelError

            raise ModelError(f"unknown adapter {adapter!r}; loaded: {', '.join(['base', *self.adapters])}")
        self.model.set_adapter(adapter)
        return contextlib.nullcontext()

    def _prepare(self, messages: list[Message], params: GenerationParams, cancel: CancelCriteria | None = None):
        text = chat_text(self.tokenizer, messages, add_generation_prompt=True)
        inputs = self.tokenizer(text, return_tensors="pt", add_special_tokens=False).to(self.model.device)
        sample = params.temperature > 0
        kwargs = dict(
            max_new_tokens=params.max_new_tokens,
            do_sample=sample,
            eos_token_id=self.tokenizer.convert_tokens_to_ids(self.eot),
            pad_token_id=self.tokenizer.pad_token_id,
        )
        if sample:
            kwargs.update(temperature=params.temperature, top_p=params.top_p)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        if cancel is not None:
            from transformers import StoppingCriteriaList

            kwargs["stopping_criteria"] = StoppingCriteriaList([cancel])
        return inputs, kwargs

    def _run(self, inputs, kwargs, params: GenerationParams, adapter: str | None):
        import torch

        with self._lock, self._adapter_scope(adapter), torch.inference_mode():
            if params.seed is not None:
                torch.manual_seed(params.seed)
            return self.model.generate(**inputs, **kwargs)

    def generate(self, messages: list[Message], params: GenerationParams, adapter: str | None = None) -> Generation:
        cancel = CancelCriteria(current_cancel())
        inputs, kwargs = self._prepare(messages, params, cancel)
        output = self._run(inputs, kwargs, params, adapter)
        return self._result(output, inputs, params, cancel)

    def _result(self, output, inputs, params: GenerationParams, cancel: CancelCriteria) -> Generation:
        new_tokens = output[0, inputs["input_ids"].shape[1]:]
        count = len(new_tokens)  # one row, so no padding: generation ended at end of turn or the cap
        answer = self.tokenizer.decode(new_tokens, skip_special_tokens=True)
        finish = "stop" if count < params.max_new_tokens else "length"
        if finish == "stop" and cancel.is_set() and \
                new_tokens[-1:].tolist() != [self.tokenizer.convert_tokens_to_ids(self.eot)]:
            raise GenerationCancelled(f"generation cancelled after {count} of {params.max_new_tokens} tokens")
        for stop in params.stop:
            if stop and stop in answer:
                answer, finish = answer.split(stop, 1)[0], "stop"
        return Generation(answer.strip(), int(inputs["input_ids"].shape[1]), int(count), finish)

    def stream(self, messages: list[Message], params: GenerationParams, adapter: str | None = None):
        """Text deltas as they are generated, then the final `Generation` (same text as `generate`)."""
        from transformers import TextIteratorStreamer

        # The caller's cancel event, and our own that closing this generator early (the client went away) sets:
        # either stops the generating thread at its next token and releases the model.
        closed = threading.Event()
        cancel = CancelCriteria(current_cancel(), closed)
        inputs, kwargs = self._prepare(messages, params, cancel)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        result: dict = {}

        def work() -> None:
            try:
                result["output"] = self._run(inputs, {**kwargs, "streamer": streamer}, params, adapter)
            except BaseException as exc:  # handed to the consumer below, which re-raises it
                result["error"] = exc
                streamer.end()

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        try:
            for delta in streamer:
                if delta:
                    yield delta
        except GeneratorExit:
            closed.set()
            for _ in streamer:  # drain so the generating thread never blocks on a full queue
                pass
            raise
        finally:
            thread.join()
        if "error" in result:
            raise result["error"]
        yield self._result(result["output"], inputs, params, cancel)


# Engines in their own modules register themselves when imported; each imports its library lazily,
# so this costs nothing when, say, llama-cpp-python is not installed.
import domainlm.engines.llamacpp  # noqa: E402,F401
