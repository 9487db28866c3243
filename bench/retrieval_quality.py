#!/usr/bin/env python3
"""Retrieval quality on the bundled wine-shop catalog (or a project): recall@1 for named products
(exact, casing, typos, partial names, ids) and recall@10 for attribute and filter questions.

    HF_HUB_OFFLINE=1 python bench/retrieval_quality.py              # examples/wine-shop, in memory
    HF_HUB_OFFLINE=1 python bench/retrieval_quality.py -c shop/     # a project's persisted index
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]

# The wine-shop columns, used when the example folder has no project file of its own.
WINE_SHOP = {
    "catalog": {
        "source": str(ROOT / "examples/wine-shop/catalog.csv"), "id_column": "sku", "name_column": "name",
        "price_column": "price", "category_column": "category", "stock_column": "in_stock",
        "description_column": "tasting_notes",
        "fields": [{"column": c, "label": l, "unit": u} for c, l, u in [
            ("producer", "producer", None), ("region", "region", None), ("country", "country", None),
            ("grape", "grape", None), ("vintage", "vintage", None), ("abv", "alcohol", "%"),
            ("volume_ml", "volume", "ml")]],
    },
    "knowledge": [str(ROOT / "examples/wine-shop/knowledge/*.md")],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--config", help="a project file or folder with a built index")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--failures", type=int, default=10, help="failed queries to print")
    args = parser.parse_args()

    from rich.console import Console

    from domainlm.catalog import load_catalog
    from domainlm.config import load_project, project_from_dict
    from domainlm.knowledge import load_knowledge
    from domainlm.retrieval import Retriever
    from domainlm.retrieval.quality import evaluate, generate_queries

    console = Console()
    if args.config:
        project = load_project(args.config)
        catalog = load_catalog(project.catalog, project.root)
        retriever = Retriever.open(project, catalog=catalog)
    else:
        project = project_from_dict(WINE_SHOP, ROOT)
        catalog = load_catalog(project.catalog, project.root)
        sections = load_knowledge(project.knowledge, project.root)
        retriever = Retriever.in_memory(catalog, sections, config=project.retrieval)
    report = evaluate(retriever, generate_queries(catalog, seed=args.seed))
    console.print(f"catalog: {catalog.source} ({len(catalog)} products)")
    console.print(report.table())
    for kind, text, top in report.failures[: args.failures]:
        console.print(f"  miss ({kind}) {text!r} -> {top}", markup=False)
    return 0 if report.named_recall_at_1() >= 0.98 else 1


if __name__ == "__main__":
    sys.exit(main())
