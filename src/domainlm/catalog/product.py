"""Typed product records and the catalog that holds them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterator


@dataclass(frozen=True)
class Attribute:
    """One quotable catalog value: `alcohol = 13.5 %`."""

    label: str
    value: Any  # str, int, float or bool as read from the source
    unit: str | None = None

    def render(self) -> str:
        """The value as the assistant says it, e.g. `13.5%` or `750 ml`."""
        value = format_number(self.value) if isinstance(self.value, (int, float)) and not isinstance(self.value, bool) else str(self.value)
        if not self.unit:
            return value
        return f"{value}{self.unit}" if self.unit in ("%", "°", "°C", "°F") else f"{value} {self.unit}"


def format_number(value: float | int) -> str:
    """`13.0 -> '13'`, `13.50 -> '13.5'`: numbers as a person writes them."""
    if isinstance(value, int):
        return str(value)
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Product:
    """A product as the assistant knows it; `price` is in the catalog's currency, rounded to cents."""

    id: str
    name: str
    price: float
    currency: str
    category: str | None = None
    stock: int | bool | None = None  # a count, or True/False when the catalog only says in/out of stock
    description: str | None = None
    attributes: tuple[Attribute, ...] = ()
    row: int = 0  # 1-based data row in the source (header not counted), for error messages

    @property
    def in_stock(self) -> bool | None:
        if self.stock is None:
            return None
        if isinstance(self.stock, bool):
            return self.stock
        return self.stock > 0

    def attribute(self, label: str) -> Attribute | None:
        for attr in self.attributes:
            if attr.label == label:
                return attr
        return None

    def canonical(self) -> dict[str, Any]:
        """Everything that defines the product, as plain data (the basis of content hashes)."""
        return {
            "id": self.id,
            "name": self.name,
            "price": round(self.price, 2),
            "currency": self.currency,
            "category": self.category,
            "stock": self.stock,
            "description": self.description,
            "attributes": [[a.label, a.value, a.unit] for a in self.attributes],
        }

    def content_hash(self) -> str:
        """Changes when anything about the product changes (retrieval uses it for live updates)."""
        blob = json.dumps(self.canonical(), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    def text_hash(self) -> str:
        """Changes only when the text that gets embedded changes (not on price or stock changes)."""
        data = self.canonical()
        for volatile in ("price", "stock"):
            data.pop(volatile)
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


@dataclass
class Catalog:
    """All products of a shop, by id, with a version that changes when any product changes."""

    products: list[Product]
    currency: str
    source: str = ""
    _by_id: dict[str, Product] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {p.id: p for p in self.products}

    def __len__(self) -> int:
        return len(self.products)

    def __iter__(self) -> Iterator[Product]:
        return iter(self.products)

    def get(self, product_id: str) -> Product | None:
        return self._by_id.get(product_id)

    def __contains__(self, product_id: str) -> bool:
        return product_id in self._by_id

    @cached_property
    def version(self) -> str:
        """Content hash over all products in id order: same products, same version, whatever the source."""
        digest = hashlib.sha256()
        for product in sorted(self.products, key=lambda p: p.id):
            digest.update(product.content_hash().encode())
            digest.update(b"\n")
        return digest.hexdigest()[:16]

    @cached_property
    def categories(self) -> list[str]:
        return sorted({p.category for p in self.products if p.category})
