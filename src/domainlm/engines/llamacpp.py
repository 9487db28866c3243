"""The llama.cpp engine: one base GGUF, several LoRA adapter GGUFs, the adapter chosen per request.

Installed with the `llamacpp` extra (`scripts/install_llamacpp.sh` builds the wheel once and caches it).
Prompts are rendered and tokenized by the base model's Hugging Face tokenizer, exactly as the reference
transformers engine does, and the token ids are fed to llama.cpp; so both engines see the same prompt.
"""

from __future__ import annotations

import ctypes
import os
import time
from pathlib import Path

from domainlm.errors import ModelError
from domainlm.generate import ENGINES, Generation, GenerationParams
from domainlm.prompt import Message, chat_text, end_of_turn_token


def llama_cpp_available() -> bool:
    """True when llama-cpp-python is importable (the transformers engine is the fallback otherwise)."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return True


def _import_llama_cpp():
    try:
        import llama_cpp
    except ImportError:
        raise ModelError(
            "the llamacpp engine needs llama-cpp-python: run scripts/install_llamacpp.sh "
            "(or pip install 'domainlm[llamacpp]'); the transformers engine works without it."
        ) from None
    return llama_cpp


@ENGINES.register("llamacpp")
class LlamaCppEngine:
    """Generation with llama.cpp through llama-cpp-python's low-level adapter API.

    >>> engine = LlamaCppEngine("exports/gguf/base-f16.gguf", tokenizer, {"support": "exports/gguf/support.gguf"})
    >>> engine.generate(messages, GenerationParams(max_new_tokens=64), adapter="support")
    """

    def __init__(
        self,
        model_path: str | Path,
        tokenizer=None,
        adapters: dict[str, str | Path] | None = None,
        n_ctx: int = 2048,
        n_threads: int | None = None,
    ):
        llama_cpp = _import_llama_cpp()
        self._lib = llama_cpp
        model_path = Path(model_path)
        if not model_path.exists():
            raise ModelError(f"{model_path}: GGUF model file not found.")
        if tokenizer is None:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(model_path.parent, gguf_file=model_path.name)
        self.tokenizer = tokenizer
        self.eot = end_of_turn_token(tokenizer)
        self.eot_id = tokenizer.convert_tokens_to_ids(self.eot)
        self.llm = llama_cpp.Llama(
            str(model_path),
            n_ctx=n_ctx,
            n_threads=n_threads or max(1, os.cpu_count() or 1),
            verbose=False,
        )
        self._adapters: dict[str, object] = {}  # name -> llama_adapter_lora_p, freed with the model
        self._active: str | None = None
        for name, path in (adapters or {}).items():
            self.load_adapter(name, path)
        self.last_timing: dict[str, float] = {}

    @property
    def adapters(self) -> list[str]:
        return sorted(self._adapters)

    def load_adapter(self, name: str, path: str | Path) -> None:
        """Load a GGUF LoRA adapter under `name`; it is applied only to requests that ask for it."""
        path = Path(path)
        if not path.exists():
            raise ModelError(f"{path}: adapter GGUF for {name!r} not found.")
        if name in self._adapters:
            raise ModelError(f"adapter {name!r} is already loaded.")
        handle = self._lib.llama_adapter_lora_init(self.llm.model, str(path).encode("utf-8"))
        if not handle:
            raise ModelError(f"{path}: llama.cpp could not load this LoRA adapter (wrong base model or not an adapter).")
        self._adapters[name] = handle

    def _use_adapter(self, name: str | None) -> None:
        """Apply `name` (or none) to the context; a switch also drops the prompt cache.

        llama-cpp-python reuses the KV cache of the longest common token prefix with the last request;
        those keys and values were computed under the previous adapter, so reusing them would mix adapters.
        """
        if name == self._active:
            return
        if name is not None and name not in self._adapters:
            raise ModelError(f"unknown adapter {name!r}; loaded: {', '.join(self.adapters) or 'none'}.")
        if name is None:
            rc = self._lib.llama_set_adapters_lora(self.llm.ctx, None, 0, None)
        else:
            handles = (self._lib.llama_adapter_lora_p_ctypes * 1)(self._adapters[name])
            scales = (ctypes.c_float * 1)(1.0)
            rc = self._lib.llama_set_adapters_lora(self.llm.ctx, handles, 1, scales)
        if rc != 0:
            raise ModelError(f"llama.cpp refused to apply adapter {name!r} (code {rc}).")
        self.llm.reset()
        self.llm._ctx.kv_cache_clear()
        self._active = name

    def prompt_ids(self, messages: list[Message]) -> list[int]:
        text = chat_text(self.tokenizer, messages, add_generation_prompt=True)
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def generate_ids(self, prompt: list[int], params: GenerationParams, adapter: str | None = None) -> list[int]:
        """New token ids for a tokenized prompt (greedy when temperature is 0); stops at end of turn."""
        self._use_adapter(adapter)
        if len(prompt) + params.max_new_tokens > self.llm.n_ctx():
            raise ModelError(f"prompt of {len(prompt)} tokens + {params.max_new_tokens} new exceeds n_ctx {self.llm.n_ctx()}.")
        if params.seed is not None:
            self.llm.set_seed(params.seed)
        if params.temperature > 0:
            sampling = dict(temp=params.temperature, top_p=params.top_p, top_k=0)
        else:
            sampling = dict(temp=0.0, top_k=1, top_p=1.0)
        started = time.perf_counter()
        first = None
        tokens: list[int] = []
        for token in self.llm.generate(prompt, reset=True, **sampling):
            if first is None:
                first = time.perf_counter()
            if token == self.eot_id:
                break
            tokens.append(token)
            if len(tokens) >= params.max_new_tokens:
                break
        ended = time.perf_counter()
        self.last_timing = {
            "ttft_s": (first or ended) - started,
            "decode_s": ended - (first or ended),
            "new_tokens": len(tokens),
        }
        return tokens

    def generate(self, messages: list[Message], params: GenerationParams, adapter: str | None = None) -> Generation:
        prompt = self.prompt_ids(messages)
        tokens = self.generate_ids(prompt, params, adapter)
        answer = self.tokenizer.decode(tokens, skip_special_tokens=True)
        finish = "stop" if len(tokens) < params.max_new_tokens else "length"
        for stop in params.stop:
            if stop and stop in answer:
                answer, finish = answer.split(stop, 1)[0], "stop"
        return Generation(answer.strip(), len(prompt), len(tokens), finish)

    def close(self) -> None:
        """Free the context and the model (which owns its adapters) now rather than at interpreter exit."""
        self._adapters.clear()
        self.llm.close()

    def __enter__(self) -> "LlamaCppEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
