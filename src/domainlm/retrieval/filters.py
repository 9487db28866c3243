"""Structured filters, applied exactly (never by similarity) to products or to columnar arrays."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from domainlm.catalog.product import Product


@dataclass(frozen=True)
class Filters:
    """Exact constraints on products; `None` means no constraint.

    >>> Filters(price_max=20, category="Red Wine").describe()
    'price <= 20, category = Red Wine'
    """

    price_min: float | None = None
    price_max: float | None = None
    category: str | None = None
    in_stock: bool | None = None
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    """Mapped numeric fields by label: `{"alcohol": (None, 14.0)}` keeps alcohol <= 14."""

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.price_min, self.price_max, self.category, self.in_stock)) or any(
            lo is not None or hi is not None for lo, hi in self.ranges.values()
        )

    def __hash__(self) -> int:
        return hash((self.price_min, self.price_max, self.category, self.in_stock, tuple(sorted(self.ranges.items()))))

    def describe(self) -> str:
        parts = []
        if self.price_min is not None:
            parts.append(f"price >= {self.price_min:g}")
        if self.price_max is not None:
            parts.append(f"price <= {self.price_max:g}")
        if self.category is not None:
            parts.append(f"category = {self.category}")
        if self.in_stock is not None:
            parts.append("in stock" if self.in_stock else "out of stock")
        for label, (lo, hi) in sorted(self.ranges.items()):
            if lo is not None:
                parts.append(f"{label} >= {lo:g}")
            if hi is not None:
                parts.append(f"{label} <= {hi:g}")
        return ", ".join(parts) or "none"

    def matches(self, product: Product) -> bool:
        """Whether one product passes every constraint (the reference the array path is tested against)."""
        cents = _cents(product.price)
        if self.price_min is not None and cents < _cents(self.price_min):
            return False
        if self.price_max is not None and cents > _cents(self.price_max):
            return False
        if self.category is not None and (product.category or "").casefold() != self.category.casefold():
            return False
        if self.in_stock is not None and product.in_stock is not self.in_stock:
            return False
        for label, (lo, hi) in self.ranges.items():
            attr = product.attribute(label)
            value = _number(attr.value) if attr is not None else math.nan
            if math.isnan(value):
                return False
            if lo is not None and value < lo:
                return False
            if hi is not None and value > hi:
                return False
        return True

    def mask(self, columns: "FilterColumns") -> np.ndarray:
        """A boolean array over index slots: True where the product passes (dead slots are False)."""
        keep = columns.alive.copy()
        if self.price_min is not None:
            keep &= columns.price_cents >= _cents(self.price_min)
        if self.price_max is not None:
            keep &= columns.price_cents <= _cents(self.price_max)
        if self.category is not None:
            code = columns.category_code(self.category)
            keep &= columns.category == code
        if self.in_stock is not None:
            keep &= columns.in_stock == (1 if self.in_stock else 0)
        for label, (lo, hi) in self.ranges.items():
            values = columns.numeric.get(label)
            if values is None:
                keep[:] = False
                break
            with np.errstate(invalid="ignore"):
                if lo is not None:
                    keep &= values >= lo
                if hi is not None:
                    keep &= values <= hi
            keep &= ~np.isnan(values)
        return keep


def _cents(price: float) -> int:
    return int(round(float(price) * 100))


def _number(value) -> float:
    if isinstance(value, bool):
        return math.nan
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return math.nan


@dataclass
class FilterColumns:
    """Filterable product values as arrays, one entry per index slot.

    price_cents: int64 [n]; category: int32 [n] (code into `categories`, -1 none);
    in_stock: int8 [n] (1 in, 0 out, -1 unknown); numeric: label -> float64 [n] (NaN missing);
    alive: bool [n] (False for slots of deleted or replaced products).
    """

    price_cents: np.ndarray
    category: np.ndarray
    in_stock: np.ndarray
    numeric: dict[str, np.ndarray]
    alive: np.ndarray
    categories: list[str]

    def __len__(self) -> int:
        return len(self.alive)

    def category_code(self, name: str) -> int:
        folded = name.casefold()
        for i, c in enumerate(self.categories):
            if c.casefold() == folded:
                return i
        return -2  # matches nothing (-1 is "no category")

    @classmethod
    def empty(cls, numeric_labels: list[str] = ()) -> "FilterColumns":
        return cls(
            price_cents=np.zeros(0, np.int64), category=np.zeros(0, np.int32), in_stock=np.zeros(0, np.int8),
            numeric={label: np.zeros(0, np.float64) for label in numeric_labels}, alive=np.zeros(0, bool),
            categories=[],
        )

    def append(self, products: list[Product]) -> None:
        """Add slots for `products` at the end (live updates and builds)."""
        codes = {c: i for i, c in enumerate(self.categories)}
        cats = np.empty(len(products), np.int32)
        for i, p in enumerate(products):
            if p.category is None:
                cats[i] = -1
                continue
            if p.category not in codes:
                codes[p.category] = len(self.categories)
                self.categories.append(p.category)
            cats[i] = codes[p.category]
        stock = np.array([-1 if p.in_stock is None else int(p.in_stock) for p in products], np.int8)
        labels = set(self.numeric)
        for p in products:
            for a in p.attributes:
                if a.label not in labels and not math.isnan(_number(a.value)):
                    labels.add(a.label)
                    self.numeric[a.label] = np.full(len(self.alive), np.nan)
        for label in labels:
            values = np.full(len(products), np.nan)
            for i, p in enumerate(products):
                attr = p.attribute(label)
                if attr is not None:
                    values[i] = _number(attr.value)
            self.numeric[label] = np.concatenate([self.numeric[label], values])
        self.price_cents = np.concatenate([self.price_cents, np.array([_cents(p.price) for p in products], np.int64)])
        self.category = np.concatenate([self.category, cats])
        self.in_stock = np.concatenate([self.in_stock, stock])
        self.alive = np.concatenate([self.alive, np.ones(len(products), bool)])

    def set_volatile(self, slot: int, product: Product) -> None:
        """Refresh price and stock of a slot in place (a price-only change)."""
        self.price_cents[slot] = _cents(product.price)
        self.in_stock[slot] = -1 if product.in_stock is None else int(product.in_stock)

    def numeric_labels(self) -> list[str]:
        return sorted(self.numeric)
