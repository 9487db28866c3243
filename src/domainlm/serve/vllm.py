"""The vLLM engine: generation forwarded to a vLLM OpenAI server, domainlm's pipeline kept in front.

Start the server with the command `domainlm export --format vllm` prints (every adapter as a LoRA
module), set `serve.backend: vllm` and `serve.vllm_url`, and `domainlm serve` keeps retrieval, the
guard and the verifier here while vLLM batches generation across requests and adapters.
"""

from __future__ import annotations

from typing import Iterator

from domainlm.errors import ModelError
from domainlm.generate import ENGINES, Generation, GenerationParams
from domainlm.prompt import Message


@ENGINES.register("vllm")
class VllmEngine:
    """Calls `POST {url}/chat/completions` with the official openai client; `model` is the adapter name.

    >>> engine = VllmEngine("http://127.0.0.1:8001/v1")
    >>> engine.generate(messages, GenerationParams(max_new_tokens=64), adapter="product-expert")
    """

    thread_safe = True  # an HTTP client: concurrent requests are batched by the vLLM server

    def __init__(self, url: str, api_key: str = "EMPTY", timeout_s: float = 120.0, base_model: str | None = None):
        from openai import OpenAI

        self.client = OpenAI(base_url=url.rstrip("/"), api_key=api_key, timeout=timeout_s, max_retries=1)
        self.url = url
        self._base = base_model

    @classmethod
    def from_project(cls, project, folders=None) -> "VllmEngine":
        """The engine for `serve.vllm_url`; the adapters are the LoRA modules the vLLM server was started with."""
        if not project.serve.vllm_url:
            raise ModelError("serve.vllm_url: required when serve.backend is vllm (the vLLM server's /v1 URL)")
        return cls(project.serve.vllm_url)

    @property
    def base_model(self) -> str:
        """The served base model: the one model the server lists without a parent."""
        if self._base is None:
            models = self.client.models.list().data
            roots = [m.id for m in models if not (m.model_extra or {}).get("parent")]
            if not roots:
                raise ModelError(f"{self.url}: the vLLM server lists no base model")
            self._base = roots[0]
        return self._base

    @property
    def adapters(self) -> list[str]:
        return [m.id for m in self.client.models.list().data if (m.model_extra or {}).get("parent")]

    def _request(self, messages: list[Message], params: GenerationParams, adapter: str | None) -> dict:
        request = dict(model=adapter or self.base_model, messages=messages, max_tokens=params.max_new_tokens,
                       temperature=params.temperature, top_p=params.top_p)
        if params.seed is not None:
            request["seed"] = params.seed
        if params.stop:
            request["stop"] = list(params.stop)
        return request

    def generate(self, messages: list[Message], params: GenerationParams, adapter: str | None = None) -> Generation:
        response = self.client.chat.completions.create(**self._request(messages, params, adapter))
        choice = response.choices[0]
        usage = response.usage
        return Generation((choice.message.content or "").strip(), usage.prompt_tokens if usage else 0,
                          usage.completion_tokens if usage else 0,
                          "length" if choice.finish_reason == "length" else "stop")

    def stream(self, messages: list[Message], params: GenerationParams, adapter: str | None = None) -> Iterator[str]:
        """Text deltas as vLLM produces them."""
        events = self.client.chat.completions.create(**self._request(messages, params, adapter), stream=True)
        try:
            for event in events:
                if event.choices and event.choices[0].delta.content:
                    yield event.choices[0].delta.content
        finally:
            events.close()

    def load_adapter(self, name: str, path) -> None:
        """vLLM's runtime LoRA loading (the server needs VLLM_ALLOW_RUNTIME_LORA_UPDATING=True)."""
        self.client.post("/load_lora_adapter", body={"lora_name": name, "lora_path": str(path)}, cast_to=object)
