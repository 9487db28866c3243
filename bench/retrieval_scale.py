#!/usr/bin/env python3
"""Retrieval at scale on synthetic catalogs: build time, index size, peak RAM, hybrid query p50/p99,
dense recall@10 of the approximate index (HNSW or IVF) against exact search, and MiniLM embedding throughput.

    HF_HUB_OFFLINE=1 python bench/retrieval_scale.py --quick          # 10k and 100k, a few minutes
    HF_HUB_OFFLINE=1 python bench/retrieval_scale.py                  # 10k, 100k and 1M

Vectors: `--embed N` product texts are embedded for real with MiniLM (throughput is reported); the
rest of a catalog gets *synthetic* vectors: a real vector of another product plus Gaussian noise,
re-normalised, so the ANN index sees realistic neighbourhoods without hours of embedding. Each
scale is built in one process and queried in another (which loads the catalog and opens the index, as a
server does), so each peak RAM (ru_maxrss) is that phase's alone. Queries are embedded
once up front; the reported query latency is retrieval only (single-query MiniLM latency is printed
separately). The build's time includes making the synthetic vectors, in place of embedding them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
CACHE = Path(os.environ.get("DOMAINLM_BENCH_CACHE", Path(tempfile.gettempdir()) / "domainlm-bench"))

PRODUCERS = ["Alder", "Bellweather", "Castel", "Domaine", "Esprit", "Fontaine", "Glenrock", "Hollow", "Iron",
             "Juniper", "Kestrel", "Lindell", "Marrow", "Northfield", "Oakridge", "Pellham", "Quarry", "Rowan",
             "Saltmarsh", "Thistle", "Umber", "Vale", "Westerly", "Yarrow", "Zephyr"]
NAMES = ["Reserve", "Estate", "Old Vines", "Single Vineyard", "Grand Cru", "Cuvee", "Heritage", "Selection",
         "Barrel Aged", "Cask Strength", "Small Batch", "Limited", "Classic", "Signature", "Premier"]
CATEGORIES = ["Red Wine", "White Wine", "Rosé Wine", "Sparkling", "Whisky", "Gin", "Rum", "Brandy", "Vodka"]
REGIONS = ["Bordeaux", "Rioja", "Tuscany", "Napa", "Mendoza", "Barossa", "Islay", "Speyside", "Marlborough",
           "Mosel", "Douro", "Sonoma", "Champagne", "Jerez", "Kentucky", "Jalisco", "Cognac", "Piedmont"]
NOTES = ["cherry", "plum", "vanilla", "oak", "citrus", "peat", "smoke", "honey", "pepper", "apple", "toffee",
         "floral", "mineral", "spice", "chocolate", "herbal", "tropical fruit", "leather"]


def synthetic_catalog(n: int, seed: int = 0):
    from domainlm.catalog.product import Attribute, Catalog, Product

    rng = random.Random(seed)
    products = []
    for i in range(n):
        producer = f"{rng.choice(PRODUCERS)} {rng.choice(PRODUCERS)}{rng.randrange(1000)}"
        name = f"{producer} {rng.choice(NAMES)} {rng.choice(REGIONS)} {1990 + rng.randrange(34)}"
        category = rng.choice(CATEGORIES)
        products.append(Product(
            id=f"P{i:07d}", name=name, price=round(rng.uniform(5, 300), 2), currency="USD", category=category,
            stock=rng.randrange(0, 30), description=f"Notes of {rng.choice(NOTES)} and {rng.choice(NOTES)}.",
            attributes=(Attribute("alcohol", round(rng.uniform(9, 46), 1), "%"), Attribute("volume", 750, "ml"),
                        Attribute("region", rng.choice(REGIONS))),
        ))
    return Catalog(products=products, currency="USD", source=f"synthetic:{n}")


def real_vectors(texts: list[str]):
    """MiniLM vectors for `texts`, cached on disk by count; returns (vectors, sentences/s or None if cached)."""
    import numpy as np

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"minilm-{len(texts)}.npy"
    if path.exists():
        return np.load(path), None
    from domainlm.retrieval.embed import get_embedder

    emb = get_embedder("minilm")
    started = time.perf_counter()
    vectors = emb.encode(texts)
    rate = len(texts) / (time.perf_counter() - started)
    np.save(path, vectors.astype(np.float16))
    (CACHE / f"minilm-{len(texts)}.rate").write_text(f"{rate}")
    return vectors, rate


class SyntheticEmbedder:
    """Stands in for MiniLM in the build: `index build` embeds the catalog in order, chunk by chunk, and this
    hands back, for rows pos..pos+k, the real MiniLM vectors of the first `n_real` products and after them a
    real vector of another product plus noise. Made chunk by chunk as the real embedder makes them, so the
    build process holds what `domainlm index build` holds (the float16 vectors it collects), not a second
    copy of every vector in the benchmark."""

    name = "minilm"

    def __init__(self, base, seed: int = 0):
        import numpy as np

        self.base = np.asarray(base, np.float32)
        self.dim = self.base.shape[1]
        self.seed = seed
        self.pos = 0

    def encode(self, texts, progress=None):
        import numpy as np

        start, stop = self.pos, self.pos + len(texts)
        self.pos = stop
        out = np.empty((len(texts), self.dim), np.float32)
        real = max(0, min(stop, len(self.base)) - start)
        out[:real] = self.base[start:start + real]
        if real < len(texts):
            rng = np.random.default_rng((self.seed, start))
            pick = self.base[rng.integers(0, len(self.base), len(texts) - real)]
            noisy = pick + rng.normal(0, 0.035, pick.shape).astype(np.float32)  # ~0.8 cosine to its source
            out[real:] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
        if progress:
            progress(len(texts))
        return out


def synthetic_embedder(catalog, n_embed: int, seed: int = 0):
    """(SyntheticEmbedder over the first `n_embed` products' real MiniLM vectors, MiniLM sentences/s or None)."""
    from domainlm.retrieval.text import product_text

    products = list(catalog)
    base, rate = real_vectors([product_text(p) for p in products[:n_embed]])
    if rate is None and (CACHE / f"minilm-{n_embed}.rate").exists():
        rate = float((CACHE / f"minilm-{n_embed}.rate").read_text())
    return SyntheticEmbedder(base, seed), rate


def _peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def bench_queries(catalog, n_queries: int) -> list[str]:
    rng = random.Random(1)
    products = list(catalog)
    queries = []
    for _ in range(n_queries):
        p = rng.choice(products)
        queries.append(rng.choice([
            f"{p.category.lower()} from {p.attribute('region').value} under ${rng.randrange(10, 100)}",
            f"something with {rng.choice(NOTES)} notes", f"how much is {p.name.lower()}",
            f"{p.name.split()[0]} {p.name.split()[2]} {rng.choice(CATEGORIES).lower()}", p.id]))
    return queries


def build_scale(n: int, n_embed: int, n_queries: int, root: Path) -> dict:
    """The build process: catalog, vectors, `build_index` into `root`; queries embedded and saved there."""
    import numpy as np

    from domainlm.config import project_from_dict
    from domainlm.retrieval import build_index
    from domainlm.retrieval.embed import get_embedder

    t0 = time.perf_counter()
    catalog = synthetic_catalog(n)
    synthetic, rate = synthetic_embedder(catalog, min(n_embed, n))
    gen_s = time.perf_counter() - t0
    project = project_from_dict({}, root)
    minilm = get_embedder("minilm")  # loaded as `index build` loads it, so its memory counts; it embeds the queries
    started = time.perf_counter()
    info = build_index(project, catalog, [], embedder=synthetic)
    build_s = time.perf_counter() - started
    queries = bench_queries(catalog, n_queries)
    started = time.perf_counter()
    qvec = minilm.encode(queries)
    embed_query_ms = (time.perf_counter() - started) * 1000 / len(queries)
    np.save(root / "bench-queries.npy", qvec)
    single = []
    for q in queries[:50]:
        t = time.perf_counter()
        minilm.encode([q])
        single.append((time.perf_counter() - t) * 1000)
    return {
        "products": n, "embedded_for_real": min(n_embed, n), "embed_rate_per_s": rate,
        "generate_s": round(gen_s, 1), "build_s": round(build_s, 1), "index_mb": round(info.bytes / 1e6, 1),
        "build_peak_rss_mb": _peak_rss_mb(), "query_embed_ms_batched": round(embed_query_ms, 2),
        "query_embed_ms_single_p50": round(float(np.median(single)), 2),
    }


def query_scale(n: int, n_queries: int, root: Path) -> dict:
    """The serving process: open the index built in `root` beside the catalog and query it, as a server does."""
    import numpy as np

    from domainlm.config import project_from_dict
    from domainlm.retrieval import Retriever
    from domainlm.retrieval.stores.base import exact_search

    from domainlm.retrieval.embed import get_embedder

    get_embedder("minilm")  # loaded as a server loads it, so its memory counts; latency uses the cached vectors
    catalog = synthetic_catalog(n)
    queries = bench_queries(catalog, n_queries)
    qvec = np.load(root / "bench-queries.npy")
    lookup = dict(zip(queries, qvec))

    class Cached:
        name, dim = "minilm", qvec.shape[1]

        def encode(self, texts, progress=None):
            return np.stack([lookup[t] for t in texts])

    project = project_from_dict({}, root)
    started = time.perf_counter()
    retriever = Retriever.open(project, catalog=catalog, embedder=Cached())
    open_s = time.perf_counter() - started
    for q in queries[:20]:
        retriever.search(q)  # warm up
    latencies = []
    for q in queries:
        t = time.perf_counter()
        retriever.search(q, top_k=5)
        latencies.append((time.perf_counter() - t) * 1000)
    serve_rss = _peak_rss_mb()  # before the exact ground truth below, which reads every vector
    store = retriever.state.store
    approx, _ = store.search(qvec, 10)
    exact, _ = exact_search(store.vectors, qvec, 10)
    recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(approx, exact)]))
    curve = {}
    if store.ann is not None:  # the recall/latency trade-off of `retrieval.ef_search` (HNSW) or `.nprobe` (IVF)
        import faiss

        hnsw = store.kind == "hnsw"
        for knob in ((128, 256, 512, 1024, 2048) if hnsw else (32, 64, 128, 256, 384, 512, 1024)):
            params = faiss.SearchParametersHNSW() if hnsw else faiss.SearchParametersIVF()
            if hnsw:
                params.efSearch = knob
            else:
                params.nprobe = knob
            found, took = [], []
            for row in qvec:
                t = time.perf_counter()
                found.append(store.ann.search(row[None], 10, params=params)[1][0])
                took.append((time.perf_counter() - t) * 1000)
            curve[knob] = (round(float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, exact)])), 4),
                           round(float(np.median(took)), 2))
    store.close()
    return {
        "open_s": round(open_s, 2), "serve_peak_rss_mb": serve_rss,
        "hybrid_p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "hybrid_p99_ms": round(float(np.percentile(latencies, 99)), 2),
        "dense_recall_at_10": round(recall, 4), "dense_kind": retriever.manifest["store"]["kind"],
        "ef_search": store.options["ef_search"], "nprobe": store.options["nprobe"],
        "knob_curve": {str(k): v for k, v in curve.items()},
    }


def one_scale(n: int, n_embed: int, n_queries: int) -> dict:
    """Build in one process and query in another, so each peak RAM (ru_maxrss) is that phase's alone."""
    import shutil

    root = Path(tempfile.mkdtemp(prefix=f"domainlm-scale-{n}-"))
    try:
        row = {}
        for phase in ("build", "query"):
            out = subprocess.run([sys.executable, __file__, f"--{phase}", str(n), "--root", str(root), "--embed",
                                  str(n_embed), "--queries", str(n_queries)], capture_output=True, text=True)
            if out.returncode != 0:
                raise RuntimeError(f"{phase} at {n:,} failed:\n{out.stderr[-3000:]}")
            row.update(json.loads(out.stdout.strip().splitlines()[-1]))
        return row
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10k and 100k only")
    parser.add_argument("--sizes", default=None, help="comma-separated catalog sizes")
    parser.add_argument("--embed", type=int, default=20_000, help="products embedded for real with MiniLM")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)  # internal: one size's build, print JSON
    parser.add_argument("--query", type=int, help=argparse.SUPPRESS)  # internal: one size's queries, print JSON
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        print(json.dumps(build_scale(args.build, args.embed, args.queries, args.root)))
        return 0
    if args.query:
        print(json.dumps(query_scale(args.query, args.queries, args.root)))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else (
        [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    rows = []
    for n in sizes:
        rows.append(one_scale(n, args.embed, args.queries))
        print(json.dumps(rows[-1]), flush=True)
    rate = next((r["embed_rate_per_s"] for r in rows if r["embed_rate_per_s"]), None)
    print(f"\n{'products':>10} {'build s':>8} {'index MB':>9} {'build MB':>9} {'serve MB':>9} {'p50 ms':>7} "
          f"{'p99 ms':>7} {'recall@10':>9}  dense")
    for r in rows:
        print(f"{r['products']:>10,} {r['build_s']:>8} {r['index_mb']:>9} {r['build_peak_rss_mb']:>9} "
              f"{r['serve_peak_rss_mb']:>9} {r['hybrid_p50_ms']:>7} {r['hybrid_p99_ms']:>7} "
              f"{r['dense_recall_at_10']:>9}  {r['dense_kind']}")
    print("build MB: peak RSS of the build process (synthetic catalog and its vectors included); serve MB: peak RSS "
          "of a separate process that loads MiniLM and the catalog, opens the index and answers the queries.")
    for r in rows:
        if r.get("knob_curve"):
            knob = "ef_search" if r["dense_kind"] == "hnsw" else "nprobe"
            print(f"\n{r['dense_kind'].upper()} at {r['products']:,}: {knob} -> dense recall@10, p50 ms "
                  f"(dense search alone; the default is {r[knob]})")
            for value, (rec, ms) in r["knob_curve"].items():
                print(f"  {value:>5}  {rec:.3f}  {ms}")
    if rate:
        print(f"\nMiniLM embedding: {rate:,.0f} product texts/s on this machine.")
        for r in rows:
            if r["products"] == 100_000:
                full = r["build_s"] + 100_000 / rate
                print(f"Full build at 100k (embedding every product) ~ {full / 60:.1f} min "
                      f"= {100_000 / rate:.0f} s embedding + {r['build_s']} s index build (measured separately).")
    print("Vectors beyond the embedded ones are synthetic (a real vector plus noise); query latency excludes "
          "query embedding (see query_embed_ms_single_p50).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
