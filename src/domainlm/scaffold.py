"""Create project folders: from a bundled example, or a small starter project."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from domainlm.errors import DomainlmError

STARTER_YAML = """\
# domainlm project file: every path is relative to this file. `domainlm catalog check` validates it.
name: my-shop
base_model: smollm2-135m
catalog:
  source: catalog.csv
  id_column: sku
  name_column: name
  price_column: price
  currency: USD
  category_column: category
  stock_column: in_stock
  description_column: description
knowledge: [knowledge/*.md]
brand:
  assistant_name: Ada
  shop_name: My Shop
  voice: friendly, concise and accurate; speaks as "we" for the shop
  domain: our products and orders
  competitors: []
adapters:
  product-expert:
    description: Answers product questions with exact prices and specs.
    mix: {product_qa: 0.55, recommendation: 0.1, multi_turn: 0.2, knowledge: 0.05, safety: 0.1}
"""

STARTER_CSV = """\
sku,name,category,price,in_stock,description
P-001,Classic Canvas Tote,Bags,24.00,12,A sturdy cotton canvas tote with inner pocket.
P-002,Leather Card Holder,Accessories,39.50,0,Slim vegetable-tanned leather holder for six cards.
P-003,Merino Beanie,Hats,29.90,7,Soft merino wool beanie in five colours.
"""

STARTER_MD = """\
# Shipping
We ship within 2 business days. Shipping is free on orders over $50.

# Returns
Unused items can be returned within 30 days for a full refund.
"""


def examples_root() -> Path:
    """Bundled examples: inside the installed wheel, or the repository's `examples/` in a checkout."""
    packaged = Path(__file__).parent / "_examples"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "examples"


def list_examples() -> list[str]:
    root = examples_root()
    return sorted(p.name for p in root.iterdir() if (p / "domainlm.yaml").exists()) if root.is_dir() else []


def init_project(directory: Path, example: str | None = None, force: bool = False) -> list[Path]:
    """Write a project into `directory`; files are staged aside and moved in, so a failure leaves nothing."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()) and not force:
        raise DomainlmError(f"{directory}: folder is not empty; choose another folder or pass --force.")
    if example is not None and example not in list_examples():
        raise DomainlmError(f"unknown example {example!r}; available: {', '.join(list_examples()) or 'none'}")
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        if example:
            shutil.copytree(examples_root() / example, staging, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            (staging / "domainlm.yaml").write_text(STARTER_YAML, encoding="utf-8")
            (staging / "catalog.csv").write_text(STARTER_CSV, encoding="utf-8")
            (staging / "knowledge").mkdir()
            (staging / "knowledge" / "policies.md").write_text(STARTER_MD, encoding="utf-8")
        written = [p.relative_to(staging) for p in sorted(staging.rglob("*")) if p.is_file()]
        if not directory.exists():
            os.replace(staging, directory)
        else:
            for rel in written:
                target = directory / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / rel, target)
            shutil.rmtree(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    os.chmod(directory, 0o755)
    return [directory / rel for rel in written]
