"""Micro-batching for the transformers engine: concurrent `generate` calls share one padded batch.

Each serving thread calls `generate` as it would on the plain engine and blocks; a scheduler thread
collects the calls that arrive within `max_wait_ms` (up to `max_batch`), lays their prompts out as [shared
prefix | padding | rest of the row] (see `prefix_cache`), fills one preallocated cache with the stored prefix
states and each row's rest (prefilled in groups of rows of about the same length, not padded to the batch's
longest row), and runs one `model.generate` from it. Models whose cache is not plain full attention get
plain left padding instead. Rows with different LoRA adapters go in the same batch: plain LoRA adapters
through `mixed_lora` (all adapters of a projection in two matmuls); adapters it declines (DoRA, LoRA on
embeddings, `lora_bias`) batch with rows of the same adapter only, since PEFT's own mixed-batch path
(`adapter_names`) refuses DoRA; `__base__` is the base model. Sampling requests with a seed
run alone, so a seed still reproduces an answer.

The server also tells the batcher which requests are on their way (`on_the_way`: started, still in the
guard or retrieval): while any are, the batcher waits for them, up to `gather_ms`, instead of starting a
batch with whoever came in the first `max_wait_ms`. A batch runs to its end before the next starts, so
the clients of one batch come back together, tens of milliseconds apart (their retrieval shares two
cores); without this, 8 clients ran batches of 4 rows on average, half as many rows per decode step.
"""

from __future__ import annotations

import contextlib
import contextvars
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

from domainlm.generate import CancelCriteria, Generation, GenerationCancelled, GenerationParams, current_cancel
from domainlm.prompt import Message, chat_text
from domainlm.serve import attention, mixed_lora, prefix_cache
from domainlm.serve.mixed_lora import BASE_ADAPTER
_END = object()  # closes a streaming request's sink
# Rows prefilled in one forward on a CPU. Measured on SmolLM2-135M in bf16 (2-core Xeon), 16 rows of the
# example shop's prompts: 7.2-8.2 s to the first token in groups of 4 against 8.1-9.6 s in one padded forward;
# at 8 rows the two were within the machine's noise (median 3.8 against 4.2 s).
CPU_PREFILL_ROWS = 4


@dataclass
class _Request:
    messages: list[Message]
    params: GenerationParams
    adapter: str | None
    future: Future = field(default_factory=Future)
    sink: queue.Queue | None = None  # text deltas for a streaming caller, then _END
    closed: threading.Event = field(default_factory=threading.Event)  # the stream was closed early
    cancel: CancelCriteria | None = None

    def __post_init__(self) -> None:
        # The caller's cancel scope (the server's, per request) and the stream's own close both stop this row.
        self.cancel = CancelCriteria(current_cancel(), self.closed)

    def group(self) -> tuple:
        """Requests with the same group key can share a batch."""
        if self.params.temperature > 0 and self.params.seed is not None:
            return ("seeded", id(self))
        if self.params.temperature > 0:
            return ("sample", self.params.temperature, self.params.top_p)
        return ("greedy",)


class Arrivals:
    """How many requests are on their way to the batcher (see `on_the_way`)."""

    def __init__(self):
        self._count = 0
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        return self._count

    def _add(self, n: int) -> None:
        with self._lock:
            self._count += n


class _OnTheWay:
    def __init__(self, arrivals: Arrivals):
        self.arrivals = arrivals
        self.done = False
        arrivals._add(1)

    def arrived(self) -> None:
        if not self.done:
            self.done = True
            self.arrivals._add(-1)


_ON_THE_WAY: contextvars.ContextVar[_OnTheWay | None] = contextvars.ContextVar("domainlm_on_the_way", default=None)


@contextlib.contextmanager
def on_the_way(engine):
    """Around a server request's pipeline: counts it as on its way to `engine`'s batcher until its generation
    reaches the batcher, or the pipeline ends without one (a cache hit, a guard answer, an error)."""
    if not isinstance(engine, BatchingEngine):
        yield
        return
    token = _OnTheWay(engine.arrivals)
    var = _ON_THE_WAY.set(token)
    try:
        yield
    finally:
        token.arrived()
        _ON_THE_WAY.reset(var)


def _arrived() -> None:
    token = _ON_THE_WAY.get()
    if token is not None:
        token.arrived()


def batchable(engine) -> bool:
    """True for engines that expose a Hugging Face model and tokenizer (the transformers engine)."""
    return all(hasattr(engine, name) for name in ("model", "tokenizer", "eot")) and hasattr(engine.model, "generate")


class BatchingEngine:
    """Wraps a transformers engine; `generate` batches, every other attribute is the wrapped engine's.

    >>> engine = BatchingEngine(TransformersEngine(model, tokenizer), max_batch=8)
    >>> engine.generate(messages, GenerationParams(max_new_tokens=64), adapter="product-expert")
    """

    def __init__(self, engine, max_batch: int = 8, max_wait_ms: float = 10.0, gather_ms: float = 300.0,
                 prefix_cache_size: int = 8, prefill_rows: int | None = None):
        self.inner = engine
        self.max_batch = max_batch
        self.max_wait_s = max_wait_ms / 1000
        self.gather_s = max(gather_ms, max_wait_ms) / 1000
        self.arrivals = Arrivals()
        self.batches_run = 0
        self.mixed_batches = 0  # batches whose adapters ran through mixed_lora's one-pass path
        self.rows_run = 0
        self.tokens_generated = 0  # decode steps actually run, summed over rows (cancelled rows stop counting)
        self.rows_cancelled = 0
        self.rows_active = 0  # rows of the batch now generating
        self.prefill_s = 0.0  # summed over batches: layout, prefix states and prefill, up to the first token
        self.decode_s = 0.0  # summed over batches: from the first token to the batch's end
        self.prefixes = prefix_cache.PrefixCache(max_prefixes=prefix_cache_size)
        self.prefill_rows = prefill_rows  # most rows prefilled together; None: 4 on a CPU, a whole batch on a GPU
        self.prefill_forwards = 0  # forwards that prefilled rows' prompts (one per group of rows)
        self._prefix_support: tuple | None = None  # (model, whether its cache takes stacked prefix states)
        self._prefix_loads = getattr(engine, "adapter_loads", 0)  # the engine's adapter loads the store is for
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="domainlm-batcher", daemon=True)
        self._thread.start()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def generate(self, messages: list[Message], params: GenerationParams, adapter: str | None = None) -> Generation:
        request = _Request(messages, params, adapter)
        self._queue.put(request)
        _arrived()  # after the put: the scheduler never sees it neither queued nor on its way
        return request.future.result()

    def stream(self, messages: list[Message], params: GenerationParams, adapter: str | None = None):
        """Text deltas as the batch generates them, then the final `Generation` (the engine `stream` protocol)."""
        request = _Request(messages, params, adapter, sink=queue.Queue())
        self._queue.put(request)
        _arrived()
        try:
            while (item := request.sink.get()) is not _END:
                yield item
        except GeneratorExit:
            request.closed.set()  # the row stops at the batch's next step; the batch goes on without it
            raise
        yield request.future.result()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    # ---- scheduler thread
    def _gathering(self, waiting: list[_Request], started: float) -> bool:
        """Whether to keep waiting for requests the server has said are on their way."""
        return (self.arrivals.count > 0 and len(waiting) < self.max_batch
                and time.monotonic() - started < self.gather_s)

    def _loop(self) -> None:
        waiting: list[_Request] = []
        while True:
            if not waiting:
                first = self._queue.get()
                if first is None:
                    return
                waiting.append(first)
            started = time.monotonic()
            while len(waiting) < self.max_batch * 2:
                gathering = self._gathering(waiting, started)
                # While gathering, poll every 5 ms: a request on its way may end without generating.
                timeout = 0.005 if gathering else started + self.max_wait_s - time.monotonic()
                try:
                    item = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
                except queue.Empty:
                    if gathering:
                        continue
                    break
                if item is None:
                    self._fail(waiting, RuntimeError("the batching engine was closed"))
                    return
                waiting.append(item)
            for request in [r for r in waiting if r.cancel.is_set()]:  # the caller left while it waited
                waiting.remove(request)
                self.rows_cancelled += 1
                self._fail([request], GenerationCancelled("the request was cancelled before it started"))
            if not waiting:
                continue
            key = waiting[0].group()
            batch = self._one_pass([r for r in waiting if r.group() == key][: self.max_batch])
            waiting = [r for r in waiting if r not in batch]
            try:
                results = self._run(batch)
            except Exception as exc:  # handed to every caller of this batch, which raises it
                self._fail(batch, exc)
                continue
            for request, result in zip(batch, results):
                if isinstance(result, BaseException):
                    request.future.set_exception(result)
                else:
                    request.future.set_result(result)
                if request.sink is not None:
                    request.sink.put(_END)

    @staticmethod
    def _fail(requests: list[_Request], exc: BaseException) -> None:
        for request in requests:
            if not request.future.done():
                request.future.set_exception(exc)
            if request.sink is not None:
                request.sink.put(_END)

    def _one_pass(self, batch: list[_Request]) -> list[_Request]:
        """The rows that can run in one forward: any mix of adapters when mixed_lora takes them all, else the
        rows of the first row's adapter (PEFT's own mixed-batch path refuses DoRA, so it is not used)."""
        model = self.inner.model
        if not hasattr(model, "peft_config"):
            return batch
        names = [_name(r.adapter) for r in batch]
        if len(set(names)) == 1 or mixed_lora.supported(model, names):
            return batch
        return [r for r, name in zip(batch, names) if name == names[0]]

    def _adapter_names(self, batch: list[_Request]) -> list[str] | None:
        model = self.inner.model
        names = [_name(r.adapter) for r in batch]
        if not hasattr(model, "peft_config"):
            if any(n != BASE_ADAPTER for n in names):
                raise ValueError(f"adapter {batch[0].adapter!r} requested but the model has no adapters loaded")
            return None
        missing = sorted({n for n in names if n != BASE_ADAPTER and n not in model.peft_config})
        if missing:
            raise ValueError(f"adapter(s) {', '.join(missing)} not loaded; loaded: {', '.join(model.peft_config)}")
        return names

    def _inputs(self, rows: list[list[int]], names: list[str] | None, kwargs: dict) -> dict:
        """The batch's input tensors, laid out as [shared prefix | padding | rest of the row].

        Where the model's cache allows it (`supports_prefix`), `kwargs` gets the cache `generate` starts
        from, already holding every row's prompt but its last token: the shared prefix from the prefix
        store, each row's rest from `_prefill_rests` (prefilled in groups of rows of about the same length,
        not padded to the batch's longest). `generate` then runs the last token of every row, one step that
        gives the first new token, and goes on as usual. Elsewhere: plain left padding.
        """
        model = self.inner.model
        loads = getattr(self.inner, "adapter_loads", 0)  # read under the engine's lock, as loading counts it
        if loads != self._prefix_loads:  # an adapter was loaded or replaced: stored states may be stale
            self.prefixes.clear()
            self._prefix_loads = loads
        ours = self._prefix_ok(model)
        prefix, used = self.prefixes.choose(rows) if ours else ((), 0)
        ids, mask = prefix_cache.batch_inputs(rows, used, kwargs["pad_token_id"])
        if ours:
            adapters = names or [BASE_ADAPTER] * len(rows)
            per_row = []
            if used:
                per_row = [self.prefixes.states(prefix, used, name,
                                                lambda name=name: self._prefix_states(prefix, name))
                           for name in adapters]
            rests = self._prefill_rests(rows, used, per_row, adapters, kwargs["pad_token_id"])
            width = ids.shape[1]
            kwargs[prefix_cache.cache_kwarg(model)] = prefix_cache.batch_cache(
                model, width + kwargs["max_new_tokens"], width - 1, len(rows), per_row, rests)
            # generate would torch.compile the forward for a static cache on a GPU: a compile for every new
            # batch shape, and around mixed_lora's patched projections
            kwargs["disable_compile"] = True
        return {"input_ids": ids.to(model.device), "attention_mask": mask.to(model.device)}

    def _prefill_rests(self, rows: list[list[int]], used: int, per_row: list, adapters: list[str],
                       pad_id: int) -> list[tuple[list[int], prefix_cache.States]]:
        """Key/value states of each row's prompt after the shared prefix and before its last token, computed
        for groups of rows of about the same length (`prefix_cache.row_groups`), each group padded only to its
        own longest row: (row indices, per-layer states [group, heads, group width, dim]).

        Why: a batch padded to its longest row prefilled 13-19% padding on the example shop's prompts (rests
        of 360-630 tokens), and prefill is compute-bound on a CPU, so padding costs as much as real tokens;
        smaller forwards also keep the activations in cache. The gain shows in larger batches (see
        `CPU_PREFILL_ROWS`); at 8 rows it stays within the machine's noise.
        """
        import torch
        from transformers import DynamicCache

        model = self.inner.model
        decoder = (model.get_base_model() if hasattr(model, "get_base_model") else model).get_decoder()
        tails = [row[used:-1] for row in rows]
        out = []
        per_forward = self.prefill_rows or (CPU_PREFILL_ROWS if model.device.type == "cpu" else len(rows))
        for group in prefix_cache.row_groups([len(t) for t in tails], per_forward):
            self.prefill_forwards += 1
            ids, own = prefix_cache.batch_inputs([tails[i] for i in group], 0, pad_id)  # left-padded tails
            mask = torch.cat([torch.ones((len(group), used), dtype=own.dtype), own], dim=1)
            positions = used + (own.cumsum(dim=1) - 1).clamp(min=0)  # each tail goes on right after the prefix
            cache = DynamicCache(config=model.config)
            for layer in range(len(per_row[0]) if per_row else 0):
                cache.update(torch.cat([per_row[i][layer][0] for i in group]),
                             torch.cat([per_row[i][layer][1] for i in group]), layer)
            with self._scope([adapters[i] for i in group]):  # the decoder alone: no logits are needed
                output = decoder(input_ids=ids.to(model.device), attention_mask=mask.to(model.device),
                                 position_ids=positions.to(model.device), use_cache=True,
                                 **{prefix_cache.cache_kwarg(decoder): cache})
            layers = prefix_cache.output_cache(output).layers
            out.append((group, [(layer.keys[:, :, used:], layer.values[:, :, used:]) for layer in layers]))
        return out

    def _prefix_ok(self, model) -> bool:
        if self._prefix_support is None or self._prefix_support[0] is not model:
            self._prefix_support = (model, prefix_cache.supports_prefix(model))
        return self._prefix_support[1]

    def _scope(self, names: list[str] | None, count: bool = False):
        """The context a forward over rows with adapters `names` runs in: mixed_lora's one-pass path, or for
        the adapters it declines (one adapter a batch, see `_one_pass`) the engine's own adapter switch."""
        model = self.inner.model
        if names is None:
            return contextlib.nullcontext()
        if set(names) == {BASE_ADAPTER}:
            return self.inner._adapter_scope(None)  # adapters disabled: no LoRA work at all
        if mixed_lora.supported(model, names):
            self.mixed_batches += count
            return mixed_lora.mixed_adapters(model, names)  # every adapter in one pass
        return self.inner._adapter_scope(None if names[0] == BASE_ADAPTER else names[0])

    def _prefix_states(self, prefix: tuple[int, ...], name: str) -> prefix_cache.States:
        """The prefix's key/value states under adapter `name` (`__base__`: none), one row."""
        import torch

        model = self.inner.model
        ids = torch.tensor([prefix], dtype=torch.long, device=model.device)
        with self._scope([name]):
            out = model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=True)
        return [(layer.keys, layer.values) for layer in prefix_cache.output_cache(out).layers]

    def _run(self, batch: list[_Request]) -> list[Generation | GenerationCancelled]:
        import torch

        engine, tokenizer = self.inner, self.inner.tokenizer
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token  # left padding needs a pad token; masked out anyway
        rows = [tokenizer(chat_text(tokenizer, r.messages, add_generation_prompt=True),
                          add_special_tokens=False)["input_ids"] for r in batch]
        lengths = [len(row) for row in rows]
        params = batch[0].params
        max_new = max(r.params.max_new_tokens for r in batch)
        sample = params.temperature > 0
        eos = tokenizer.convert_tokens_to_ids(engine.eot)
        kwargs = dict(max_new_tokens=max_new, do_sample=sample, eos_token_id=eos,
                      pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos)
        if sample:
            kwargs.update(temperature=params.temperature, top_p=params.top_p)
            if params.seed is not None:
                torch.manual_seed(params.seed)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        # The engine's lock: its own `stream` and `load_adapter` change the shared model's adapter state.
        lock = getattr(engine, "_lock", None) or contextlib.nullcontext()
        if any(r.sink is not None for r in batch):
            kwargs["streamer"] = _RowStreamer(tokenizer, batch, eos)
        from transformers import StoppingCriteriaList

        self.rows_active = len(batch)
        started = time.perf_counter()
        try:
            with lock, torch.inference_mode():
                names = self._adapter_names(batch)
                contiguous_head_input(engine.model)
                attention.install(engine.model)  # decode steps: one query token, two matmuls (serve/attention.py)
                inputs = self._inputs(rows, names, kwargs)
                cancelled = _RowsCancelled(batch, inputs["input_ids"].shape[1])
                kwargs["stopping_criteria"] = StoppingCriteriaList([cancelled])
                with self._scope(names, count=True):
                    output = engine.model.generate(**inputs, **kwargs)
        finally:
            self.rows_active = 0
        ended = time.perf_counter()
        first = cancelled.first_step_at or ended
        self.prefill_s += first - started
        self.decode_s += ended - first
        self.batches_run += 1
        self.rows_run += len(batch)
        width = inputs["input_ids"].shape[1]
        results = []
        for row, request, prompt_len in zip(output, batch, lengths):
            new = row[width:].tolist()
            if eos in new:
                new = new[: new.index(eos) + 1]
            cap = request.params.max_new_tokens
            finish = "length" if len(new) >= cap and new[cap - 1:cap] != [eos] else "stop"
            new = new[:cap]
            if cancelled.at[len(results)] is not None:  # the rest of the row is padding
                new = new[:cancelled.at[len(results)]]
                self.tokens_generated += len(new)
                self.rows_cancelled += 1
                results.append(GenerationCancelled(f"generation cancelled after {len(new)} of {cap} tokens"))
                continue
            self.tokens_generated += len(new)
            text = tokenizer.decode(new, skip_special_tokens=True)
            for stop in request.params.stop:
                if stop and stop in text:
                    text, finish = text.split(stop, 1)[0], "stop"
            results.append(Generation(text.strip(), int(prompt_len), len(new), finish))
        return results


def contiguous_head_input(model) -> None:
    """Make the output projection's input contiguous (idempotent).

    In a batch's prefill, `generate` keeps only each row's last position: a strided [rows, 1, hidden] slice.
    torch's linear cannot fold a strided 3-D input into one 2-D matmul, so it runs a batched matmul against
    the weight copied once per row: 8 x 576 x 49,152 bf16 values for SmolLM2, 0.9 s of a 5 s prefill
    (measured with torch.profiler; one row copies it once).
    """
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if head is None or getattr(head, "_domainlm_contiguous", False):
        return
    head.register_forward_pre_hook(lambda module, args: (args[0].contiguous(), *args[1:]) if args else None)
    head._domainlm_contiguous = True


def _name(adapter: str | None) -> str:
    return BASE_ADAPTER if adapter in (None, "base") else adapter


class _RowsCancelled:
    """Stopping criterion of a batch: a row is done once its request is cancelled; the others go on.

    transformers pads a finished row from then on and ends the batch when every row is done, so a batch whose
    callers all left stops at its next step.
    """

    def __init__(self, batch: list[_Request], prompt_width: int):
        self.batch = batch
        self.width = prompt_width
        self.at: list[int | None] = [None] * len(batch)  # tokens a row had generated when it was cancelled
        self.first_step_at: float | None = None  # perf_counter when the first token was chosen (prefill done)

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        if self.first_step_at is None:
            self.first_step_at = time.perf_counter()
        done = []
        for i, request in enumerate(self.batch):
            if self.at[i] is None and request.cancel.is_set():
                self.at[i] = input_ids.shape[1] - self.width
            done.append(self.at[i] is not None)
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


class _RowStreamer:
    """A transformers streamer for a batch: splits each step's tokens by row, sends decoded deltas to each sink."""

    def __init__(self, tokenizer, batch: list[_Request], eos: int):
        self.tokenizer = tokenizer
        self.batch = batch
        self.eos = eos
        self.tokens: list[list[int]] = [[] for _ in batch]
        self.sent = ["" for _ in batch]
        self.done = [False for _ in batch]
        self.prompt_seen = False

    def put(self, value) -> None:
        if not self.prompt_seen:  # generate sends the prompt (batch, seq) once before the first step
            self.prompt_seen = True
            return
        for i, token in enumerate(value.reshape(len(self.batch), -1)[:, -1].tolist()):  # one new token per row
            request = self.batch[i]
            if self.done[i] or request.cancel.is_set():
                continue
            if token == self.eos:
                self.done[i] = True
                continue
            self.tokens[i].append(token)
            self.done[i] = len(self.tokens[i]) >= request.params.max_new_tokens
            if request.sink is None:
                continue
            text = self.tokenizer.decode(self.tokens[i], skip_special_tokens=True)
            if text.endswith("\ufffd"):  # half a multi-byte character: wait for the rest
                continue
            if len(text) > len(self.sent[i]) and text.startswith(self.sent[i]):
                request.sink.put(text[len(self.sent[i]):])
                self.sent[i] = text

    def end(self) -> None:
        pass


class SerialEngine:
    """Wraps an engine that is not safe to call from several threads (llama.cpp's context): one call at a time.

    Retrieval, guard and verification of concurrent requests still run in parallel; only generation waits.
    """

    def __init__(self, engine):
        self.inner = engine
        self._lock = threading.Lock()

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if name != "stream":
            return attr

        def stream(*args, **kwargs):  # holds the lock until the stream is exhausted or closed
            with self._lock:
                yield from attr(*args, **kwargs)

        return stream

    def generate(self, messages: list[Message], params: GenerationParams, adapter: str | None = None) -> Generation:
        with self._lock:
            return self.inner.generate(messages, params, adapter=adapter)

    def load_adapter(self, name: str, path) -> None:
        with self._lock:
            self.inner.load_adapter(name, path)


def for_serving(engine, max_batch: int, batch_wait_ms: float, batch_gather_ms: float = 300.0,
                prefill_rows: int | None = None):
    """The engine as the server runs it: micro-batched (transformers), serialized (not thread-safe), or as is."""
    if max_batch > 1 and batchable(engine):
        return BatchingEngine(engine, max_batch, batch_wait_ms, batch_gather_ms, prefill_rows=prefill_rows)
    if batchable(engine) or getattr(engine, "thread_safe", False):
        return engine  # the transformers engine locks itself; thread-safe engines (vLLM's client) run in parallel
    return SerialEngine(engine)
