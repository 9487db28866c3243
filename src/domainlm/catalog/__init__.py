"""The product catalog: sources, typed products, validation and the catalog version."""

from domainlm.catalog.load import Problem, load_catalog, parse_price, parse_stock
from domainlm.catalog.product import Attribute, Catalog, Product, format_number
from domainlm.catalog.sources import SOURCES, mask_url, open_source

__all__ = [
    "Attribute", "Catalog", "Problem", "Product", "SOURCES", "format_number", "load_catalog",
    "mask_url", "open_source", "parse_price", "parse_stock",
]
