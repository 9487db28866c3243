"""Grounding checks: every price, number and product name in an answer must come from the catalog.

Used on every generated and every teacher-written answer, and by the tests. A price is a currency
symbol followed by a number (`$1,234.50`); a number is any other run of digits (`13.5`, `750`, `16`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from domainlm.catalog.product import Catalog, Product
from domainlm.config import CURRENCY_SYMBOLS
from domainlm.prompt import Context, format_price, render_context

_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.,])\d+(?:\.\d+)?")


def price_pattern(currency: str) -> re.Pattern:
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ").strip()
    return re.compile(re.escape(symbol) + r"\s?\d[\d,]*(?:\.\d+)?")


def numbers_in(text: str) -> list[str]:
    """Number tokens, thousands separators removed: `'$1,234.50 and 13.5%' -> ['1234.50', '13.5']`."""
    return [m.group(0).replace(",", "") for m in _NUMBER.finditer(text)]


def _canonical_number(token: str) -> str:
    value = float(token)
    return str(int(value)) if value.is_integer() else f"{value:.6f}".rstrip("0").rstrip(".")


@dataclass
class GroundingCheck:
    """Checks answers against the catalog: prices must be a real product's price (or a price in a knowledge
    passage shown), numbers must appear in the context the answer was given, names must be real."""

    catalog: Catalog

    @cached_property
    def _price_re(self) -> re.Pattern:
        return price_pattern(self.catalog.currency)

    @cached_property
    def catalog_prices(self) -> set[str]:
        return {format_price(p.price, p.currency) for p in self.catalog}

    @cached_property
    def _names(self) -> dict[str, Product]:
        return {p.name.lower(): p for p in self.catalog}

    def problems(self, answer: str, context: Context, allowed_extra: str = "") -> list[str]:
        """What is wrong with `answer` given the context it was written from (empty when grounded)."""
        found: list[str] = []
        shown = render_context(context) + "\n" + allowed_extra
        shown_prices = set(self._price_re.findall(shown))
        shown_numbers = {_canonical_number(n) for n in numbers_in(shown)}
        rest = answer
        for price in self._price_re.findall(answer):
            normalised = price.replace(" ", "") if " " not in format_price(0, self.catalog.currency) else price
            if normalised not in shown_prices:
                found.append(f"price {price} is not a price in the context")
            rest = rest.replace(price, " ", 1)
        for token in numbers_in(rest):
            if _canonical_number(token) not in shown_numbers:
                found.append(f"number {token} is not in the context")
        return found

    def mentioned(self, text: str) -> list[Product]:
        """Catalog products whose full name appears in `text` (case-insensitive), longest names first."""
        lowered = text.lower()
        hits = [p for name, p in self._names.items() if name in lowered]
        return sorted(hits, key=lambda p: -len(p.name))

    def invented_names(self, answer: str, suspects: list[str]) -> list[str]:
        """Which of the `suspects` (names known not to be products) the answer uses."""
        lowered = answer.lower()
        return [s for s in suspects if s.lower() in lowered]
