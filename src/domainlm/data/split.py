"""Train/val/test split grouped by product and stratified by category, and the golden set.

Products are assigned to splits before any sample is written, and every sample only talks about
products of its own split, so the test split asks about products training never saw.
"""

from __future__ import annotations

import random
from collections import defaultdict

from domainlm.catalog.product import Catalog
from domainlm.config import KINDS, SplitConfig
from domainlm.data.records import SPLITS, Sample


def split_counts(n: int, shares: SplitConfig) -> dict[str, int]:
    """Products per split; val and test get at least one each when there are 3 or more products."""
    val = round(n * shares.val)
    test = round(n * shares.test)
    if n >= 3:
        val = max(val, 1 if shares.val > 0 else 0)
        test = max(test, 1 if shares.test > 0 else 0)
    return {"train": n - val - test, "val": val, "test": test}


def assign_products(catalog: Catalog, shares: SplitConfig, rng: random.Random) -> dict[str, str]:
    """product id -> split, stratified by category (each category spread over the splits in proportion)."""
    by_category: dict[str, list[str]] = defaultdict(list)
    for product in catalog:
        by_category[product.category or ""].append(product.id)
    # Deal categories in a stable order into one list, so proportions hold within each category.
    ordered: list[str] = []
    for category in sorted(by_category):
        ids = sorted(by_category[category])
        rng.shuffle(ids)
        ordered.extend(ids)
    counts = split_counts(len(ordered), shares)
    # Interleave: position i goes to the split whose quota is furthest behind its share.
    assigned: dict[str, str] = {}
    given = {s: 0 for s in SPLITS}
    total = len(ordered)
    for i, pid in enumerate(ordered, 1):
        split = max(SPLITS, key=lambda s: (counts[s] * i / total - given[s], -SPLITS.index(s)))
        if given[split] >= counts[split]:
            split = next(s for s in SPLITS if given[s] < counts[s])
        given[split] += 1
        assigned[pid] = split
    return assigned


def split_cycle(shares: SplitConfig, rng: random.Random, length: int = 100) -> list[str]:
    """A shuffled list of split labels in the configured shares, for samples about no product."""
    counts = {"train": round(length * shares.train), "val": round(length * shares.val)}
    counts["test"] = length - counts["train"] - counts["val"]
    cycle = [s for s in SPLITS for _ in range(counts[s])]
    rng.shuffle(cycle)
    return cycle


def select_golden(samples: list[Sample], size: int, rng: random.Random) -> list[Sample]:
    """The hardest and most varied held-out cases: round robin over kinds, hardest first within a kind,
    taken from test, then val (never from train)."""
    pools: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        if sample.split in ("test", "val"):
            pools[sample.meta["kind"]].append(sample)
    for kind, pool in pools.items():
        rng.shuffle(pool)
        pool.sort(key=lambda s: (s.split != "test", -round(s.difficulty, 3)))
    chosen: list[Sample] = []
    while len(chosen) < size and any(pools.values()):
        for kind in KINDS:
            if pools.get(kind) and len(chosen) < size:
                chosen.append(pools[kind].pop(0))
    return chosen
