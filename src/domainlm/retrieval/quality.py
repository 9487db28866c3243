"""Retrieval quality: a generated query set over a catalog and the recall figures for it.

Named queries (exact names, casing, typos, partial names, ids) are scored by recall@1: the named
product must come first. Attribute and filter queries are scored by recall@10 against the set of
products that satisfy them, and filter queries must return only products that pass their filters.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass, field

from rich.table import Table

from domainlm.catalog.product import Catalog
from domainlm.retrieval.filters import Filters
from domainlm.retrieval.text import normalize_name

TEMPLATES = ["{x}", "how much is {x}?", "do you have {x} in stock", "tell me about the {x}", "price of {x}",
             "is {x} any good"]


@dataclass
class Query:
    kind: str  # name, casing, typo, partial, id, attribute, filter
    text: str
    expected: set[str]  # ids: the one named product, or every product that satisfies the query
    filters: Filters | None = None  # for filter queries: what every result must satisfy


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice(["drop", "swap", "double", "replace"])
    if op == "drop":
        return word[:i] + word[i + 1:]
    if op == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeiounrst") + word[i + 1:]


def generate_queries(catalog: Catalog, per_kind: int = 60, seed: int = 0) -> list[Query]:
    rng = random.Random(seed)
    products = list(catalog)
    sample = rng.sample(products, min(per_kind, len(products)))
    token_sets = {p.id: set(normalize_name(p.name).split()) for p in products}
    queries: list[Query] = []
    for p in sample:
        t = rng.choice(TEMPLATES)
        queries.append(Query("name", t.format(x=p.name), {p.id}))
        queries.append(Query("casing", rng.choice(TEMPLATES).format(x=rng.choice([p.name.upper(), p.name.lower()])), {p.id}))
        words = p.name.split()
        long_words = [i for i, w in enumerate(words) if len(w) >= 5]
        if long_words:
            typo_words = list(words)
            for i in rng.sample(long_words, min(len(long_words), 1 + (len(long_words) > 3))):
                typo_words[i] = _typo(typo_words[i], rng)
            queries.append(Query("typo", rng.choice(TEMPLATES).format(x=" ".join(typo_words)), {p.id}))
        if len(words) >= 3:
            keep = max(2, (len(words) + 1) // 2)
            start = rng.randrange(0, len(words) - keep + 1)
            part = words[start:start + keep]
            tokens = set(normalize_name(" ".join(part)).split())
            if sum(1 for other, ts in token_sets.items() if tokens <= ts) == 1:  # unambiguous
                queries.append(Query("partial", rng.choice(TEMPLATES).format(x=" ".join(part)), {p.id}))
        queries.append(Query("id", rng.choice(["{x}", "price of {x}", "is {x} in stock?"]).format(x=p.id), {p.id}))
    # Attribute questions: a category and a text attribute (region, country, grape ...).
    groups: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for p in products:
        for a in p.attributes:
            if isinstance(a.value, str) and p.category and len(a.value) < 30:
                groups[(p.category, a.label, a.value)].add(p.id)
    keys = sorted(k for k, v in groups.items() if 2 <= len(v))
    for cat, label, value in rng.sample(keys, min(per_kind, len(keys))):
        text = rng.choice(["{c} from {v}", "any {c} with {v}?", "looking for a {v} {c}"]).format(c=cat.lower(), v=value)
        queries.append(Query("attribute", text, groups[(cat, label, value)]))
    # Filter questions: a category and a price bound, as people write them.
    categories = catalog.categories
    for _ in range(per_kind if categories else 0):
        cat = rng.choice(categories)
        prices = sorted(p.price for p in products if p.category == cat)
        bound = round(prices[len(prices) // 2] + 0.4)
        kind = rng.choice(["under", "over"])
        filters = Filters(price_max=bound, category=cat) if kind == "under" else Filters(price_min=bound, category=cat)
        text = f"{cat.lower()} {kind} ${bound}"
        expected = {p.id for p in products if filters.matches(p)}
        if expected:
            queries.append(Query("filter", text, expected, filters))
    return queries


@dataclass
class QualityReport:
    rows: dict[str, dict[str, float]] = field(default_factory=dict)
    failures: list[tuple[str, str, list[str]]] = field(default_factory=list)

    def named_recall_at_1(self, kinds=("typo", "partial")) -> float:
        hits = sum(self.rows[k]["hits"] for k in kinds if k in self.rows)
        total = sum(self.rows[k]["n"] for k in kinds if k in self.rows)
        return hits / total if total else 0.0

    def table(self) -> Table:
        table = Table(title="Retrieval quality")
        for column in ("kind", "queries", "metric", "value", "filter violations", "ms/query"):
            table.add_column(column)
        for kind, row in self.rows.items():
            table.add_row(kind, str(int(row["n"])), row_metric(kind), f"{row['value']:.3f}",
                          str(int(row.get("violations", 0))), f"{row['ms']:.1f}")
        table.add_row("typo+partial", "", "recall@1", f"{self.named_recall_at_1():.3f}", "", "")
        return table


def row_metric(kind: str) -> str:
    return "recall@10" if kind in ("attribute", "filter") else "recall@1"


def evaluate(retriever, queries: list[Query]) -> QualityReport:
    """Run every query through `retriever.search_many` and score it by kind."""
    report = QualityReport()
    by_kind: dict[str, list[Query]] = defaultdict(list)
    for q in queries:
        by_kind[q.kind].append(q)
    for kind, group in by_kind.items():
        started = time.perf_counter()
        results = retriever.search_many([q.text for q in group], top_k=10)
        ms = (time.perf_counter() - started) * 1000 / len(group)
        score = hits = violations = 0.0
        for q, res in zip(group, results):
            ids = res.ids
            if kind in ("attribute", "filter"):
                value = len(set(ids[:10]) & q.expected) / min(10, len(q.expected))
                if q.filters is not None:
                    violations += sum(1 for p in res.products if not q.filters.matches(p))
            else:
                value = 1.0 if ids[:1] == list(q.expected) else 0.0
            hits += value
            score += value
            if value < 1.0 and len(report.failures) < 200:
                report.failures.append((kind, q.text, ids[:3]))
        report.rows[kind] = {"n": len(group), "value": score / len(group), "hits": hits, "violations": violations,
                             "ms": ms}
    return report
