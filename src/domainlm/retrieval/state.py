"""The searchable state of an index, in memory: slots, filter columns, BM25, vectors and passages.

A slot is a product's row in the index. Slots are appended and never reused: a product whose text
changes gets a new slot and its old slot is marked dead, so vectors never have to be rewritten in place.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from domainlm.catalog.product import Catalog, Product
from domainlm.knowledge import KnowledgeSection
from domainlm.retrieval.embed import Embedder
from domainlm.retrieval.filters import FilterColumns
from domainlm.retrieval.lexical import Lexical
from domainlm.retrieval.matcher import NameMatcher
from domainlm.retrieval.stores.base import VectorStore
from domainlm.retrieval.text import passage_text, product_lexical_text, product_text

# progress(stage, done, total): called as work advances, e.g. ("embed products", 1024, 100000).
Progress = Callable[[str, int, int], None]


def knowledge_version(sections: list[KnowledgeSection]) -> str:
    digest = hashlib.sha256()
    for s in sections:
        digest.update(f"{s.id}:{s.content_hash()}\n".encode())
    return digest.hexdigest()[:16]


@dataclass
class IndexState:
    slot_ids: list[str | None]
    text_hash: list[str | None]
    content_hash: list[str | None]
    columns: FilterColumns
    lexical: Lexical
    store: VectorStore
    passages: list[KnowledgeSection]
    passage_vectors: np.ndarray  # [n_passages, dim] float32, unit length
    catalog_version: str
    knowledge_version: str
    embedder_name: str
    dim: int
    names: list[str | None] = field(default_factory=list)
    _matcher: NameMatcher | None = None
    _passage_lexical: Lexical | None = None

    @property
    def n_slots(self) -> int:
        return len(self.slot_ids)

    @property
    def n_live(self) -> int:
        return int(self.columns.alive.sum())

    @property
    def matcher(self) -> NameMatcher:
        if self._matcher is None:
            self._matcher = NameMatcher(self.slot_ids, self.names)
        return self._matcher

    @property
    def passage_lexical(self) -> Lexical:
        if self._passage_lexical is None:
            self._passage_lexical = Lexical.build([passage_text(s) for s in self.passages])
        return self._passage_lexical

    def slot_of(self) -> dict[str, int]:
        return {pid: i for i, pid in enumerate(self.slot_ids) if pid is not None}


EMBED_CHUNK = 8192  # product texts made and embedded at a time


def embed_products(embedder: Embedder, products: list[Product], progress: Progress | None) -> np.ndarray:
    """Unit vectors [len(products), dim] as float16, which is what every store keeps (the embedded store's files
    and fp16 indexes): half the memory of float32 while a large build holds them all (768 MB at a million
    products, dim 384). Texts are made chunk by chunk, so the build never holds every product's text either."""
    total = len(products)
    out = np.empty((total, embedder.dim), np.float16)
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("embed products", done, total)

    if progress:
        progress("embed products", 0, total)
    for start in range(0, total, EMBED_CHUNK):
        chunk = products[start:start + EMBED_CHUNK]
        out[start:start + len(chunk)] = embedder.encode([product_text(p) for p in chunk], progress=tick)
    return out


def embed_passages(embedder: Embedder, sections: list[KnowledgeSection]) -> np.ndarray:
    if not sections:
        return np.zeros((0, embedder.dim), np.float32)
    return np.asarray(embedder.encode([passage_text(s) for s in sections]), np.float32)


def assemble(catalog: Catalog, sections: list[KnowledgeSection], embedder: Embedder, store: VectorStore,
             progress: Progress | None = None, vectors: np.ndarray | None = None) -> IndexState:
    """Index every product of `catalog` into a fresh `store` (slots 0..n-1) and the passages.

    `vectors` [n, dim] may be given (benchmarks with cached embeddings); otherwise products are embedded.
    """
    products = list(catalog)
    if vectors is None:
        vectors = embed_products(embedder, products, progress)
    n = len(products)
    if progress:
        progress("store vectors", 0, n)
    store.add(np.arange(n, dtype=np.int64), vectors)
    del vectors  # the store has its own copy (768 MB at a million products): gone before BM25 is built
    if progress:
        progress("store vectors", n, n)
        progress("lexical index", 0, n)
    columns = FilterColumns.empty()
    columns.append(products)
    lexical = Lexical.build(product_lexical_text(p) for p in products)
    if progress:
        progress("lexical index", n, n)
    return IndexState(
        slot_ids=[p.id for p in products],
        text_hash=[p.text_hash() for p in products],
        content_hash=[p.content_hash() for p in products],
        columns=columns,
        lexical=lexical,
        store=store,
        passages=list(sections),
        passage_vectors=embed_passages(embedder, sections),
        catalog_version=catalog.version,
        knowledge_version=knowledge_version(sections),
        embedder_name=getattr(embedder, "name", "custom"),
        dim=int(embedder.dim),
        names=[p.name for p in products],
    )


@dataclass
class UpdateStats:
    """What `update_index` did, by product id and content hash."""

    added: int = 0
    changed: int = 0  # text changed: re-embedded into a new slot
    volatile: int = 0  # only price or stock changed: columns refreshed, not re-embedded
    deleted: int = 0
    unchanged: int = 0
    embedded: int = 0  # product texts sent to the embedder
    passages_embedded: int = 0
    catalog_version: str = ""
    seconds: float = 0.0
    current: bool = False  # the index was already built from this catalog and knowledge: nothing written

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def apply_update(state: IndexState, catalog: Catalog, sections: list[KnowledgeSection], embedder: Embedder,
                 store: VectorStore, progress: Progress | None = None) -> tuple[IndexState, UpdateStats, np.ndarray]:
    """A new state with `catalog`'s changes applied on top of `state`, writing new vectors into `store`.

    Returns (new state, stats, slots that died). Only added products and products whose text changed are
    embedded; a price or stock change only refreshes the filter columns.
    """
    stats = UpdateStats(catalog_version=catalog.version)
    slot_of = state.slot_of()
    columns = FilterColumns(
        price_cents=state.columns.price_cents.copy(), category=state.columns.category.copy(),
        in_stock=state.columns.in_stock.copy(), numeric={k: v.copy() for k, v in state.columns.numeric.items()},
        alive=state.columns.alive.copy(), categories=list(state.columns.categories),
    )
    slot_ids, text_hash, content_hash = list(state.slot_ids), list(state.text_hash), list(state.content_hash)
    names = list(state.names)
    to_embed: list[Product] = []
    died: list[int] = []
    for product in catalog:
        slot = slot_of.pop(product.id, None)
        if slot is None:
            to_embed.append(product)
            stats.added += 1
        elif text_hash[slot] != product.text_hash():
            to_embed.append(product)
            died.append(slot)
            stats.changed += 1
        elif content_hash[slot] != product.content_hash():
            columns.set_volatile(slot, product)
            content_hash[slot] = product.content_hash()
            stats.volatile += 1
        else:
            stats.unchanged += 1
    died.extend(slot_of.values())  # ids no longer in the catalog
    stats.deleted = len(slot_of)
    for slot in died:
        columns.alive[slot] = False
        slot_ids[slot] = text_hash[slot] = content_hash[slot] = names[slot] = None
    vectors = embed_products(embedder, to_embed, progress)
    stats.embedded = len(to_embed)
    new_slots = np.arange(len(slot_ids), len(slot_ids) + len(to_embed), dtype=np.int64)
    store.add(new_slots, vectors)
    columns.append(to_embed)
    for p in to_embed:
        slot_ids.append(p.id)
        text_hash.append(p.text_hash())
        content_hash.append(p.content_hash())
        names.append(p.name)
    if progress:
        progress("lexical index", 0, len(slot_ids))
    lexical = Lexical.build(product_lexical_text(catalog.get(pid)) if pid is not None else "" for pid in slot_ids)
    if progress:
        progress("lexical index", len(slot_ids), len(slot_ids))
    # Passages: re-embed only sections whose content changed.
    old = {s.content_hash(): v for s, v in zip(state.passages, state.passage_vectors)}
    fresh = [s for s in sections if s.content_hash() not in old]
    fresh_vectors = dict(zip((s.content_hash() for s in fresh), embed_passages(embedder, fresh)))
    stats.passages_embedded = len(fresh)
    passage_vectors = np.array([old.get(s.content_hash(), fresh_vectors.get(s.content_hash())) for s in sections],
                               np.float32).reshape(len(sections), state.dim)
    new = IndexState(
        slot_ids=slot_ids, text_hash=text_hash, content_hash=content_hash, columns=columns, lexical=lexical,
        store=store, passages=list(sections), passage_vectors=passage_vectors, catalog_version=catalog.version,
        knowledge_version=knowledge_version(sections), embedder_name=state.embedder_name, dim=state.dim, names=names,
    )
    return new, stats, np.array(died, np.int64)


def _nan_to_none(x: float) -> float | None:
    return None if math.isnan(x) else x


__all__ = ["IndexState", "UpdateStats", "apply_update", "assemble", "knowledge_version", "Progress", "Path"]
