"""Time `data build` on a synthetic 10,000-product catalog (no teacher): the issue asks for <= 5 minutes on
2 CPU cores. Prints the time per stage and the total.

    python bench/data_build.py [--products 10000] [--keep DIR] [--set retrieval.top_k=3 ...]

The project uses the example shop's context settings (retrieval.top_k=3, train.max_seq_len=1024): with the
package defaults (top_k 5, max_seq_len 512) nearly every sample is too long for the window and is dropped.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CATEGORIES = {
    "Red Wine": ["Cabernet Sauvignon", "Merlot", "Pinot Noir", "Syrah", "Malbec", "Tempranillo", "Sangiovese"],
    "White Wine": ["Chardonnay", "Sauvignon Blanc", "Riesling", "Pinot Grigio", "Chenin Blanc", "Viognier"],
    "Sparkling": ["Brut", "Extra Brut", "Rosé Brut", "Prosecco", "Cava", "Crémant"],
    "Whisky": ["Single Malt", "Blended Scotch", "Bourbon", "Rye", "Irish Whiskey"],
    "Gin": ["London Dry", "Old Tom", "Navy Strength", "Citrus Gin"],
    "Rum": ["Dark Rum", "Spiced Rum", "Agricole", "White Rum"],
}
REGIONS = ["Bordeaux", "Burgundy", "Rioja", "Tuscany", "Napa Valley", "Mendoza", "Barossa", "Marlborough", "Mosel",
           "Islay", "Speyside", "Kentucky", "Jamaica", "Champagne", "Douro", "Piedmont", "Sonoma", "Stellenbosch"]
STEMS = ["Alder", "Bramble", "Cedar", "Dorset", "Elm", "Fallow", "Garnet", "Heron", "Ivory", "Juniper", "Kestrel",
         "Linden", "Moor", "Nettle", "Orchard", "Pebble", "Quarry", "Rowan", "Sable", "Thistle", "Umber", "Vale",
         "Willow", "Yarrow", "Zephyr", "Amber", "Birch", "Copper", "Drift", "Ember"]
HOUSES = ["Estate", "Hill", "Ridge", "Creek", "House", "Cellars", "Vineyards", "Distillery", "Brothers", "& Sons"]
NOTES = ["cherry", "plum", "vanilla", "oak", "citrus", "peach", "smoke", "honey", "pepper", "cassis", "toast",
         "apple", "pear", "spice", "caramel", "mint", "leather", "violet", "brioche", "lime"]


def write_catalog(folder: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    with open(folder / "catalog.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sku", "name", "category", "price", "in_stock", "abv", "volume_ml", "region", "notes"])
        for i in range(n):
            category = rng.choice(list(CATEGORIES))
            style = rng.choice(CATEGORIES[category])
            name = f"{rng.choice(STEMS)} {rng.choice(HOUSES)} {style} {i:05d}"
            wine = "Wine" in category or category == "Sparkling"
            price = round(rng.uniform(8, 120) if wine else rng.uniform(20, 250), 2)
            abv = round(rng.uniform(11.5, 15), 1) if wine else rng.choice([37.5, 40, 43, 46, 57])
            volume = rng.choice([750, 750, 750, 1500, 375]) if wine else rng.choice([700, 700, 1000, 500])
            notes = f"{rng.choice(NOTES).capitalize()}, {rng.choice(NOTES)} and {rng.choice(NOTES)}."
            writer.writerow([f"P-{i:05d}", name, category, f"{price:.2f}", rng.choice([0, 3, 8, 12, 24, 60]), abv,
                             volume, rng.choice(REGIONS), notes])
    (folder / "knowledge").mkdir(exist_ok=True)
    (folder / "knowledge" / "policies.md").write_text(
        "# Shipping\nWe ship within 2 business days. Shipping is free on orders over $99.\n"
        "# Returns\nCorked bottles can be returned within 30 days.\n"
        "# Age policy\nYou must be 21 or older to order. We check ID on delivery.\n", encoding="utf-8")
    (folder / "domainlm.yaml").write_text(
        "name: bench-shop\nbase_model: smollm2-135m\n"
        "catalog:\n  source: catalog.csv\n  category_column: category\n  stock_column: in_stock\n"
        "  description_column: notes\n  fields:\n    - {column: abv, label: alcohol, unit: \"%\"}\n"
        "    - {column: volume_ml, label: volume, unit: ml}\n    - {column: region, label: region}\n"
        "brand:\n  assistant_name: Vera\n  shop_name: Bench Cellars\n  domain: wine and spirits from our shop\n"
        "  competitors: [Total Wine]\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="project override, repeatable")
    args = parser.parse_args()

    from domainlm.config import load_project
    from domainlm.data import build_dataset
    from domainlm.models.base import load_tokenizer

    folder = args.keep or Path(tempfile.mkdtemp(prefix="domainlm-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    write_catalog(folder, args.products)
    project = load_project(folder, ["retrieval.top_k=3", "train.max_seq_len=1024", *args.overrides])
    started = time.perf_counter()
    tokenizer = load_tokenizer(project.base_model, project.root)  # converts the base model once per DOMAINLM_HOME
    print(f"tokenizer ready in {time.perf_counter() - started:.1f}s (one-time model conversion not counted below)")

    marks: list[tuple[str, float]] = []

    def progress(stage: str, total: int):
        marks.append((stage, time.perf_counter()))
        return lambda n: None

    started = time.perf_counter()
    result = build_dataset(project, tokenizer=tokenizer, progress=progress,
                           log=lambda line: marks.append((line.split(":")[0], time.perf_counter())))
    total = time.perf_counter() - started
    previous = started
    for stage, at in marks:
        print(f"  +{at - previous:6.1f}s  then: {stage}")
        previous = at
    print(f"  +{started + total - previous:6.1f}s  then: written")
    print(f"products: {args.products:,}; samples written: {len(result.samples):,}; dropped by cleaning: "
          f"{dict(result.clean.dropped)}; cpu cores: {os.cpu_count()}")
    print(f"data build: {total:.1f}s ({'within' if total <= 300 else 'OVER'} the 5-minute budget)")
    if not args.keep:
        shutil.rmtree(folder)


if __name__ == "__main__":
    sys.exit(main())
