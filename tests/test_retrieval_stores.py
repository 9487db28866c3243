"""The vector stores: milvus (on milvus-lite) gives the same results as the embedded store."""

from __future__ import annotations

import time

import pytest

from domainlm.catalog import load_catalog
from domainlm.config import load_project
from domainlm.knowledge import load_knowledge
from domainlm.retrieval import Filters, Retriever, StoreError, build_index, update_index
from domainlm.retrieval.embed import get_embedder

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

QUERIES = ["peaty islay whisky", "crisp white with lime", "bubbles for a party", "lagavuln 16", "gin under $40",
           "a dry red under $20 from Spain", "W-0002", "something to go with steak"]


def _load(root, overrides=()):
    project = load_project(root, list(overrides))
    return project, load_catalog(project.catalog, project.root), load_knowledge(project.knowledge, project.root)


@pytest.mark.slow
def test_milvus_lite_agrees_with_embedded(small_project, tmp_path):
    minilm = get_embedder("minilm")
    project, catalog, sections = _load(small_project)
    embedded = Retriever.in_memory(catalog, sections, embedder=minilm)
    milvus = Retriever.in_memory(catalog, sections, embedder=minilm, store="milvus",
                                 store_options={"uri": str(tmp_path / "mem.db")})
    for q in QUERIES:
        a, b = embedded.search(q, top_k=6), milvus.search(q, top_k=6)
        assert a.ids == b.ids, q
    f = Filters(category="Red Wine", in_stock=True)
    assert milvus.search("wine", top_k=6, filters=f).ids == embedded.search("wine", top_k=6, filters=f).ids == ["W-0001"]


@pytest.mark.slow
def test_milvus_persisted_build_and_update(small_project):
    minilm = get_embedder("minilm")
    project, catalog, sections = _load(small_project, ["retrieval.store=milvus"])
    build_index(project, catalog, sections, embedder=minilm)
    assert (small_project / "index" / "milvus.db").exists()
    r = Retriever.open(project, catalog=catalog, embedder=minilm)
    expected = Retriever.in_memory(catalog, sections, embedder=minilm)
    for q in QUERIES:
        assert r.search(q, top_k=6).ids == expected.search(q, top_k=6).ids, q
    r.state.store.close()
    csv = small_project / "catalog.csv"
    text = csv.read_text().replace("Hendrick's Gin", "Hendrick's Orbium Gin").replace("27.99", "25.99")
    csv.write_text("\n".join(line for line in text.splitlines() if not line.startswith("W-0001")) + "\n")
    project, catalog, sections = _load(small_project, ["retrieval.store=milvus"])
    stats = update_index(project, catalog, sections, embedder=minilm)
    assert (stats.changed, stats.deleted, stats.volatile, stats.embedded) == (1, 1, 1, 1)
    r = Retriever.open(project, catalog=catalog, embedder=minilm)
    expected = Retriever.in_memory(catalog, sections, embedder=minilm)
    for q in QUERIES + ["orbium", "chateau margaux"]:
        assert r.search(q, top_k=6).ids == expected.search(q, top_k=6).ids, q
    r.state.store.close()


def test_unreachable_milvus_fails_fast_with_masked_url(small_project):
    project, catalog, sections = _load(
        small_project, ["retrieval.store=milvus", "retrieval.uri=http://bob:s3cret@127.0.0.1:9"])
    started = time.perf_counter()
    with pytest.raises(StoreError) as info:
        build_index(project, catalog, sections, embedder=get_embedder("minilm"))
    message = str(info.value)
    assert "http://bob:***@127.0.0.1:9" in message and "s3cret" not in message
    assert time.perf_counter() - started < 15
    assert not any(p.name.endswith(".tmp") for p in (small_project / "index" / "builds").iterdir())
