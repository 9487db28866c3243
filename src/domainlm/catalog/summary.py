"""A human summary of a catalog: size, price range, stock, field coverage and version."""

from __future__ import annotations

from collections import Counter

from rich.console import Group
from rich.table import Table

from domainlm.catalog.product import Catalog
from domainlm.config import CatalogConfig
from domainlm.knowledge import KnowledgeSection
from domainlm.prompt import format_price


def summarise(catalog: Catalog, config: CatalogConfig, sections: list[KnowledgeSection]) -> Group:
    prices = sorted(p.price for p in catalog)
    overview = Table(title=f"Catalog {catalog.source}", show_header=False)
    overview.add_column("what", style="bold")
    overview.add_column("value")
    overview.add_row("products", f"{len(catalog):,}")
    overview.add_row("version", catalog.version)
    overview.add_row(
        "price",
        f"{format_price(prices[0], catalog.currency)} .. {format_price(prices[-1], catalog.currency)}"
        f" (median {format_price(prices[len(prices) // 2], catalog.currency)})",
    )
    if config.stock_column:
        known = [p for p in catalog if p.in_stock is not None]
        overview.add_row("in stock", f"{sum(1 for p in known if p.in_stock):,} of {len(known):,}")
    if config.category_column:
        counts = Counter(p.category or "(none)" for p in catalog)
        top = ", ".join(f"{c} {n}" for c, n in counts.most_common(8))
        overview.add_row("categories", f"{len(counts)}: {top}")
    if config.description_column:
        overview.add_row("with description", f"{sum(1 for p in catalog if p.description):,}")
    files = sorted({s.source for s in sections})
    overview.add_row("knowledge", f"{len(sections)} sections from {len(files)} file(s)")

    fields = Table(title="Quotable fields")
    for column in ("label", "column", "unit", "filled"):
        fields.add_column(column)
    for spec in config.fields:
        filled = sum(1 for p in catalog if p.attribute(spec.name) is not None)
        fields.add_row(spec.name, spec.column, spec.unit or "", f"{filled / max(len(catalog), 1):.0%}")
    return Group(overview, fields) if config.fields else Group(overview)
