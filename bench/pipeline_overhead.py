#!/usr/bin/env python3
"""What the Assistant adds around generation, per request, on a synthetic catalog: input guard, retrieval and
output verifier latency (p50/p99), plus the one query embedding the guard and retrieval share.

    HF_HUB_OFFLINE=1 python bench/pipeline_overhead.py                 # 100k products, 300 queries
    HF_HUB_OFFLINE=1 python bench/pipeline_overhead.py --products 10000 --queries 100

Product vectors are random unit vectors (embedding 100k products with MiniLM takes many minutes on CPU),
so dense rankings are meaningless but the search cost is the real one. Queries are embedded for real with
MiniLM (the guard's classifier is trained on MiniLM vectors); that embedding is reported on its own since
retrieval needs it anyway. Torch runs on one thread (`--threads`) so timings do not fight other processes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).parent))

from retrieval_scale import CATEGORIES, NOTES, synthetic_catalog  # noqa: E402  (the retrieval bench's generator)


def percentiles(values: list[float]) -> dict[str, float]:
    import numpy as np

    return {"p50": round(float(np.percentile(values, 50)), 3), "p99": round(float(np.percentile(values, 99)), 3)}


def questions(project, catalog, n: int, seed: int = 1) -> list[tuple[str, str]]:
    """(question, expected guard kind): product questions (ok) and held-out safety bank prompts, about 1:1."""
    from domainlm.guard.samples import bank_samples

    rng = random.Random(seed)
    products = list(catalog)
    held = [(t, k) for t, k in bank_samples(project, catalog, part="heldout", seed=seed) if k != "ok"]
    out = []
    for i in range(n):
        p = rng.choice(products)
        if i % 2:
            out.append(rng.choice(held))
            continue
        out.append((rng.choice([
            f"how much is {p.name}?", f"{p.category.lower()} from {p.attribute('region').value} under ${rng.randrange(10, 100)}",
            f"something with {rng.choice(NOTES)} notes", f"Is {p.name} in stock?", f"What's the alcohol of {p.name}?",
            f"recommend a {rng.choice(CATEGORIES).lower()} for a party", f"Do you have any {p.category.lower()} from "
            f"{p.attribute('region').value}?", f"{p.name.split()[0]} {p.category.lower()}",
        ]), "ok"))
    return out


def answer_for(context, rng: random.Random) -> str:
    """A realistic model answer about the retrieved products, with one wrong price in three answers."""
    from domainlm.prompt import format_price

    parts = []
    for p in context.products[:3]:
        price = p.price if rng.random() > 0.33 else round(p.price * 0.8, 2)
        alcohol = p.attribute("alcohol")
        parts.append(f"{p.name} is {format_price(price, p.currency)}, {alcohol.render() if alcohol else ''} alcohol, "
                     f"with notes of {rng.choice(NOTES)}; we have {p.stock} in stock.")
    return "Here are some options we love. " + " ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from domainlm.assistant import MemoEmbedder
    from domainlm.config import project_from_dict
    from domainlm.guard import Guard
    from domainlm.retrieval import Retriever, build_index
    from domainlm.retrieval.embed import get_embedder
    from domainlm.verify import Verifier

    results: dict = {"products": args.products, "queries": args.queries, "torch_threads": args.threads,
                     "product_vectors": "random unit vectors", "cpu_count": os.cpu_count(),
                     "load_avg_1m_at_start": round(os.getloadavg()[0], 2)}
    t0 = time.perf_counter()
    catalog = synthetic_catalog(args.products)
    rng = np.random.default_rng(0)
    minilm = MemoEmbedder(get_embedder("minilm"))
    vectors = rng.normal(size=(len(catalog), minilm.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    root = Path(tempfile.mkdtemp(prefix="domainlm-overhead-"))
    project = project_from_dict({"brand": {"competitors": ["Total Wine", "Drizly"]}}, root)
    build_index(project, catalog, [], embedder=minilm, vectors=vectors)
    retriever = Retriever.open(project, catalog=catalog, embedder=minilm)
    results["setup_index_s"] = round(time.perf_counter() - t0, 1)

    t0 = time.perf_counter()
    # Trained without the held-out quarter of each bank, which the questions below draw from.
    guard = Guard.for_project(project, catalog, minilm, "minilm", part="train")
    results["setup_guard_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    verifier = Verifier(catalog, "repair")
    results["setup_verifier_s"] = round(time.perf_counter() - t0, 1)

    labelled = questions(project, catalog, args.queries)
    qs = [q for q, _ in labelled]
    for q in qs[:10]:  # warm up
        guard.check(q)
        retriever.search(q, top_k=5)
    timing = {"embed_query": [], "guard": [], "retrieve": [], "verify": [], "guard+retrieve+verify": []}
    confusion: dict[str, dict[str, int]] = {}
    actions: dict[str, int] = {}
    answer_rng = random.Random(2)
    for q, expected in labelled:
        q = q + " "  # a text the memo has not seen: the embedding below is a real one
        t = time.perf_counter()
        minilm.encode([q])
        timing["embed_query"].append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        verdict = guard.check(q)  # the vector comes from the memo, as in the Assistant
        g = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        result = retriever.search(q, top_k=5)
        r = (time.perf_counter() - t) * 1000
        context = result.context()
        answer = answer_for(context, answer_rng)
        t = time.perf_counter()
        checked = verifier.check(answer, context, result.named)
        v = (time.perf_counter() - t) * 1000
        timing["guard"].append(g)
        timing["retrieve"].append(r)
        timing["verify"].append(v)
        timing["guard+retrieve+verify"].append(g + r + v)
        row = confusion.setdefault(expected, {})
        row[verdict.kind] = row.get(verdict.kind, 0) + 1
        for action in checked.actions:
            actions[action["type"]] = actions.get(action["type"], 0) + 1
    results["latency_ms"] = {k: percentiles(v) for k, v in timing.items()}
    results["guard_confusion"] = confusion  # expected kind -> {guard verdict: count}
    results["guard_accuracy"] = round(sum(r.get(k, 0) for k, r in confusion.items()) / len(labelled), 4)
    ok = confusion.get("ok", {})
    results["guard_false_refusal_rate"] = round(1 - ok.get("ok", 0) / max(1, sum(ok.values())), 4)
    results["verifier_actions"] = actions  # about one product sentence in three carries a wrong price
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
