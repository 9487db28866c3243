"""Finding what an answer claims: product mentions (names and ids), prices, numbers with units, stock.

Price and number tokens use the data builder's grounding patterns (`domainlm.data.grounding`), so the
data build and the verifier agree on what a price is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domainlm.catalog.product import Catalog, Product
from domainlm.data.grounding import price_pattern

_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")
MAX_NAME_WORDS = 12


def name_key(text: str) -> tuple[str, ...]:
    """`"Moët & Chandon Imperial"` -> `('moët', 'chandon', 'imperial')`: how names are compared."""
    return tuple(_WORD.findall(text.lower()))


@dataclass(frozen=True)
class Mention:
    """A catalog product named in the text, by full name or id, at [start, end); `product` is None for a near-miss
    name of a product the catalog does not have."""

    start: int
    end: int
    product: Product | None


@dataclass(frozen=True)
class Claim:
    """A checkable value in the text at [start, end).

    kind: "price" (value in the catalog currency), "spec" (value + unit), "stock_count" (value) or
    "stock_state" (value 1.0 in stock, 0.0 out of stock).
    """

    kind: str
    start: int
    end: int
    text: str
    value: float
    unit: str = ""
    value_start: int = 0  # where the number itself starts (repairs replace only the number for specs)
    value_end: int = 0


class NameIndex:
    """Exact product-name and id lookup over a whole catalog: O(words x MAX_NAME_WORDS) dict lookups a text."""

    def __init__(self, catalog: Catalog):
        self.by_name: dict[tuple[str, ...], Product] = {}
        self.by_id: dict[str, Product] = {}
        longest = 1
        for p in catalog:
            key = name_key(p.name)
            if key and key not in self.by_name:
                self.by_name[key] = p
                longest = max(longest, len(key))
            self.by_id[p.id.lower()] = p
        self.max_words = min(longest, MAX_NAME_WORDS)
        shapes = {re.sub(r"\d", "9", re.sub(r"[^\W\d_]", "A", p.id)) for p in catalog}
        self.id_shapes = {s for s in shapes if "A" in s and "9" in s}
        self._id_token = re.compile(r"[\w][\w\-./]*\w")

    def mentions(self, text: str) -> list[Mention]:
        words = [(m.start(), m.end(), m.group(0).lower()) for m in _WORD.finditer(text)]
        found: list[Mention] = []
        i = 0
        while i < len(words):
            hit = None
            for n in range(min(self.max_words, len(words) - i), 0, -1):
                product = self.by_name.get(tuple(w for _, _, w in words[i:i + n]))
                if product is not None:
                    hit = (n, product)
                    break
            if hit:
                n, product = hit
                found.append(Mention(words[i][0], words[i + n - 1][1], product))
                i += n
            else:
                i += 1
        for m in self._id_token.finditer(text):
            product = self.by_id.get(m.group(0).lower())
            if product is not None and not any(x.start <= m.start() < x.end for x in found):
                found.append(Mention(m.start(), m.end(), product))
        return sorted(found, key=lambda x: x.start)

    def unknown_ids(self, text: str) -> list[str]:
        """Tokens shaped like this catalog's ids (`W-0042`) that are not ids in it."""
        out = []
        for m in self._id_token.finditer(text):
            token = m.group(0)
            shape = re.sub(r"\d", "9", re.sub(r"[^\W\d_]", "A", token))
            if shape in self.id_shapes and token.lower() not in self.by_id:
                out.append(token)
        return out


def _number(token: str) -> float:
    return float(token.replace(",", ""))


_NUM = r"\d[\d,]*(?:\.\d+)?"


class ClaimPatterns:
    """Compiled patterns for one catalog: its currency and the units its fields use."""

    def __init__(self, catalog: Catalog):
        self.price = price_pattern(catalog.currency)
        self.price_code = re.compile(rf"({_NUM})\s?(?:{re.escape(catalog.currency)}\b|dollars?\b)"
                                     if catalog.currency == "USD" else rf"({_NUM})\s?{re.escape(catalog.currency)}\b")
        units = sorted({a.unit for p in list(catalog)[:5000] for a in p.attributes if a.unit}, key=len, reverse=True)
        self.units = units
        self.spec = None
        if units:
            alternatives = "|".join(re.escape(u) + (r"\b" if u[-1].isalnum() else "") for u in units)
            self.spec = re.compile(rf"(?<![\w.$€£¥])(\d+(?:\.\d+)?)\s?({alternatives})", re.IGNORECASE)
        self.stock_count = re.compile(r"\b(?:only\s+)?(\d+)\s+(?:(?:bottles?|units?|items?|left)\s+)?(?:in stock|left)\b",
                                      re.IGNORECASE)
        self.stock_state = re.compile(r"\b(out of stock|sold out|not in stock|in stock)\b", re.IGNORECASE)


def extract_claims(text: str, patterns: ClaimPatterns) -> list[Claim]:
    """Every price, spec, stock count and stock state in `text`, in order; overlapping matches are dropped."""
    claims: list[Claim] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    for m in patterns.price.finditer(text):
        number = re.search(_NUM, m.group(0))
        claims.append(Claim("price", m.start(), m.end(), m.group(0), _number(number.group(0)),
                            value_start=m.start() + number.start(), value_end=m.start() + number.end()))
        taken.append((m.start(), m.end()))
    for m in patterns.price_code.finditer(text):
        if free(m.start(), m.end()):
            claims.append(Claim("price", m.start(), m.end(), m.group(0), _number(m.group(1)),
                                value_start=m.start(1), value_end=m.end(1)))
            taken.append((m.start(), m.end()))
    for m in patterns.stock_count.finditer(text):
        if free(m.start(), m.end()):
            claims.append(Claim("stock_count", m.start(), m.end(), m.group(0), float(m.group(1)),
                                value_start=m.start(1), value_end=m.end(1)))
            taken.append((m.start(), m.end()))
    if patterns.spec is not None:
        for m in patterns.spec.finditer(text):
            if free(m.start(), m.end()):
                claims.append(Claim("spec", m.start(), m.end(), m.group(0), float(m.group(1)), m.group(2),
                                    m.start(1), m.end(1)))
                taken.append((m.start(), m.end()))
    for m in patterns.stock_state.finditer(text):
        if free(m.start(), m.end()):
            state = 1.0 if m.group(1).lower() == "in stock" else 0.0
            claims.append(Claim("stock_state", m.start(), m.end(), m.group(0), state,
                                value_start=m.start(), value_end=m.end()))
            taken.append((m.start(), m.end()))
    return sorted(claims, key=lambda c: c.start)


def sentence_bounds(text: str, pos: int) -> tuple[int, int]:
    """[start, end) of the sentence holding `pos` (ends at . ! ? followed by space, or a newline)."""
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if m.end() <= pos:
            start = m.end()
        else:
            return start, m.end()
    return start, len(text)
