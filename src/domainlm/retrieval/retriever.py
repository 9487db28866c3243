"""Hybrid retrieval: BM25 + dense (MiniLM) fused by reciprocal rank fusion, a name/id matcher that puts
a named product first, and exact structured filters (from the caller or the query understander).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from domainlm.catalog.product import Catalog, Product
from domainlm.config import ProjectConfig, RetrievalConfig
from domainlm.knowledge import KnowledgeSection
from domainlm.prompt import Context
from domainlm.retrieval.embed import Embedder, get_embedder
from domainlm.retrieval.errors import IndexStaleError
from domainlm.retrieval.filters import Filters
from domainlm.retrieval.state import IndexState, assemble, knowledge_version
from domainlm.retrieval.stores import STORES
from domainlm.retrieval.text import normalize_name
from domainlm.retrieval.understand import QueryUnderstander

# Candidates each ranker hands to fusion (at least 4 x top_k).
CANDIDATES = 100
# A knowledge passage is returned only when its cosine similarity to the question reaches this.
PASSAGE_MIN_SCORE = 0.3


@dataclass
class RetrievalResult:
    """Products (best first, filters applied exactly) and knowledge passages for one query."""

    query: str
    products: list[Product]
    passages: list[KnowledgeSection]
    scores: list[float]  # one per product: fused RRF score; a named product scores 1.0 + its match share
    passage_scores: list[float] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)
    named: Product | None = None  # the product the query names (by id or name), when one does

    def context(self) -> Context:
        return Context(products=list(self.products), passages=list(self.passages))

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.products]


class Retriever:
    """Searches one index state against the catalog it was built from."""

    def __init__(self, state: IndexState, catalog: Catalog, embedder: Embedder,
                 config: RetrievalConfig | None = None, manifest: dict[str, Any] | None = None):
        self.state = state
        self.catalog = catalog
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        self.manifest = manifest or {}
        numeric = {label: _unit_of(catalog, label) for label in state.columns.numeric_labels()}
        self.understander = QueryUnderstander(state.columns.categories, numeric, catalog.currency)

    # ---- construction
    @classmethod
    def open(cls, project: ProjectConfig, catalog: Catalog | None = None,
             sections: list[KnowledgeSection] | None = None, embedder: "str | Embedder | None" = None) -> "Retriever":
        """The persisted index under `project.path("index")`; raises if missing, stale or corrupt.

        `catalog` defaults to loading the project's catalog; it must be the version the index was built
        from (else IndexStaleError naming `domainlm index update`). `sections`, when given, are checked too.
        """
        from domainlm.retrieval.index import load_state

        state, manifest = load_state(project)
        if catalog is None:
            from domainlm.catalog import load_catalog

            catalog = load_catalog(project.catalog, project.root)
        if catalog.version != state.catalog_version:
            raise IndexStaleError(
                f"{project.path('index')}: the index was built from catalog version {state.catalog_version}, "
                f"the catalog is now {catalog.version}. Run `domainlm index update` to apply the changes.")
        if sections is not None and knowledge_version(sections) != state.knowledge_version:
            raise IndexStaleError(f"{project.path('index')}: the knowledge documents changed since the index was "
                                  f"built. Run `domainlm index update`.")
        if project.retrieval.embedder != state.embedder_name and embedder is None:
            raise IndexStaleError(f"{project.path('index')}: built with embedder {state.embedder_name!r}, the project "
                                  f"now says {project.retrieval.embedder!r}. Run `domainlm index build`.")
        return cls(state, catalog, get_embedder(embedder or state.embedder_name, project.root), project.retrieval,
                   manifest)

    @classmethod
    def in_memory(cls, catalog: Catalog, sections: list[KnowledgeSection] | None = None,
                  embedder: "str | Embedder" = "minilm", config: RetrievalConfig | None = None,
                  store: str = "embedded", store_options: dict[str, Any] | None = None) -> "Retriever":
        """Index `catalog` in memory, no files (tests and small tools); `store` picks a registered store."""
        emb = get_embedder(embedder)
        options = {"uri": (config.uri if config else None), **(store_options or {})}
        if store == "milvus" and not options["uri"]:
            options["uri"] = str(Path(tempfile.mkdtemp(prefix="domainlm-mem-")) / "milvus.db")
        folder = Path(tempfile.gettempdir()) / "domainlm-mem" / "builds" / "mem" / "dense"  # never written
        vector_store = STORES.get(store).create(folder, emb.dim, options)
        state = assemble(catalog, list(sections or []), emb, vector_store)
        return cls(state, catalog, emb, config)

    @property
    def catalog_version(self) -> str:
        return self.state.catalog_version

    # ---- search
    def search(self, query: str, top_k: int | None = None, filters: Filters | None = None,
               understand: bool = True) -> RetrievalResult:
        """Best products and passages for one question.

        `filters=None` lets the query understander read filters from the question ("under $20", "reds");
        given filters are applied as they are. Filters are exact: a product that fails one never appears.
        """
        return self.search_many([query], top_k=top_k, filters=filters, understand=understand)[0]

    def search_many(self, queries: list[str], top_k: int | None = None,
                    filters: "Filters | list[Filters | None] | None" = None, understand: bool = True
                    ) -> list[RetrievalResult]:
        """`search` for many queries, embedding them in one batch (the data builder's path)."""
        if not queries:
            return []
        top_k = top_k or self.config.top_k
        per_query = filters if isinstance(filters, list) else [filters] * len(queries)
        if len(per_query) != len(queries):
            raise ValueError(f"{len(per_query)} filters for {len(queries)} queries")
        vectors = np.asarray(self.embedder.encode(list(queries)), np.float32)
        plans = []
        for query, given in zip(queries, per_query):
            if given is None and understand:
                plans.append(self._understand(query))
            else:
                plans.append((given or Filters(), query, False))
        masks = [self._mask(f) for f, _, _ in plans]
        n_cand = max(CANDIDATES, 4 * top_k)
        dense_ids = [None] * len(queries)
        unmasked = [i for i, m in enumerate(masks) if m is None]
        if unmasked:
            ids, _ = self.state.store.search(vectors[unmasked], n_cand)
            for i, row in zip(unmasked, ids):
                dense_ids[i] = row
        for i, m in enumerate(masks):
            if m is not None:
                dense_ids[i] = self.state.store.search(vectors[i:i + 1], n_cand, m)[0][0]
        return [self._finish(q, vectors[i], *plans[i], masks[i], dense_ids[i], top_k, n_cand)
                for i, q in enumerate(queries)]

    def _understand(self, query: str) -> tuple[Filters, str, bool]:
        """Filters read from the question; a category word that is part of a named product's name
        ("Laurent-Perrier Brut Rosé", "Port Ellister 16") is a name, not a filter."""
        u = self.understander.parse(query)
        filters = u.filters
        if filters.category is not None and u.category_phrase:
            named = self.state.matcher.match(query, allowed=self._mask(Filters()))
            if named is not None:
                name = normalize_name(self.state.names[named[0]] or "")
                if normalize_name(u.category_phrase) in name.split() or normalize_name(u.category_phrase) in name:
                    filters = replace(filters, category=None)
        return filters, u.rest or query, True

    def _mask(self, filters: Filters) -> np.ndarray | None:
        cols = self.state.columns
        if filters:
            return filters.mask(cols)
        if not cols.alive.all():
            return cols.alive
        return None

    def _finish(self, query: str, vector: np.ndarray, filters: Filters, text: str, understood: bool,
                mask: np.ndarray | None, dense: np.ndarray, top_k: int, n_cand: int) -> RetrievalResult:
        cfg = self.config
        lex, _ = self.state.lexical.top(text, n_cand, mask)
        dense = dense[dense >= 0]
        fused: dict[int, float] = {}
        for weight, ranking in ((cfg.lexical_weight, lex), (cfg.dense_weight, dense)):
            for rank, slot in enumerate(ranking.tolist()):
                fused[slot] = fused.get(slot, 0.0) + weight / (cfg.rrf_k + rank + 1)
        # A product the question names comes first. Filters the understander read from the question do
        # not hide it ("is Lagavulin 16 under $50?" is about Lagavulin); filters a caller passes do.
        name_mask = self._mask(Filters()) if understood else mask
        named = self.state.matcher.match(query, candidates=np.concatenate([lex, dense]), allowed=name_mask)
        order = sorted(fused, key=lambda s: (-fused[s], s))
        scores = [fused[s] for s in order]
        if named is not None:
            slot, match_score = named
            if slot in fused:
                i = order.index(slot)
                del order[i], scores[i]
            order.insert(0, slot)
            scores.insert(0, 1.0 + match_score / 100.0)
        products, kept = [], []
        for slot, score in zip(order, scores):
            pid = self.state.slot_ids[slot]
            product = self.catalog.get(pid) if pid is not None else None
            if product is None:
                continue
            products.append(product)
            kept.append(score)
            if len(products) == top_k:
                break
        passages, passage_scores = self._passages(text, vector)
        named_product = self.catalog.get(self.state.slot_ids[named[0]]) if named else None
        return RetrievalResult(query, products, passages, kept, passage_scores, filters, named_product)

    def _passages(self, text: str, vector: np.ndarray) -> tuple[list[KnowledgeSection], list[float]]:
        state = self.state
        k = self.config.knowledge_top_k
        if not state.passages or k <= 0:
            return [], []
        cosine = state.passage_vectors @ vector
        dense = np.argsort(-cosine, kind="stable")
        lex, _ = state.passage_lexical.top(text, len(state.passages))
        fused: dict[int, float] = {}
        for weight, ranking in ((self.config.lexical_weight, lex), (self.config.dense_weight, dense)):
            for rank, i in enumerate(ranking.tolist()):
                fused[i] = fused.get(i, 0.0) + weight / (self.config.rrf_k + rank + 1)
        order = [i for i in sorted(fused, key=lambda i: (-fused[i], i)) if cosine[i] >= PASSAGE_MIN_SCORE][:k]
        return [state.passages[i] for i in order], [float(fused[i]) for i in order]


def _unit_of(catalog: Catalog, label: str) -> str | None:
    for product in catalog:
        attr = product.attribute(label)
        if attr is not None:
            return attr.unit
    return None
