"""The Assistant pipeline (DESIGN.md): guard -> retrieve -> prompt contract -> generate -> verify, one object
for every caller, with an answer cache in front.

Serve, chat and eval all call `Assistant.answer` (or `stream`), so what is measured is what users get.

    a = Assistant.from_project("shop/domainlm.yaml")          # catalog, index, base model, every trained adapter
    answer = a.answer("How much is the Lagavulin 16?", adapter="product-expert")
    answer.text, answer.guard, answer.verifier, answer.cache_hit

The catalog, its retriever and its verifier live in one immutable snapshot; `reload_catalog` builds a new
one and swaps it in, so a request in flight finishes on the snapshot it started with.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from domainlm.adapters import BASE, AdapterError, adapter_dir, latest_runs
from domainlm.cache import AnswerCache, cache_key
from domainlm.catalog.product import Catalog, Product
from domainlm.config import ProjectConfig
from domainlm.errors import DomainlmError
from domainlm.generate import Engine, Generation, GenerationParams
from domainlm.knowledge import KnowledgeSection
from domainlm.prompt import Context, Message, build_messages
from domainlm.verify import Verification, Verifier
from domainlm.verify.asked import context_with_missing

# Verifier actions that replace the model's text with a grounded answer (streaming stops at them).
UNREPAIRABLE = ("fallback", "unknown_product", "denied_product", "instructions_leak")
# Verdict of a turn the guard did not look at (guard off).
_UNCHECKED = {"kind": "ok", "score": 1.0, "action": "passed", "source": "none", "matched": ""}


@dataclass
class Answer:
    """One answered turn and everything that produced it (the server's response metadata).

    guard: {"kind", "score", "action", "source", "matched"} (see guard.Verdict);
    verifier: {"mode", "actions": [{"type", "found", "expected", "product_id", "applied"}]}.
    finish_reason: "stop", "length", or "guard" when the guard answered without the model.
    """

    text: str
    context: Context
    messages: list[Message]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"
    timings_ms: dict[str, float] = field(default_factory=dict)
    guard: dict = field(default_factory=lambda: dict(_UNCHECKED))
    verifier: dict = field(default_factory=lambda: {"mode": "off", "actions": []})
    cache_hit: bool = False
    catalog_version: str = ""
    adapter: str = BASE
    raw_text: str = ""  # what the model wrote before verification (equal to text when nothing changed)

    @property
    def product_ids(self) -> list[str]:
        return [p.id for p in self.context.products]


@dataclass(frozen=True)
class Snapshot:
    """Everything that depends on the catalog, swapped as one piece on reload."""

    catalog: Catalog
    sections: tuple[KnowledgeSection, ...]
    retriever: object  # .search(query, top_k) -> RetrievalResult, or None
    verifier: Verifier

    @property
    def version(self) -> str:
        return self.catalog.version


class MemoEmbedder:
    """An embedder that remembers the last few single-text vectors, so the guard and retrieval embed a turn once."""

    def __init__(self, inner, size: int = 256):
        self.inner = inner
        self.name = getattr(inner, "name", "embedder")
        self.dim = inner.dim
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def encode(self, texts: list[str], progress=None) -> np.ndarray:
        if len(texts) != 1:
            return self.inner.encode(texts, progress) if progress else self.inner.encode(texts)
        with self._lock:
            hit = self._memo.get(texts[0])
            if hit is not None:
                self._memo.move_to_end(texts[0])
                return hit[None, :].copy()
        vector = np.asarray(self.inner.encode(texts), np.float32)
        with self._lock:
            self._memo[texts[0]] = vector[0]
            while len(self._memo) > self._size:
                self._memo.popitem(last=False)
        return vector


class Assistant:
    """Answers user turns for a project: guarded, grounded in retrieval, verified against the catalog."""

    def __init__(self, project: ProjectConfig, engine: Engine | None, retriever=None, *, catalog: Catalog | None = None,
                 sections: Sequence[KnowledgeSection] = (), guard=None, verifier_mode: str | None = None,
                 cache: AnswerCache | None = None, embedder=None, default_adapter: str | None = None):
        self.project = project
        self.engine = engine
        self.guard = guard
        self.embedder = embedder
        self.verifier_mode = verifier_mode or project.serve.verifier
        self.cache = cache if cache is not None else AnswerCache(project.serve.cache_size)
        if catalog is None:
            catalog = getattr(retriever, "catalog", None)
        if catalog is None:
            from domainlm.catalog import load_catalog

            catalog = load_catalog(project.catalog, project.root)
        self._state = Snapshot(catalog, tuple(sections), retriever, self._verifier(catalog))
        self._reload_lock = threading.Lock()
        self._metrics_lock = threading.Lock()
        self._metrics: Counter = Counter()
        self._default_adapter = default_adapter
        self.notes: list[str] = []  # what a user should know about how this assistant was assembled

    # ---- construction
    @classmethod
    def from_project(cls, project: "ProjectConfig | str | Path", engine: str = "auto",
                     adapters: "dict[str, str | Path] | list[str] | None" = None, *, guard: bool | None = None,
                     verifier_mode: str | None = None, embedder=None) -> "Assistant":
        """Load the catalog, retriever (the persisted index when current, else in memory), the base model once,
        every configured adapter whose latest finished run exists, the guard, verifier and cache.

        `adapters`: None = every configured adapter with a finished run; a list = those names; a dict =
        name -> run folder or PEFT folder. `engine`: "auto" (the project's `serve.backend`), "transformers"
        or "llamacpp". `embedder`: an embedder object to use instead of loading `retrieval.embedder`.
        """
        from domainlm.catalog import load_catalog
        from domainlm.config import load_project
        from domainlm.knowledge import load_knowledge
        from domainlm.retrieval.embed import get_embedder

        if not isinstance(project, ProjectConfig):
            project = load_project(project)
        catalog = load_catalog(project.catalog, project.root)
        sections = load_knowledge(project.knowledge, project.root)
        memo = MemoEmbedder(embedder if embedder is not None else get_embedder(project.retrieval.embedder, project.root))
        retriever, note = _open_retriever(project, catalog, sections, memo)
        folders = _adapter_folders(project, adapters)
        model_engine = _load_engine(project, engine, folders)
        the_guard = None
        if project.serve.guard if guard is None else guard:
            from domainlm.guard import Guard

            the_guard = Guard.for_project(project, catalog, memo, memo.name)  # the name keys the classifier cache
        default = next((name for name in project.adapters if name in folders), next(iter(folders), BASE))
        assistant = cls(project, model_engine, retriever, catalog=catalog, sections=sections, guard=the_guard,
                        verifier_mode=verifier_mode, embedder=memo, default_adapter=default)
        assistant.notes = [note] if note else []
        return assistant

    def _verifier(self, catalog: Catalog) -> Verifier:
        """The output verifier for one catalog snapshot, with the instructions-leak check on this brand's prompt."""
        from domainlm.prompt import system_prompt
        from domainlm.verify.leaks import public_phrases

        brand = self.project.brand
        return Verifier(catalog, self.verifier_mode, system_prompt(brand), public_phrases(brand))

    # ---- state
    @property
    def catalog(self) -> Catalog:
        return self._state.catalog

    @property
    def catalog_version(self) -> str:
        return self._state.version

    @property
    def retriever(self):
        return self._state.retriever

    @property
    def adapters(self) -> list[str]:
        """Loaded adapter names; `base` (adapters disabled) is always accepted as well."""
        return list(getattr(self.engine, "adapters", []) or [])

    @property
    def default_adapter(self) -> str:
        """What `adapter=None` means: the first configured adapter that is loaded, else `base`."""
        if self._default_adapter and self._default_adapter in [*self.adapters, BASE]:
            return self._default_adapter
        return next((n for n in self.project.adapters if n in self.adapters), BASE)

    def load_adapter(self, name: str, path: "str | Path") -> str:
        """Load (or replace) adapter `name` from a run folder or PEFT folder; no restart, no base reload."""
        if name == BASE:
            raise AdapterError(f"{BASE!r} is the base model itself and cannot be loaded from a folder.")
        loader = getattr(self.engine, "load_adapter", None)
        if loader is None:
            raise AdapterError(f"the {type(self.engine).__name__} engine cannot load adapters at run time.")
        folder = adapter_dir(path)
        if _wants_gguf(self.engine):
            from domainlm.adapters import gguf_files

            folder = gguf_files(self.project, {name: folder})[1][name]
        loader(name, folder)
        self.cache.clear()  # answers of the previous weights under the same name must not be served
        return name

    def reload_catalog(self, catalog: Catalog | None = None) -> str:
        """Re-read the catalog (or take `catalog`), update the index and swap in a new snapshot; returns the version.

        The persisted index is updated in place (`domainlm index update`) when the assistant runs on it;
        otherwise a new in-memory index is built. Cached answers of other versions are dropped.
        """
        from domainlm.catalog import load_catalog
        from domainlm.knowledge import load_knowledge

        with self._reload_lock:
            old = self._state
            if catalog is None:
                catalog = load_catalog(self.project.catalog, self.project.root)
            sections = load_knowledge(self.project.knowledge, self.project.root) if self.project.knowledge else []
            if catalog.version == old.version and tuple(sections) == old.sections:
                return old.version
            retriever = old.retriever
            if retriever is not None:
                retriever = _refresh_retriever(self.project, retriever, catalog, sections, self.embedder)
            self._state = Snapshot(catalog, tuple(sections), retriever, self._verifier(catalog))
            if self.guard is not None:
                from domainlm.guard.guard import catalog_words

                self.guard.vocabulary = catalog_words(catalog)
            self.cache.drop_other_versions(catalog.version)
            self._count("catalog_reloads")
            return catalog.version

    # ---- the pipeline
    def _resolve_adapter(self, adapter: str | None) -> str:
        name = adapter or self.default_adapter
        if name != BASE and name not in self.adapters:
            raise AdapterError(f"unknown adapter {name!r}; loaded: {', '.join([BASE, *self.adapters])}")
        return name

    @staticmethod
    def _engine_adapter(name: str) -> str | None:
        """The engine's name for a resolved adapter: None (adapters disabled) for `base`."""
        return None if name == BASE else name

    def generate_plain(self, messages: Sequence[Message], params: GenerationParams, adapter: str | None = None) -> str:
        """The model's reply to `messages` as given: no system prompt, retrieval, guard or verifier (the
        forgetting set measures the weights alone). `adapter` takes the same names as `answer`, `base` included."""
        return self.engine.generate(list(messages), params, adapter=self._engine_adapter(self._resolve_adapter(adapter))).text

    def retrieve(self, user: str, state: Snapshot | None = None) -> tuple[Context, Product | None]:
        state = state or self._state
        if state.retriever is None:
            return Context(), None
        result = state.retriever.search(user, top_k=self.project.retrieval.top_k)
        context = context_with_missing(result, user, state.verifier, self.project.brand.competitors)
        return context, getattr(result, "named", None)

    def _prepare(self, user: str, history: Sequence[Message], params: GenerationParams | None, adapter: str | None):
        """Guard, retrieval and prompt for one turn: (state, adapter, key, verdict, context, named, messages, timings)."""
        state = self._state
        name = self._resolve_adapter(adapter)
        timings: dict[str, float] = {}
        verdict = dict(_UNCHECKED)
        started = time.perf_counter()
        if self.guard is not None:
            verdict = self.guard.check(user).as_dict()
        timings["guard"] = _ms(started)
        started = time.perf_counter()
        if verdict["kind"] == "off_topic" and verdict["action"] == "answered_directly":
            context, named = Context(), None
        else:
            context, named = self.retrieve(user, state)
            if self.guard is not None and verdict["kind"] == "ok":
                verdict = _unknown_product_verdict(state, user, context, named) or verdict
        timings["retrieve"] = _ms(started)
        messages = build_messages(self.project.brand, user, context, history)
        return state, name, verdict, context, named, messages, timings

    def answer(self, user: str, history: Sequence[Message] = (), params: GenerationParams | None = None,
               adapter: str | None = None) -> Answer:
        """Answer one user turn (history: earlier user/assistant messages, oldest first)."""
        started_all = time.perf_counter()
        params = params or GenerationParams(max_new_tokens=self.project.serve.max_tokens)
        hit = self._cached(user, history, params, adapter, started_all)
        if hit is not None:
            return hit
        state, name, verdict, context, named, messages, timings = self._prepare(user, history, params, adapter)
        generation, verification = self._complete(state, name, verdict, context, named, messages, params, user, timings,
                                                  history)
        return self._finish(user, history, params, state, name, verdict, context, messages, generation,
                            verification, verification.text, timings, started_all)

    def _complete(self, state: Snapshot, name: str, verdict: dict, context: Context, named: Product | None,
                  messages, params: GenerationParams, user: str, timings: dict,
                  history: Sequence[Message]) -> tuple[Generation, Verification]:
        """Generate (or take the guard's reply) and verify, without streaming."""
        started = time.perf_counter()
        if verdict["action"] == "answered_directly":
            generation = self._guard_generation(verdict, user, context, named, state)
        else:
            generation = self.engine.generate(messages, params, adapter=self._engine_adapter(name))
        timings["generate"] = _ms(started)
        started = time.perf_counter()
        verification = self._drop_stray(state, verdict, state.verifier.check(generation.text, context, named, user),
                                        user, history, context, named)
        timings["verify"] = _ms(started)
        return generation, verification

    def stream(self, user: str, history: Sequence[Message] = (), params: GenerationParams | None = None,
               adapter: str | None = None) -> Iterator["str | Answer"]:
        """Verified text deltas, then the final Answer (its `text` is exactly the deltas joined).

        Text is released a sentence at a time, each only after the verifier has checked the answer so far, so a
        wrong price is repaired before it is sent. When a later sentence cannot be repaired (a price of no product,
        an unknown product), the model's output stops there and the grounded fallback answer follows.
        """
        started_all = time.perf_counter()
        params = params or GenerationParams(max_new_tokens=self.project.serve.max_tokens)
        hit = self._cached(user, history, params, adapter, started_all)
        if hit is not None:
            yield hit.text
            yield hit
            return
        state, name, verdict, context, named, messages, timings = self._prepare(user, history, params, adapter)
        if verdict["action"] == "answered_directly" or not hasattr(self.engine, "stream"):
            generation, verification = self._complete(state, name, verdict, context, named, messages, params, user,
                                                      timings, history)
            yield verification.text
            yield self._finish(user, history, params, state, name, verdict, context, messages, generation,
                               verification, verification.text, timings, started_all)
            return
        emitted = ""  # verified text already sent
        raw = ""
        generation: Generation | None = None
        fell_back = False
        held = False  # the answer opens with a stray safety line: it is sent whole once verified (`_drop_stray`)
        checked_to = 0
        verify_ms = 0.0
        gen_started = time.perf_counter()
        for piece in self.engine.stream(messages, params, adapter=self._engine_adapter(name)):
            if isinstance(piece, Generation):
                generation = piece
                break
            if fell_back or held:
                continue  # let the engine finish so it releases the model
            raw += piece
            body = raw.lstrip()  # the final text is stripped too
            boundary = _last_sentence_end(body)
            if boundary <= checked_to:
                continue
            checked_to = boundary
            started = time.perf_counter()
            checked = state.verifier.check(body[:boundary].rstrip(), context, named, user)
            verify_ms += _ms(started)
            if checked.actions and self.verifier_mode != "annotate" and (
                    self.verifier_mode == "fallback" or any(a["type"] in UNREPAIRABLE for a in checked.actions)):
                fell_back = True
                continue
            if not emitted and self._opens_with_stray(verdict, checked.text, user, history):
                held = True
                continue
            if checked.text.startswith(emitted) and len(checked.text) > len(emitted):
                delta, emitted = checked.text[len(emitted):], checked.text
                yield delta
        if generation is None:
            raise DomainlmError("the generation engine's stream ended without a final result")
        timings["generate"] = _ms(gen_started) - verify_ms
        started = time.perf_counter()
        final = self._drop_stray(state, verdict, state.verifier.check(generation.text, context, named, user), user,
                                 history, context, named)
        timings["verify"] = verify_ms + _ms(started)
        if final.text.startswith(emitted):
            text = final.text
        else:  # sent sentences stay as sent; what follows is the verifier's grounded answer
            from domainlm.verify import grounded_answer

            fallback = any(a["type"] == "fallback" and a.get("applied") for a in final.actions)
            tail = final.text if fallback else grounded_answer(context, named)
            text = emitted + ("" if emitted.endswith("\n") else "\n\n") + tail
        if len(text) > len(emitted):
            yield text[len(emitted):]
        yield self._finish(user, history, params, state, name, verdict, context, messages, generation, final, text,
                           timings, started_all)

    # ---- helpers
    def _stray_checked(self, verdict: dict) -> bool:
        """Stray safety lines are looked for only on turns a guard passed (`verify.stray`)."""
        return self.guard is not None and verdict["action"] == "passed"

    def _opens_with_stray(self, verdict: dict, text: str, user: str, history: Sequence[Message]) -> bool:
        from domainlm.verify.stray import stray_lead

        return self._stray_checked(verdict) and stray_lead(text, _user_turns(user, history),
                                                           self.project.brand.competitors) > 0

    def _drop_stray(self, state: Snapshot, verdict: dict, verification: Verification, user: str,
                    history: Sequence[Message], context: Context, named: Product | None) -> Verification:
        if not self._stray_checked(verdict):
            return verification
        return state.verifier.drop_stray_refusal(verification, _user_turns(user, history), context, named,
                                                 self.project.brand.competitors)

    def _cached(self, user, history, params, adapter, started_all) -> Answer | None:
        if self.cache.maxsize <= 0 or not _deterministic(params):
            return None
        name = self._resolve_adapter(adapter)
        version = self.catalog_version
        hit = self.cache.get(cache_key(name, history, user, version, params), version)
        if hit is None:
            return None
        self._count("requests")
        self._count("cache_hits")
        return replace(hit, cache_hit=True, timings_ms={"total": _ms(started_all)})

    def _guard_generation(self, verdict: dict, user: str, context: Context, named: Product | None,
                          state: Snapshot) -> Generation:
        from domainlm.guard import guard_reply

        text = guard_reply(verdict["kind"], user, self.project.brand, context.products, named,
                           state.catalog.categories, verdict.get("matched", ""))
        return Generation(text, 0, 0, "guard")

    def _finish(self, user, history, params, state: Snapshot, name: str, verdict: dict, context: Context,
                messages, generation: Generation, verification: Verification, text: str, timings: dict,
                started_all: float) -> Answer:
        timings["total"] = _ms(started_all)
        answer = Answer(
            text=text, context=context, messages=messages, prompt_tokens=generation.prompt_tokens,
            completion_tokens=generation.completion_tokens, finish_reason=generation.finish_reason,
            timings_ms={k: round(v, 3) for k, v in timings.items()}, guard=verdict,
            verifier=verification.as_dict(), cache_hit=False, catalog_version=state.version, adapter=name,
            raw_text=generation.text,
        )
        self._count("requests")
        self._count(f"guard.{verdict['kind']}")
        for action in verification.actions:
            self._count(f"verifier.{action['type']}")
        if self.cache.maxsize > 0 and _deterministic(params):
            self.cache.put(cache_key(name, history, user, state.version, params), state.version, answer)
        return answer

    def _count(self, key: str, n: int = 1) -> None:
        with self._metrics_lock:
            self._metrics[key] += n

    def close(self) -> None:
        """Free the engine's native resources (llama.cpp); the Assistant is unusable afterwards."""
        close = getattr(self.engine, "close", None)
        if close is not None:
            close()

    def metrics(self) -> dict[str, int]:
        """Counters since start: requests, cache_hits, guard.<kind>, verifier.<action type>, catalog_reloads."""
        with self._metrics_lock:
            return dict(self._metrics)


def _unknown_product_verdict(state: Snapshot, user: str, context: Context, named: Product | None) -> dict | None:
    """The guard's verdict for a turn about a product the catalog lacks: answered with a grounded "we don't carry
    X" and the closest real products, decided from the catalog (`verify.asked`) and never by the model, which
    would describe the nearest retrieved bottle as if it were the one asked for."""
    missing = context.missing  # set by `retrieve` from the catalog (`verify.asked`)
    if missing is None:
        return None
    return {"kind": "unknown_product", "score": 1.0, "action": "answered_directly", "source": "catalog",
            "matched": missing}


def _user_turns(user: str, history: Sequence[Message]) -> list[str]:
    return [m["content"] for m in history if m.get("role") == "user"] + [user]


def _wants_gguf(engine) -> bool:
    """True for the llama.cpp engine (also behind a wrapper with `.inner`), which loads GGUF LoRA files."""
    inner = getattr(engine, "inner", engine)
    return type(inner).__module__ == "domainlm.engines.llamacpp"


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _deterministic(params: GenerationParams) -> bool:
    """Only answers that would come out the same again are cached (greedy, or sampled with a seed)."""
    return params.temperature == 0 or params.seed is not None


def _last_sentence_end(text: str) -> int:
    """Index just after the last complete sentence in `text` (0 when there is none yet)."""
    best = 0
    for i, ch in enumerate(text):
        if ch in ".!?\n" and i + 1 < len(text) and text[i + 1].isspace():
            best = i + 1
    return best


def _open_retriever(project: ProjectConfig, catalog: Catalog, sections, embedder):
    """The persisted index when it exists and matches the catalog, knowledge and embedder; else one in memory."""
    from domainlm.retrieval import Retriever

    try:
        retriever = Retriever.open(project, catalog, list(sections), embedder=embedder)
        if retriever.state.embedder_name == project.retrieval.embedder:
            return retriever, None
        why = f"the index was built with embedder {retriever.state.embedder_name!r}"
    except DomainlmError as exc:  # no index yet, or stale: serve from memory until `domainlm index build|update`
        why = str(exc).split(". ")[0]
    note = f"retrieval runs on an in-memory index ({why}); `domainlm index build` persists one"
    return Retriever.in_memory(catalog, list(sections), embedder=embedder, config=project.retrieval), note


def _refresh_retriever(project: ProjectConfig, retriever, catalog: Catalog, sections, embedder):
    """A retriever over the new catalog: the persisted index updated when the old one was persisted."""
    from domainlm.retrieval import Retriever, update_index

    if getattr(retriever, "manifest", None):
        update_index(project, catalog, list(sections), embedder=embedder)
        return Retriever.open(project, catalog, list(sections), embedder=embedder)
    return Retriever.in_memory(catalog, list(sections), embedder=embedder or retriever.embedder,
                               config=project.retrieval)


def _adapter_folders(project: ProjectConfig, adapters) -> dict[str, Path]:
    if isinstance(adapters, dict):
        return {name: adapter_dir(path) for name, path in adapters.items()}
    found = latest_runs(project)
    if adapters is None:
        return found
    missing = [n for n in adapters if n not in found]
    if missing:
        raise AdapterError(f"no finished run for adapter(s) {', '.join(missing)} under {project.path('runs')}; "
                           f"train with `domainlm train --adapter NAME`.")
    return {n: found[n] for n in adapters}


def _auto_engine() -> str:
    """`serve.backend: auto`: llama.cpp on a CPU-only machine when llama-cpp-python is installed, else transformers."""
    import torch

    from domainlm.engines.llamacpp import llama_cpp_available

    return "llamacpp" if llama_cpp_available() and not torch.cuda.is_available() else "transformers"


def _load_engine(project: ProjectConfig, engine: str, folders: dict[str, Path]):
    """The base model once, with every adapter. Engines other than transformers and llama.cpp are built by their
    registered class's `from_project(project, adapters)`; "auto" follows `serve.backend`."""
    from domainlm.export.errors import ExportError
    from domainlm.generate import ENGINES

    kind = project.serve.backend if engine == "auto" else engine
    auto = kind == "auto"
    if auto:
        kind = _auto_engine()
    if kind == "llamacpp":
        import domainlm.engines.llamacpp  # noqa: F401  registers the engine
        from domainlm.adapters import gguf_files
        from domainlm.models.base import load_tokenizer

        try:
            base, lora = gguf_files(project, folders)
        except ExportError:
            if not auto:
                raise
            kind = "transformers"  # e.g. a DoRA adapter, which has no GGUF form
        else:
            return ENGINES.get("llamacpp")(base, load_tokenizer(project.base_model, project.root), lora)
    if kind == "transformers":
        from domainlm.models.base import load_base_model

        model, tokenizer = load_base_model(project.base_model, project.root)
        return ENGINES.get("transformers")(model, tokenizer, adapters=folders)
    cls = ENGINES.get(kind)
    factory = getattr(cls, "from_project", None)
    if factory is not None:
        return factory(project, folders)
    if kind == "vllm":  # the vLLM engine serves the adapters itself; it needs only the server URL
        return cls(project.serve.vllm_url, base_model=project.base_model)
    raise DomainlmError(f"engine {kind!r} has no `from_project(project, adapters)`; the Assistant cannot build it.")
