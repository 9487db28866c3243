"""Generation engines: turn prompt-contract messages into an answer with a base model (and adapter).

The transformers engine is the reference; faster engines register beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

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


class Engine(Protocol):
    def generate(self, messages: list[Message], params: GenerationParams, adapter: str | None = None) -> Generation: ...


ENGINES: Registry[type] = Registry("generation engine")


@ENGINES.register("transformers")
class TransformersEngine:
    """Generation with transformers `generate`; adapters are PEFT adapters on the same base model."""

    def __init__(self, model, tokenizer):
        self.model = model
        self.tokenizer = tokenizer
        self.eot = end_of_turn_token(tokenizer)

    def generate(self, messages: list[Message], params: GenerationParams, adapter: str | None = None) -> Generation:
        import torch

        text = chat_text(self.tokenizer, messages, add_generation_prompt=True)
        inputs = self.tokenizer(text, return_tensors="pt", add_special_tokens=False).to(self.model.device)
        if params.seed is not None:
            torch.manual_seed(params.seed)
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
        with torch.inference_mode():
            output = self.model.generate(**inputs, **kwargs)
        new_tokens = output[0, inputs["input_ids"].shape[1]:]
        answer = self.tokenizer.decode(new_tokens, skip_special_tokens=True)
        finish = "stop" if len(new_tokens) < params.max_new_tokens else "length"
        for stop in params.stop:
            if stop and stop in answer:
                answer, finish = answer.split(stop, 1)[0], "stop"
        return Generation(answer.strip(), int(inputs["input_ids"].shape[1]), int(len(new_tokens)), finish)
