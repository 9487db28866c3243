"""Build and update the persisted index of a project (`domainlm index build|update`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from domainlm.catalog.product import Catalog
from domainlm.config import ProjectConfig
from domainlm.knowledge import KnowledgeSection
from domainlm.retrieval import persist
from domainlm.retrieval.embed import Embedder, get_embedder
from domainlm.retrieval.errors import IndexMissingError
from domainlm.retrieval.state import IndexState, Progress, UpdateStats, apply_update, assemble, knowledge_version
from domainlm.retrieval.stores import STORES


@dataclass
class IndexInfo:
    """What `build_index` wrote."""

    path: Path  # the build folder
    build_id: str
    catalog_version: str
    products: int
    passages: int
    store: str
    embedder: str
    bytes: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in self.__dict__.items()}


def store_options(project: ProjectConfig) -> dict[str, Any]:
    return {"uri": project.retrieval.uri, "ef_search": project.retrieval.ef_search, "nprobe": project.retrieval.nprobe}


def build_index(project: ProjectConfig, catalog: Catalog, sections: list[KnowledgeSection],
                embedder: "str | Embedder | None" = None, progress: Progress | None = None,
                vectors: np.ndarray | None = None) -> IndexInfo:
    """Index every product and passage into a new build folder, then swap it in.

    `vectors` [n, dim] replaces embedding (benchmarks with cached vectors); `embedder` defaults to
    `retrieval.embedder`.
    """
    started = time.perf_counter()
    index_dir = project.path("index")
    emb = get_embedder(embedder or project.retrieval.embedder, project.root)
    store_cls = STORES.get(project.retrieval.store)
    build_id, tmp = persist.new_build_dir(index_dir)
    with persist.discard_on_error(tmp):
        store = store_cls.create(tmp / "dense", emb.dim, store_options(project))
        state = assemble(catalog, sections, emb, store, progress, vectors=vectors)
        if progress:
            progress("write files", 0, 1)
        info = store.save(tmp / "dense")
        if isinstance(embedder, (str, type(None))):
            state.embedder_name = project.retrieval.embedder
        persist.write_state(state, tmp, store_cls.name, info)
    final = persist.swap(index_dir, tmp)
    _cleanup(index_dir, project)
    if progress:
        progress("write files", 1, 1)
    return IndexInfo(final, build_id, catalog.version, len(catalog), len(sections), store_cls.name,
                     state.embedder_name, persist.dir_bytes(final), time.perf_counter() - started)


def load_state(project: ProjectConfig, verify: bool = True) -> tuple[IndexState, dict[str, Any]]:
    folder = persist.current_build(project.path("index"))
    return persist.read_state(folder, store_options(project), verify=verify)


def update_index(project: ProjectConfig, catalog: Catalog, sections: list[KnowledgeSection],
                 embedder: "str | Embedder | None" = None, progress: Progress | None = None) -> UpdateStats:
    """Apply added, changed and deleted products (by id and content hash) without a rebuild.

    Only products whose embedded text changed are re-embedded; price and stock changes refresh the
    filter columns. The result is written as a new build and swapped in; when neither the catalog nor
    the knowledge changed, nothing is written (`stats.current` is True), so a frequent cron job does not
    churn builds. With no index yet, raises IndexMissingError naming `domainlm index build`.
    """
    started = time.perf_counter()
    index_dir = project.path("index")
    try:
        old, manifest = load_state(project)
    except IndexMissingError:
        raise IndexMissingError(f"{index_dir}: no index to update yet. Build it with `domainlm index build`.") from None
    if (manifest.get("catalog_version") == catalog.version
            and manifest.get("knowledge_version") == knowledge_version(sections)):
        old.store.close()
        return UpdateStats(unchanged=old.n_live, catalog_version=catalog.version, current=True,
                           seconds=time.perf_counter() - started)
    emb = get_embedder(embedder or old.embedder_name, project.root)
    build_id, tmp = persist.new_build_dir(index_dir)
    with persist.discard_on_error(tmp):
        store = old.store.derive(tmp / "dense")
        new, stats, died = apply_update(old, catalog, sections, emb, store, progress)
        info = store.save(tmp / "dense")
        persist.write_state(new, tmp, manifest["store"]["name"], info)
    persist.swap(index_dir, tmp)
    store.purge(died)
    _cleanup(index_dir, project)
    stats.seconds = time.perf_counter() - started
    return stats


def _cleanup(index_dir: Path, project: ProjectConfig) -> None:
    """Remove builds older than the last two; drop server collections no kept build refers to."""
    builds = index_dir / "builds"
    kept = [p for p in builds.iterdir() if p.is_dir() and not p.name.endswith(".tmp")]
    removed = persist.old_builds(index_dir)
    kept = [p for p in kept if p not in removed]
    collections_kept = set()
    for folder in kept:
        try:
            store = persist.read_manifest(folder)["store"]
        except Exception:  # an unreadable old build only keeps nothing alive
            continue
        collections_kept.add(store.get("collection"))
    for folder in removed:
        try:
            store = persist.read_manifest(folder)["store"]
        except Exception:
            store = {}
        if store.get("name") == "milvus" and store.get("collection") not in collections_kept:
            from domainlm.retrieval.stores.milvus import MilvusStore

            uri = project.retrieval.uri or MilvusStore.resolve_uri(folder / "dense", {})
            MilvusStore(uri, store["collection"], int(store["dim"])).drop()
        persist.remove_build(folder)
