"""Read a catalog source, map its columns to products and validate every row in one pass."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from domainlm.catalog.product import Attribute, Catalog, Product
from domainlm.catalog.sources import Row, open_source
from domainlm.config import CURRENCY_SYMBOLS, CatalogConfig
from domainlm.errors import CatalogError


@dataclass(frozen=True)
class Problem:
    """One validation problem, located by data row (1-based, header not counted) and product id."""

    row: int | None
    id: str | None
    field: str
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.id:
            where.append(f"id {self.id}")
        location = ", ".join(where) or "catalog"
        return f"{location}: {self.field}: {self.message}"


_TRUE = {"true", "yes", "y", "in stock", "available", "t"}
_FALSE = {"false", "no", "n", "out of stock", "sold out", "unavailable", "f"}
_CURRENCY_TOKENS = {code for code in CURRENCY_SYMBOLS} | {s.strip() for s in CURRENCY_SYMBOLS.values()}


def parse_price(value: Any, currency: str) -> float:
    """A price as a float in the catalog's currency; raises ValueError with the reason.

    >>> parse_price("$1,234.50", "USD")
    1234.5
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, Decimal):  # SQL NUMERIC columns
        value = float(value)
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip()
        own = {currency, CURRENCY_SYMBOLS[currency].strip()}
        stripped = text
        for token in sorted(own, key=len, reverse=True):
            stripped = stripped.replace(token, "")
        stripped = stripped.strip()
        leftover = re.sub(r"[0-9.,\s+-]", "", stripped)
        if leftover:
            if any(tok in text for tok in _CURRENCY_TOKENS - own) or re.search(r"[A-Z]{3}", leftover):
                raise ValueError(f"{text!r} is in an unknown currency format; expected a number or {currency} like "
                                 f"{CURRENCY_SYMBOLS[currency]}12.99")
            raise ValueError(f"{text!r} is not a number")
        if re.fullmatch(r"-?\d+,\d{1,2}", stripped):  # decimal comma: 12,99
            stripped = stripped.replace(",", ".")
        else:
            stripped = stripped.replace(",", "")
        try:
            number = float(stripped)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"{value!r} is not a finite number")
    if number < 0:
        raise ValueError(f"{value!r} is negative")
    return round(number, 2)


def parse_stock(value: Any) -> int | bool:
    """A stock count or an in/out-of-stock flag; raises ValueError with the reason."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        count = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        count = int(value)
    else:
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        try:
            as_float = float(text)
        except ValueError:
            raise ValueError(f"{value!r} is neither a number nor a boolean (true/false, yes/no)") from None
        if not as_float.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        count = int(as_float)
    if count < 0:
        raise ValueError(f"{value!r} is negative")
    return count


def _typed(value: Any) -> Any:
    """Text from CSV becomes int or float where it is one; whole floats become ints (13.0 -> 13) so
    every source types a value the same way and gives the same catalog version."""
    if isinstance(value, Decimal):  # SQL NUMERIC columns: 14.50 -> 14.5, like the same value in a CSV
        value = float(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, str):
        return value
    text = value.strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return _typed(float(text))
    return text


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _mapped_columns(config: CatalogConfig) -> dict[str, str]:
    """Config field -> column for every mapped column."""
    columns = {
        "catalog.id_column": config.id_column,
        "catalog.name_column": config.name_column,
        "catalog.price_column": config.price_column,
    }
    for key in ("category_column", "stock_column", "description_column"):
        column = getattr(config, key)
        if column:
            columns[f"catalog.{key}"] = column
    for i, spec in enumerate(config.fields):
        columns[f"catalog.fields[{i}].column"] = spec.column
    return columns


def row_to_product(row: Row, row_no: int, config: CatalogConfig, problems: list[Problem]) -> Product | None:
    """Map one source row to a product, appending every problem found; None when it is unusable."""
    pid = _text(row.get(config.id_column))
    count_before = len(problems)
    if pid is None:
        problems.append(Problem(row_no, None, config.id_column, "empty id"))
    name = _text(row.get(config.name_column))
    if name is None:
        problems.append(Problem(row_no, pid, config.name_column, "empty name"))
    price = 0.0
    raw_price = row.get(config.price_column)
    if raw_price is None:
        problems.append(Problem(row_no, pid, config.price_column, "empty price"))
    else:
        try:
            price = parse_price(raw_price, config.currency)
        except ValueError as exc:
            problems.append(Problem(row_no, pid, config.price_column, f"price {exc}"))
    stock: int | bool | None = None
    if config.stock_column and row.get(config.stock_column) is not None:
        try:
            stock = parse_stock(row[config.stock_column])
        except ValueError as exc:
            problems.append(Problem(row_no, pid, config.stock_column, f"stock {exc}"))
    if len(problems) > count_before:
        return None
    attributes = tuple(
        Attribute(label=spec.name, value=_typed(row[spec.column]), unit=spec.unit)
        for spec in config.fields
        if row.get(spec.column) is not None
    )
    return Product(
        id=pid,
        name=name,
        price=price,
        currency=config.currency,
        category=_text(row.get(config.category_column)) if config.category_column else None,
        stock=stock,
        description=_text(row.get(config.description_column)) if config.description_column else None,
        attributes=attributes,
        row=row_no,
    )


def validate_rows(rows, config: CatalogConfig) -> tuple[list[Product], list[Problem]]:
    """Map all rows, collecting every problem (missing columns, bad values, duplicate ids) in one pass."""
    problems: list[Problem] = []
    products: list[Product] = []
    seen: dict[str, int] = {}
    columns_checked = False
    row_no = 0
    for row_no, row in enumerate(rows, 1):
        if not columns_checked:
            columns_checked = True
            missing = [(key, col) for key, col in _mapped_columns(config).items() if col not in row]
            for key, col in missing:
                available = ", ".join(sorted(map(str, row))[:30])
                problems.append(Problem(None, None, key, f"column {col!r} is not in the catalog; columns: {available}"))
            if missing:
                return [], problems
        product = row_to_product(row, row_no, config, problems)
        if product is None:
            continue
        if product.id in seen:
            problems.append(
                Problem(row_no, product.id, config.id_column, f"duplicate id (first seen in row {seen[product.id]})")
            )
            continue
        seen[product.id] = row_no
        products.append(product)
    if row_no == 0:
        problems.append(Problem(None, None, "catalog.source", "the catalog has no rows"))
    return products, problems


def load_catalog(config: CatalogConfig, root: Path | str = ".") -> Catalog:
    """Read and validate the catalog; raises CatalogError listing every problem when any row is bad."""
    source = open_source(config, Path(root))
    products, problems = validate_rows(source.rows(), config)
    if problems:
        head = f"{source.describe()}: {len(problems)} problem(s) in the catalog:"
        shown = "\n".join(f"  - {p}" for p in problems[:200])
        more = f"\n  ... and {len(problems) - 200} more" if len(problems) > 200 else ""
        raise CatalogError(f"{head}\n{shown}{more}\nFix these rows (or the column mapping under `catalog:`) and run again.",
                           problems)
    return Catalog(products=products, currency=config.currency, source=source.describe())
