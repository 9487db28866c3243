"""Retrieval: hybrid search, the name matcher, exact filters, the persisted index and live updates."""

from __future__ import annotations


import numpy as np
import pytest

from domainlm.catalog import load_catalog
from domainlm.config import load_project
from domainlm.knowledge import load_knowledge
from domainlm.retrieval import (
    Filters, IndexCorruptError, IndexMissingError, IndexStaleError, Retriever, build_index, update_index,
)
from domainlm.retrieval.embed import get_embedder
from domainlm.retrieval.understand import QueryUnderstander


class CountingEmbedder:
    """The real MiniLM embedder, counting the texts it is asked to embed."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.texts: list[str] = []

    def encode(self, texts, progress=None):
        self.texts.extend(texts)
        return self.inner.encode(texts, progress)


@pytest.fixture(scope="session")
def minilm():
    return get_embedder("minilm")


@pytest.fixture()
def embedder(minilm):
    return CountingEmbedder(minilm)


def _load(root):
    project = load_project(root)
    return project, load_catalog(project.catalog, project.root), load_knowledge(project.knowledge, project.root)


@pytest.fixture()
def shop(small_project):
    return _load(small_project)


@pytest.fixture(scope="module")
def retriever(tmp_path_factory, minilm):
    """One in-memory index of the 6-product shop, shared by the read-only tests."""
    from conftest import SMALL_CATALOG_CSV, SMALL_KNOWLEDGE_MD, SMALL_PROJECT_YAML

    root = tmp_path_factory.mktemp("shop")
    (root / "knowledge").mkdir()
    (root / "catalog.csv").write_text(SMALL_CATALOG_CSV)
    (root / "domainlm.yaml").write_text(SMALL_PROJECT_YAML)
    (root / "knowledge" / "policies.md").write_text(SMALL_KNOWLEDGE_MD)
    _, catalog, sections = _load(root)
    return Retriever.in_memory(catalog, sections, embedder=minilm)


@pytest.mark.parametrize("query, expected", [
    ("how much is lagavuln 16?", "S-0001"),  # typo
    ("LAGAVULIN 16 YEAR OLD", "S-0001"),  # casing
    ("do you have cloudy bay", "W-0002"),  # partial name
    ("is the hendricks gin any good", "S-0002"),  # apostrophe dropped
    ("price of w-0003", "W-0003"),  # id, other casing
    ("marques de riscal reserva in stock?", "W-0003"),  # named product is out of stock: still first
    ("moet imperial", "P-0001"),  # partial with a gap
])
def test_named_product_ranks_first(retriever, query, expected):
    res = retriever.search(query, top_k=3)
    assert res.ids[0] == expected
    assert res.named is not None and res.named.id == expected


def test_unnamed_query_names_nothing(retriever):
    res = retriever.search("something smoky for a cold evening", top_k=3)
    assert res.named is None
    assert res.ids[0] == "S-0001"  # peat smoke


def test_understood_filters_are_exact(retriever):
    res = retriever.search("a dry red under $20 from Spain", top_k=5)
    assert res.filters.price_max == 20 and res.filters.category == "Red Wine"
    assert res.ids == ["W-0003"]  # the only red at or under $20
    res = retriever.search("whiskies over $50", top_k=5)
    assert res.ids == ["S-0001"]


def test_explicit_filters_are_exact(retriever):
    catalog = retriever.catalog
    cases = [Filters(in_stock=True), Filters(price_min=30, price_max=90), Filters(ranges={"alcohol": (None, 13.0)}),
             Filters(category="red wine", in_stock=False), Filters(category="Beer")]
    for filters in cases:
        expected = {p.id for p in catalog if filters.matches(p)}
        res = retriever.search("a nice bottle", top_k=10, filters=filters)
        assert set(res.ids) == expected, filters.describe()
        # The columnar mask agrees with the per-product reference.
        mask = filters.mask(retriever.state.columns)
        assert {retriever.state.slot_ids[i] for i in np.flatnonzero(mask)} == expected


def test_understander_reads_prices_categories_and_fields():
    u = QueryUnderstander(["Red Wine", "White Wine", "Rosé Wine", "Sparkling", "Whisky"], {"alcohol": "%"})
    f = u.parse("reds between 10 and 30").filters
    assert (f.price_min, f.price_max, f.category) == (10, 30, "Red Wine")
    f = u.parse("something bubbly for $30 or less").filters
    assert (f.price_max, f.category) == (30, "Sparkling")
    f = u.parse("whiskeys over $1,000.50").filters
    assert (f.price_min, f.category) == (1000.5, "Whisky")
    f = u.parse("white wine in stock with alcohol under 12.5%").filters
    assert (f.category, f.in_stock, f.ranges, f.price_max) == ("White Wine", True, {"alcohol": (None, 12.5)}, None)
    f = u.parse("a 12 year old scotch").filters
    assert f.price_min is None and f.price_max is None
    assert not u.parse("wine for a wedding").filters  # "wine" alone is no category


def test_search_many_matches_search(retriever):
    queries = ["lagavulin", "cheap sparkling", "gin under $40", "shipping policy"]
    many = retriever.search_many(queries, top_k=4)
    for q, res in zip(queries, many):
        one = retriever.search(q, top_k=4)
        assert res.ids == one.ids and res.filters == one.filters


def test_passages_and_context(retriever):
    res = retriever.search("how long do returns take for corked bottles?", top_k=2)
    assert res.passages and res.passages[0].headings[-1] == "Returns"
    ctx = res.context()
    assert ctx.products == res.products and ctx.passages == res.passages


def test_build_open_and_update(small_project, shop, embedder):
    project, catalog, sections = shop
    info = build_index(project, catalog, sections, embedder=embedder)
    assert info.catalog_version == catalog.version and info.products == 6
    assert len(embedder.texts) == 6 + len(sections)
    index_dir = small_project / "index"
    assert (index_dir / "CURRENT").read_text().strip() == info.path.name
    r = Retriever.open(project, embedder=embedder)
    assert r.catalog_version == catalog.version
    assert r.search("lagavuln", top_k=1).ids == ["S-0001"]

    # A price-only change: nothing is re-embedded, and filters see the new price.
    csv = small_project / "catalog.csv"
    csv.write_text(csv.read_text().replace("Lagavulin 16 Year Old,Whisky,89.99", "Lagavulin 16 Year Old,Whisky,45.00"))
    project, catalog, sections = _load(small_project)
    with pytest.raises(IndexStaleError, match="domainlm index update"):
        Retriever.open(project, catalog=catalog, embedder=embedder)
    embedder.texts.clear()
    stats = update_index(project, catalog, sections, embedder=embedder)
    assert (stats.volatile, stats.embedded, stats.added, stats.changed, stats.deleted) == (1, 0, 0, 0, 0)
    assert embedder.texts == []
    r = Retriever.open(project, catalog=catalog, embedder=embedder)
    assert "S-0001" in r.search("whisky", top_k=5, filters=Filters(price_max=50)).ids

    # Added, renamed and deleted products, by id and content hash.
    text = csv.read_text()
    text = text.replace("Hendrick's Gin", "Hendrick's Orbium Gin")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("W-0001")) + "\n"
    text += "R-0001,Diplomatico Reserva Exclusiva,Rum,39.00,6,40,700,Venezuela,Toffee and orange peel.\n"
    csv.write_text(text)
    project, catalog, sections = _load(small_project)
    embedder.texts.clear()
    stats = update_index(project, catalog, sections, embedder=embedder)
    assert (stats.added, stats.changed, stats.deleted, stats.volatile) == (1, 1, 1, 0)
    assert len(embedder.texts) == 2
    r = Retriever.open(project, catalog=catalog, embedder=embedder)
    assert r.search("diplomatico", top_k=1).ids == ["R-0001"]
    assert r.search("orbium gin", top_k=1).ids == ["S-0002"]
    assert "W-0001" not in r.search("chateau margaux bordeaux", top_k=10).ids
    builds = sorted(p.name for p in (index_dir / "builds").iterdir())
    assert len(builds) == 2 and not any(b.endswith(".tmp") for b in builds)

    # Nothing changed since: the update writes nothing and embeds nothing.
    live = (index_dir / "CURRENT").read_text()
    embedder.texts.clear()
    stats = update_index(project, catalog, sections, embedder=embedder)
    assert stats.current and stats.unchanged == 6 and embedder.texts == []
    assert (index_dir / "CURRENT").read_text() == live
    assert sorted(p.name for p in (index_dir / "builds").iterdir()) == builds


def test_missing_and_corrupt_index(small_project, shop, embedder):
    project, catalog, sections = shop
    with pytest.raises(IndexMissingError, match="domainlm index build"):
        Retriever.open(project, catalog=catalog, embedder=embedder)
    corruptions = [
        ("dense/products.f16.npy", lambda b: b[:-10] + b"\x00" * 10),
        ("slots.parquet", lambda b: b"not parquet"),
        ("lexical/vocab.index.json", lambda b: b[: len(b) // 2]),
        ("manifest.json", lambda b: b"{"),
    ]
    for name, corrupt in corruptions:
        info = build_index(project, catalog, sections, embedder=embedder)
        path = info.path / name
        path.write_bytes(corrupt(path.read_bytes()))
        with pytest.raises(IndexCorruptError, match=name.split("/")[-1]):
            Retriever.open(project, catalog=catalog, embedder=embedder)


def test_hnsw_agrees_with_exact_search(shop, embedder):
    _, catalog, sections = shop
    exact = Retriever.in_memory(catalog, sections, embedder=embedder)
    graph = Retriever.in_memory(catalog, sections, embedder=embedder, store_options={"hnsw_min": 1, "exact_max": 0})
    assert graph.state.store.hnsw is not None
    for q in ["peaty islay whisky", "crisp white", "bubbles for a party", "gin"]:
        assert graph.search(q, top_k=6).ids == exact.search(q, top_k=6).ids
    f = Filters(category="Red Wine")
    assert graph.search("wine", top_k=6, filters=f).ids == exact.search("wine", top_k=6, filters=f).ids


def _cli(args: list[str]) -> None:
    """Run the CLI in-process; a clean exit is success."""
    from domainlm.cli import main

    try:
        main(args)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise


def test_cli_build_query_update(small_project, monkeypatch, capsys):
    monkeypatch.chdir(small_project)
    _cli(["index", "build"])
    out = capsys.readouterr().out
    assert "Index built" in out and "products" in out
    _cli(["index", "query", "lagavuln 16", "-k", "2"])
    out = capsys.readouterr().out
    assert "S-0001" in out and "(named)" in out
    csv = small_project / "catalog.csv"
    csv.write_text(csv.read_text().replace("27.99", "25.99"))
    with pytest.raises(SystemExit) as exit_info:
        _cli(["index", "query", "cloudy bay"])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "domainlm index update" in " ".join((captured.out + captured.err).split())
    _cli(["index", "update"])
    assert "price/stock only" in capsys.readouterr().out
    _cli(["index", "update"])
    assert "Index is current" in capsys.readouterr().out
    _cli(["index", "query", "cloudy bay", "--set", "retrieval.top_k=1"])
    assert "$25.99" in capsys.readouterr().out


def test_bm25_scores_follow_the_bm25_formula_and_empty_corpora_build():
    """BM25 built from a stream of texts (ids kept, not token strings) scores as Robertson BM25 with bm25s's
    defaults; a corpus with no indexable word (none, empty or only stopwords) builds and matches nothing."""
    from domainlm.retrieval.lexical import Lexical, tokenize

    texts = ["Red wine from Spain", "White wine", "Spain, Spain and more Spain", "the and of"]
    lexical = Lexical.build(t for t in texts)  # a generator: read once
    docs = [tokenize(t) for t in texts]
    assert docs[3] == []  # only stopwords
    k1, b, avg = 1.5, 0.75, sum(map(len, docs)) / len(docs)
    df = sum("spain" in d for d in docs)
    idf = np.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
    expected = [idf * d.count("spain") / (d.count("spain") + k1 * (1 - b + b * len(d) / avg)) for d in docs]
    assert np.allclose(lexical.scores("SPAIN?"), expected, atol=1e-6)
    assert list(lexical.top("spain", 5)[0]) == [2, 0]
    assert list(lexical.top("spain", 5, allowed=np.array([True, False, False, True]))[0]) == [0]
    for corpus in ([], ["", ""], ["the and of"]):
        empty = Lexical.build(iter(corpus))
        assert empty.n_docs == len(corpus)
        assert empty.scores("the spain") is None and len(empty.top("spain", 3)[0]) == 0


@pytest.mark.parametrize("n,k,filtered", [(10, 20, False), (1000, 5, False), (140_000, 10, False),
                                          (140_000, 10, True), (5, 3, True), (0, 3, False)])
def test_exact_search_matches_a_full_sort(n, k, filtered):
    """Blocked top-k (float16 storage, 65,536-row blocks, optional row subset) equals sorting all scores."""
    from domainlm.retrieval.stores.base import exact_search

    rng = np.random.default_rng(n + k)
    vectors = rng.normal(size=(n, 16)).astype(np.float16)
    queries = rng.normal(size=(3, 16)).astype(np.float32)
    rows = np.sort(rng.choice(n, size=n // 2, replace=False)) if filtered else None
    ids, scores = exact_search(vectors, queries, k, rows)
    full = queries @ vectors.astype(np.float32).T
    if rows is not None:
        hidden = np.full(full.shape, -np.inf, np.float32)
        hidden[:, rows] = 0
        full = full + hidden
    reference = np.argsort(-full, axis=1, kind="stable")[:, :k]
    found = min(k, n if rows is None else len(rows))
    assert (ids[:, :found] == reference[:, :found]).all()
    assert (ids[:, found:] == -1).all() and np.isneginf(scores[:, found:]).all()
    assert np.allclose(scores[:, :found], np.take_along_axis(full, reference, 1)[:, :found], atol=1e-4)


def test_ivf_agrees_with_exact_search(shop, embedder):
    """Probing every list, the IVF index is exact search over the same fp16 vectors."""
    _, catalog, sections = shop
    exact = Retriever.in_memory(catalog, sections, embedder=embedder)
    ivf = Retriever.in_memory(catalog, sections, embedder=embedder,
                              store_options={"hnsw_min": 1, "ivf_min": 1, "nprobe": 4096, "exact_max": 0})
    assert ivf.state.store.kind == "ivf" and ivf.state.store.hnsw is None
    for q in ["peaty islay whisky", "crisp white", "bubbles for a party", "gin"]:
        assert ivf.search(q, top_k=6).ids == exact.search(q, top_k=6).ids
    f = Filters(category="Red Wine")
    assert ivf.search("wine", top_k=6, filters=f).ids == exact.search("wine", top_k=6, filters=f).ids


def _clustered(n: int, dim: int = 64, centres: int = 400, seed: int = 0) -> np.ndarray:
    """Unit vectors in tight groups around random centres, like a catalog of product variants."""
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(centres, dim)).astype(np.float32)
    x = c[rng.integers(0, centres, n)] + rng.normal(0, 0.3, (n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_ivf_store_persists_updates_and_filters(tmp_path):
    from domainlm.retrieval.stores.base import exact_search
    from domainlm.retrieval.stores.embedded import EmbeddedStore, ivf_lists

    opts = {"hnsw_min": 3000, "ivf_min": 5000, "nprobe": 16}
    x = _clustered(12_000)
    store = EmbeddedStore(64, opts)
    store.add(np.arange(2000), x[:2000])
    assert store.kind == "flat"
    store.add(np.arange(2000, 8000), x[2000:8000])  # crosses ivf_min in one add: built from both parts
    assert store.kind == "ivf" and store.ivf.nlist == ivf_lists(8000) and store.vectors.shape == (8000, 64)
    np.testing.assert_allclose(store.vectors[[0, 4000, 7999]], x[[0, 4000, 7999]].astype(np.float16), atol=1e-3)
    info = store.save(tmp_path / "a")
    assert info["kind"] == "ivf" and (tmp_path / "a" / info["file"]).exists()

    opened = EmbeddedStore.open(tmp_path / "a", {**info, "dim": 64}, {})
    q = x[8000:8050]  # in-distribution queries, not in the index yet
    a_ids, _ = store.search(q, 10)
    b_ids, _ = opened.search(q, 10)
    assert (a_ids == b_ids).all()
    exact, _ = exact_search(opened.vectors, q, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(b_ids, exact)])
    assert recall >= 0.9, recall

    # An update appends to the lists of a copy; the opened build is untouched.
    copy = opened.derive(tmp_path / "b")
    copy.add(np.arange(8000, 12_000), x[8000:12_000])
    assert copy.vectors.shape == (12_000, 64) and opened.vectors.shape == (8000, 64)
    hit, _ = copy.search(x[11_999:12_000], 1)
    assert hit[0, 0] == 11_999
    # Filters: only allowed slots come back, through the selector and through the exact path.
    allowed = np.zeros(12_000, bool)
    allowed[::3] = True
    for exact_max in (0, 20_000):
        copy.options["exact_max"] = exact_max
        ids, _ = copy.search(q, 10, allowed)
        assert (ids >= 0).all() and allowed[ids].all()
    with pytest.raises(ValueError, match="appended in order"):
        copy.add(np.array([5]), x[:1])
