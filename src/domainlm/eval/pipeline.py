"""The pipelines eval measures, all built from the same Assistant that serving runs.

    system       guard -> retrieval -> adapter -> verifier   (what users get)
    model        retrieval -> adapter                        (the adapter alone, with RAG)
    model_norag  adapter                                     (what RAG adds, by difference)

The tuned adapter is loaded as `tuned`, a baseline run's adapter as `baseline`; the base model is the
pseudo-adapter `base`. All levels share one engine, so base weights are loaded once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from domainlm.assistant import Assistant
from domainlm.config import ProjectConfig
from domainlm.generate import GenerationParams

LEVELS = ("system", "model", "model_norag")
BASE = "base"  # the adapter name that means the base model with adapters disabled


@dataclass
class Reply:
    text: str
    shown: list[str]  # product ids retrieval put into the prompt
    extra: dict = field(default_factory=dict)  # guard verdict, verifier actions, cache hit, catalog version


def _jsonable(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "as_dict"):
        return _jsonable(value.as_dict())
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return _jsonable(asdict(value))
    return str(value)


class Pipelines:
    """One Assistant per level over one shared engine.

    The model levels are the same Assistant with the guard off, the verifier in `annotate` mode (it records
    what it would fix but changes nothing, so the text is the model's own) and no answer cache.
    """

    def __init__(self, system: Assistant, notes: list[str] | None = None, concurrency: int = 1):
        from domainlm.cache import AnswerCache
        from domainlm.serve.batching import batchable, for_serving

        # Questions asked at once: a transformers engine batches them; llama.cpp answers one at a time.
        self.concurrency = concurrency if concurrency > 1 and batchable(system.engine) else 1
        if self.concurrency > 1:
            system.engine = for_serving(system.engine, self.concurrency, batch_wait_ms=20.0)
        self.system = system
        self.notes = notes or []
        state = system._state
        common = dict(catalog=state.catalog, sections=state.sections, guard=None, verifier_mode="annotate",
                      embedder=system.embedder, default_adapter=system.default_adapter)
        self.model = Assistant(system.project, system.engine, state.retriever, cache=AnswerCache(0), **common)
        self.model_norag = Assistant(system.project, system.engine, None, cache=AnswerCache(0), **common)
        self.stages = {"guard": system.guard is not None, "retrieval": state.retriever is not None,
                       "verifier": system.verifier_mode, "cache": system.cache.maxsize > 0}

    @property
    def engine(self):
        return self.system.engine

    def close(self) -> None:
        """Stop the batcher's scheduler thread, when questions were batched (the engine stays usable)."""
        from domainlm.serve.batching import BatchingEngine

        if isinstance(self.system.engine, BatchingEngine):
            self.system.engine.close()

    def answer(self, level: str, user: str, history, params: GenerationParams, adapter: str) -> Reply:
        assistant = getattr(self, level)
        answer = assistant.answer(user, history=history, params=params, adapter=adapter)
        extra = {name: _jsonable(getattr(answer, name, None))
                 for name in ("guard", "verifier", "cache_hit", "finish_reason") if getattr(answer, name, None) is not None}
        return Reply(answer.text, [p.id for p in answer.context.products], extra)

    def plain(self, messages, params: GenerationParams, adapter: str) -> str:
        """Generation with no system prompt and no retrieval (the forgetting set)."""
        return self.system.generate_plain(messages, params, adapter)


def open_pipelines(project: ProjectConfig, adapters: dict[str, Path], engine: str = "auto",
                   retriever=None, transformers_model=None, concurrency: int = 1) -> Pipelines:
    """The pipelines for a project with `adapters` ({"tuned": folder, "baseline": folder}) loaded.

    `Assistant.from_project` loads the guard, retrieval, verifier and the configured engine, exactly as
    serving does. `transformers_model` = (model, tokenizer) and `retriever` replace the loaded ones (tests
    pass a tiny model and a stub retriever); the guard is then off.
    """
    if transformers_model is None:
        system = Assistant.from_project(project, engine=engine, adapters={k: str(v) for k, v in adapters.items()})
        if retriever is not None:
            system._state = replace(system._state, retriever=retriever)
        return Pipelines(system, concurrency=concurrency)
    from domainlm.generate import TransformersEngine

    model, tokenizer = transformers_model
    if retriever is None:
        retriever = _retriever(project)
    eng = TransformersEngine(model, tokenizer, adapters=adapters)
    system = Assistant(project, eng, retriever, catalog=getattr(retriever, "catalog", None), default_adapter="tuned")
    return Pipelines(system, ["guard off: the evaluation was given its own model"], concurrency)


def _retriever(project: ProjectConfig):
    from domainlm.catalog import load_catalog
    from domainlm.errors import DomainlmError
    from domainlm.knowledge import load_knowledge
    from domainlm.retrieval import Retriever

    try:
        return Retriever.open(project)
    except DomainlmError:
        catalog = load_catalog(project.catalog, project.root)
        return Retriever.in_memory(catalog, load_knowledge(project.knowledge, project.root),
                                   embedder=project.retrieval.embedder)
