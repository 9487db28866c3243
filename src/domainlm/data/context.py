"""Where sample contexts come from: the real retriever (what serving sends), or the focus products alone.

The build takes a `RetrieveMany` callable so tests and tools can inject their own; `open_retrieval`
wires the real one: the persisted index when it is up to date, else an in-memory index.
"""

from __future__ import annotations

from typing import Callable

from domainlm.catalog.product import Catalog
from domainlm.config import ProjectConfig
from domainlm.knowledge import KnowledgeSection
from domainlm.prompt import Context

RetrieveMany = Callable[[list[str]], list[Context]]


def open_retrieval(project: ProjectConfig, catalog: Catalog, sections: list[KnowledgeSection]) -> tuple[RetrieveMany, str]:
    """(retrieve_many, a line saying which index answers): the persisted index under `index/` when it
    matches this catalog and these documents, else an index built in memory for this run."""
    from domainlm.retrieval import IndexCorruptError, IndexMissingError, IndexStaleError, Retriever

    try:
        retriever = Retriever.open(project, catalog, sections)
        how = f"persisted index {project.path('index')}"
    except (IndexMissingError, IndexStaleError, IndexCorruptError) as exc:
        reason = str(exc).split(". ")[0].split(": ", 1)[-1]
        retriever = Retriever.in_memory(catalog, sections, embedder=project.retrieval.embedder, config=project.retrieval)
        how = f"in-memory index built for this run ({reason}); `domainlm index build` makes later builds faster"
    from domainlm.verify.asked import UnknownProductCheck, context_with_missing

    top_k = project.retrieval.top_k
    unknown = UnknownProductCheck(catalog)

    def retrieve_many(queries: list[str]) -> list[Context]:
        results = retriever.search_many(queries, top_k=top_k)
        return [context_with_missing(r, q, unknown, project.brand.competitors) for q, r in zip(queries, results)]

    return retrieve_many, how
