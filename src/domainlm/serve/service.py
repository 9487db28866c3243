"""The serving layer: everything between an HTTP request and `Assistant.answer`/`stream`.

`ChatService` is plain Python, testable without a server: API-key and admin auth, per-key rate
limits, a bounded queue that answers 503 when full, per-request timeouts, cancellation when a client
goes away, Prometheus metrics, adapter loading and catalog hot reload. The routes in `app.py` only
parse and call it (the vLLM layout: thin router, serving class, protocol module).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable, Mapping

from domainlm.adapters import BASE
from domainlm.allocator import active_allocator
from domainlm.config import ProjectConfig
from domainlm.errors import ConfigError
from domainlm.generate import GenerationCancelled, GenerationParams, cancel_scope
from domainlm.serve.batching import on_the_way
from domainlm.serve import protocol as p
from domainlm.serve.limits import Admission, QueueFull, RateLimiter
from domainlm.serve.metrics import Metrics
from domainlm.serve.watcher import CatalogWatcher

log = logging.getLogger("domainlm.serve")

Disconnected = Callable[[], Awaitable[bool]]


class ApiError(Exception):
    """An error the client sees as OpenAI's `{"error": {...}}` with an HTTP status."""

    def __init__(self, status: int, message: str, type: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.body = p.ErrorResponse(error=p.ErrorInfo(message=message, type=type, param=param, code=code))
        self.headers = headers or {}


def base_model_id(project: ProjectConfig) -> str:
    """The `model` name of the base model: its alias, or the folder or file name of a local model."""
    name = project.base_model.rstrip("/")
    return Path(name).name if ("/" in name or name.endswith(".gguf")) and Path(name).name else name


def _keys(env: Mapping[str, str], name: str) -> set[str]:
    return {k.strip() for k in env.get(name, "").split(",") if k.strip()}


@dataclass
class _Job:
    """One admitted request: its cancel flag and whether a worker has started it."""

    cancelled: threading.Event
    started: bool = False


class ChatService:
    """Serves chat completions from one Assistant with the limits of `project.serve`."""

    def __init__(self, assistant, project: ProjectConfig, env: Mapping[str, str] | None = None,
                 watch_catalog: bool = True):
        env = os.environ if env is None else env
        self.assistant = assistant
        self.project = project
        self.config = project.serve
        self.base_id = base_model_id(project)
        self.allocator = active_allocator()  # fixed for the process's life: read once, not at every /health poll
        self.api_keys = _keys(env, self.config.api_keys_env)
        self.admin_keys = _keys(env, self.config.admin_key_env)
        self.metrics = Metrics()
        self.metrics.watch_engine(getattr(assistant, "engine", None))
        self.limiter = RateLimiter(self.config.rate_limit_per_minute)
        self.admission = Admission(self.config.workers, self.config.queue_size)
        self.executor = ThreadPoolExecutor(max_workers=self.config.workers, thread_name_prefix="domainlm-gen")
        self._reload_lock = threading.Lock()
        self.watcher = None
        if watch_catalog:
            self.watcher = CatalogWatcher(project.catalog.source, project.root, self._reload,
                                          self.config.catalog_poll_s, self.config.catalog_db_poll_s).start()

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self.executor.shutdown(wait=False, cancel_futures=True)
        close = getattr(self.assistant.engine, "close", None)
        if callable(close):
            close()

    # ---- auth and limits
    def authorize(self, authorization: str | None, client: str) -> str:
        """The caller's identity for rate limiting (its API key, or its address when auth is off)."""
        if self.api_keys:
            key = _bearer(authorization)
            if not _known(key, self.api_keys):
                self.metrics.rejected.labels("auth").inc()
                raise ApiError(401, "Incorrect or missing API key: send `Authorization: Bearer <key>`.",
                               code="invalid_api_key")
            identity = key
        else:
            identity = f"address:{client}"
        retry_after = self.limiter.take(identity)
        if retry_after is not None:
            self.metrics.rejected.labels("rate_limit").inc()
            raise ApiError(429, f"Rate limit of {self.config.rate_limit_per_minute} requests per minute reached; "
                                f"retry in {retry_after:.1f} s.", type="rate_limit_exceeded",
                           code="rate_limit_exceeded", headers={"Retry-After": str(max(1, round(retry_after + 0.5)))})
        return identity

    def authorize_admin(self, authorization: str | None) -> None:
        if not self.admin_keys:
            raise ApiError(403, f"Admin calls are disabled: set {self.config.admin_key_env} to enable them.",
                           type="permission_error", code="admin_disabled")
        if not _known(_bearer(authorization), self.admin_keys):
            self.metrics.rejected.labels("admin_auth").inc()
            raise ApiError(401, "Incorrect or missing admin key.", code="invalid_api_key")

    # ---- models
    @property
    def adapters(self) -> list[str]:
        """Adapter names a client may pass as `model` (the `base` pseudo-adapter is the base model's)."""
        return [name for name in self.assistant.adapters if name != BASE]

    def models(self) -> p.ModelList:
        cards = [p.ModelCard(id=self.base_id)]
        cards += [p.ModelCard(id=name, parent=self.base_id) for name in self.adapters]
        return p.ModelList(data=cards)

    def resolve_adapter(self, model: str) -> str:
        """The adapter a `model` name picks (`base` for the base model); 404 naming the choices otherwise."""
        if model in (self.base_id, self.project.base_model, BASE):
            return BASE
        if model in self.adapters:
            return model
        available = ", ".join([self.base_id, *self.adapters])
        raise ApiError(404, f"The model '{model}' does not exist. Available models: {available}.",
                       param="model", code="model_not_found")

    # ---- requests
    def _inputs(self, request: p.ChatCompletionRequest) -> tuple[str, list[dict], GenerationParams]:
        """User turn, history and generation parameters (max_tokens capped at `serve.max_tokens`)."""
        user, history = request.turns()
        wanted = request.max_completion_tokens or request.max_tokens or self.config.max_tokens
        params = GenerationParams(
            max_new_tokens=min(wanted, self.config.max_tokens),
            temperature=request.temperature or 0.0,
            top_p=1.0 if request.top_p is None else request.top_p,
            seed=request.seed,
            stop=request.stop_list(),
        )
        return user, history, params

    def _admit(self) -> _Job:
        try:
            self.admission.enter()
        except QueueFull as exc:
            self.metrics.rejected.labels("queue_full").inc()
            raise ApiError(503, f"Server busy: {exc}; retry shortly.", type="server_error",
                           code="queue_full", headers={"Retry-After": "1"}) from None
        self._gauges()
        return _Job(threading.Event())

    def _gauges(self) -> None:
        self.metrics.queue_depth.set(self.admission.queue_depth)
        self.metrics.in_flight.set(self.admission.running)

    def _started(self, job: _Job) -> bool:
        """Called on the worker thread; False when the client left while the request waited."""
        if job.cancelled.is_set():
            return False
        job.started = True
        self.admission.start()
        self._gauges()
        return True

    def _finished(self, job: _Job) -> None:
        self.admission.leave(job.started)
        self._gauges()

    async def complete(self, request: p.ChatCompletionRequest, disconnected: Disconnected | None = None) -> p.ChatCompletion:
        adapter = self.resolve_adapter(request.model)
        user, history, params = self._inputs(request)
        job = self._admit()
        began = time.perf_counter()

        def work():
            try:
                if not self._started(job):
                    return None
                # The engine stops at its next token once the client is gone; the batcher waits for this request.
                with cancel_scope(job.cancelled), on_the_way(self.assistant.engine):
                    return self.assistant.answer(user, history=history, params=params, adapter=adapter)
            except GenerationCancelled:
                self.metrics.cancelled.labels("false").inc()
                return None
            finally:
                self._finished(job)

        future = asyncio.wrap_future(self.executor.submit(work))
        answer = await self._wait(future, job, disconnected)
        self._record(answer, time.perf_counter() - began, stream=False)
        return p.ChatCompletion(
            model=request.model,
            choices=[p.Choice(message=p.AssistantMessage(content=answer.text), finish_reason=_finish(answer))],
            usage=_usage(answer),
            domainlm=self.info(answer, adapter),
        )

    async def _wait(self, future: asyncio.Future, job: _Job, disconnected: Disconnected | None):
        """The worker's result; 504 past the timeout; cancels the job if the client disconnects."""
        deadline = time.monotonic() + self.config.timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                job.cancelled.set()
                self.metrics.rejected.labels("timeout").inc()
                raise ApiError(504, f"The request took longer than {self.config.timeout_s:g} s.",
                               type="timeout_error", code="timeout")
            done, _ = await asyncio.wait({future}, timeout=min(remaining, 0.25))
            if done:
                break
            if disconnected is not None and await disconnected():
                job.cancelled.set()
                self.metrics.rejected.labels("client_gone").inc()
                raise ApiError(499, "The client closed the request.", code="client_closed_request")
        result = future.result()  # re-raises a pipeline error
        if result is None:
            raise ApiError(499, "The client closed the request.", code="client_closed_request")
        return result

    async def start_stream(self, request: p.ChatCompletionRequest) -> AsyncIterator[str]:
        """Checks and admits a streaming request (raising ApiError before any byte is sent), then streams."""
        adapter = self.resolve_adapter(request.model)
        user, history, params = self._inputs(request)
        job = self._admit()
        return self._stream(request, job, user, history, params, adapter)

    async def _stream(self, request, job: _Job, user, history, params, adapter) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        items: asyncio.Queue = asyncio.Queue()
        began = time.perf_counter()

        def work():
            try:
                if not self._started(job):
                    return
                with cancel_scope(job.cancelled), on_the_way(self.assistant.engine):
                    pieces = self.assistant.stream(user, history=history, params=params, adapter=adapter)
                    try:
                        for piece in pieces:
                            if job.cancelled.is_set():
                                raise GenerationCancelled("the client closed the stream")
                            loop.call_soon_threadsafe(items.put_nowait, ("item", piece))
                    finally:
                        close = getattr(pieces, "close", None)
                        if close is not None:
                            close()
            except GenerationCancelled:
                self.metrics.cancelled.labels("true").inc()
            except Exception as exc:  # sent to the client as an error event
                log.exception("streaming generation failed")
                loop.call_soon_threadsafe(items.put_nowait, ("error", exc))
            finally:
                self._finished(job)
                loop.call_soon_threadsafe(items.put_nowait, ("end", None))

        chunk_id, created = p.completion_id(), p.now()

        def chunk(**fields) -> str:
            body = p.ChatCompletionChunk(id=chunk_id, created=created, model=request.model, **fields)
            return _sse(body.model_dump(exclude_none=True))

        self.executor.submit(work)
        deadline = began + self.config.timeout_s
        first = True
        try:
            yield chunk(choices=[p.ChunkChoice(delta=p.Delta(role="assistant", content=""))])
            while True:
                try:
                    kind, value = await asyncio.wait_for(items.get(), timeout=max(0.01, deadline - time.perf_counter()))
                except asyncio.TimeoutError:
                    job.cancelled.set()
                    self.metrics.rejected.labels("timeout").inc()
                    yield _sse(p.ErrorResponse(error=p.ErrorInfo(
                        message=f"The request took longer than {self.config.timeout_s:g} s.",
                        type="timeout_error", code="timeout")).model_dump())
                    break
                if kind == "end":
                    break
                if kind == "error":
                    yield _sse(p.ErrorResponse(error=p.ErrorInfo(message=f"Generation failed: {value}",
                                                                 type="server_error")).model_dump())
                    break
                if isinstance(value, str):
                    if not value:
                        continue
                    if first:
                        self.metrics.ttft.observe(time.perf_counter() - began)
                        first = False
                    yield chunk(choices=[p.ChunkChoice(delta=p.Delta(content=value))])
                    continue
                answer = value  # the final Answer
                self._record(answer, time.perf_counter() - began, stream=True)
                yield chunk(choices=[p.ChunkChoice(delta=p.Delta(), finish_reason=_finish(answer))],
                            domainlm=self.info(answer, adapter))
                if request.stream_options is not None and request.stream_options.include_usage:
                    yield chunk(choices=[], usage=_usage(answer))
            yield "data: [DONE]\n\n"
        finally:
            # Reached on normal end and when the client disconnects (the response task is cancelled).
            job.cancelled.set()

    # ---- results
    def info(self, answer, adapter: str) -> p.DomainlmInfo:
        products = list(answer.context.products)
        guard, verifier = _as_dict(answer.guard), _as_dict(answer.verifier)
        return p.DomainlmInfo(
            retrieved_ids=[product.id for product in products],
            products=[p.RetrievedProduct(id=x.id, name=x.name, price=x.price, currency=x.currency) for x in products],
            passages=[section.id for section in answer.context.passages],
            guard=p.GuardVerdict(kind=guard.get("kind"), score=guard.get("score"), action=guard.get("action")),
            verifier=p.VerifierReport(mode=verifier.get("mode"),
                                      actions=[_jsonable(a) for a in verifier.get("actions") or []]),
            catalog_version=answer.catalog_version or None,
            cache_hit=bool(answer.cache_hit),
            adapter=adapter,
            timings_ms={k: round(float(v), 2) for k, v in (answer.timings_ms or {}).items()},
        )

    def _record(self, answer, seconds: float, stream: bool) -> None:
        m = self.metrics
        m.latency.labels(str(stream).lower()).observe(seconds)
        m.tokens.labels("prompt").inc(answer.prompt_tokens)
        m.tokens.labels("completion").inc(answer.completion_tokens)
        m.cache.labels(str(bool(answer.cache_hit)).lower()).inc()
        guard = _as_dict(answer.guard)
        m.guard.labels(str(guard.get("kind")), str(guard.get("action"))).inc()
        for action in _as_dict(answer.verifier).get("actions") or []:
            m.verifier.labels(_action_label(action)).inc()

    # ---- admin
    def load_adapter(self, request: p.AdapterLoadRequest) -> p.AdminResult:
        run_dir = self._run_dir(request.run)
        if request.name in (self.base_id, BASE):
            raise ApiError(400, f"'{request.name}' is the base model's name; choose another.", param="name")
        self.assistant.load_adapter(request.name, run_dir)
        log.info("loaded adapter %s from %s", request.name, run_dir)
        return p.AdminResult(adapters=self.adapters, catalog_version=self.catalog_version)

    def _run_dir(self, run: str) -> Path:
        root = self.project.root
        folder = Path(run) if Path(run).is_absolute() else root / run
        if not folder.is_dir():
            folder = root / "runs" / run
        if not (folder / "adapter").is_dir() and not (folder / "adapter_config.json").exists():
            raise ApiError(404, f"{run}: not a run folder with an adapter (looked for {folder}/adapter).",
                           param="run", code="run_not_found")
        return folder

    def reload_catalog(self) -> p.AdminResult:
        version = self._reload()
        return p.AdminResult(adapters=self.adapters, catalog_version=version)

    def _reload(self) -> str:
        with self._reload_lock:
            try:
                version = self.assistant.reload_catalog()
            except Exception:
                self.metrics.reloads.labels("failed").inc()
                raise
            self.metrics.reloads.labels("ok").inc()
            return version

    @property
    def catalog_version(self) -> str | None:
        return getattr(self.assistant, "catalog_version", None)

    def health(self) -> p.Health:
        return p.Health(model=self.base_id, adapters=self.adapters, catalog_version=self.catalog_version,
                        queue_depth=self.admission.queue_depth, in_flight=self.admission.running,
                        allocator=self.allocator)


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _known(key: str | None, keys: set[str]) -> bool:
    """Constant-time membership, so response timing does not reveal how much of a key was right."""
    import hmac

    return key is not None and any(hmac.compare_digest(key.encode(), k.encode()) for k in keys)


def _sse(data: dict) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


def _finish(answer) -> str:
    return answer.finish_reason if answer.finish_reason in ("stop", "length") else "stop"


def _usage(answer) -> p.Usage:
    return p.Usage(prompt_tokens=answer.prompt_tokens, completion_tokens=answer.completion_tokens,
                   total_tokens=answer.prompt_tokens + answer.completion_tokens)


def _jsonable(action) -> dict | str:
    if isinstance(action, (str, dict)):
        return action
    if hasattr(action, "__dataclass_fields__"):
        from dataclasses import asdict

        return {k: v if isinstance(v, (str, int, float, bool, type(None))) else str(v) for k, v in asdict(action).items()}
    return str(action)


def _as_dict(value) -> dict:
    """The Answer's guard verdict or verifier report as a dict (they are dicts; dataclasses are accepted)."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    from dataclasses import asdict, is_dataclass

    return asdict(value) if is_dataclass(value) else dict(vars(value))


def _action_label(action) -> str:
    """A verifier action's kind for the metrics label, e.g. `price_repaired`."""
    if isinstance(action, str):
        return action.split(":", 1)[0]
    if isinstance(action, dict):
        kind = str(action.get("type") or action.get("action") or action.get("kind") or "other")
        return kind if "applied" not in action else f"{kind}:{'applied' if action['applied'] else 'flagged'}"
    return str(getattr(action, "action", None) or getattr(action, "kind", None) or type(action).__name__)


def build_assistant(project: ProjectConfig):
    """The Assistant for `project.serve.backend`, with micro-batching put in front of a transformers engine."""
    from domainlm.assistant import Assistant
    from domainlm.serve.batching import for_serving

    backend = project.serve.backend
    if backend == "vllm":
        import domainlm.serve.vllm  # noqa: F401  registers the vllm engine

        if not project.serve.vllm_url:
            raise ConfigError("serve.vllm_url: required when serve.backend is vllm (the vLLM server's /v1 URL)")
    assistant = Assistant.from_project(project, engine=backend)
    assistant.engine = for_serving(assistant.engine, project.serve.max_batch, project.serve.batch_wait_ms,
                                   project.serve.batch_gather_ms, project.serve.prefill_rows)
    return assistant
