"""Fact checks: prices, numeric specs and stock claims read out of an answer and compared with the catalog.

Each claim is tied to a product: the nearest product named before it in the same sentence (by full name
or id), else the next one named just after it, else the product the question was about, else the
products retrieval showed. A price is right when it is that product's price as the catalog says now.
Thresholds ("under $20", "free shipping over $99") and prices from knowledge passages are not claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from domainlm.catalog.product import Catalog, Product, format_number
from domainlm.data.grounding import price_pattern
from domainlm.eval.detect import sentences

# Numbers written with one of these units (or a 4-digit vintage) are spec claims.
_SPEC = re.compile(r"(?<![\w.$])(\d+(?:\.\d+)?)\s?(%|ml|cl|l\b|litres?|liters?|proof|years?\b)", re.IGNORECASE)
_VINTAGE = re.compile(r"(?<![\w.$])((?:19|20)\d{2})(?![\w.%])")
_THRESHOLD = re.compile(r"(?:under|below|less than|up to|over|above|more than|budget(?: of)?|max(?:imum)?|within|around)\s*$",
                        re.IGNORECASE)
_OUT = re.compile(r"\b(?:out of stock|sold out|not (?:currently )?(?:available|in stock)|unavailable|none left|no stock)\b",
                  re.IGNORECASE)
_IN = re.compile(r"\b(?:in stock|available (?:now|to order|today)|(?:we|still) have (?:it|them|some|plenty|\d+))\b", re.IGNORECASE)
_COUNT = re.compile(r"\b(\d+) (?:in stock|bottles? (?:left|in stock|available)|left)\b|\bwe have (\d+)\b", re.IGNORECASE)


def _money(text: str) -> float | None:
    digits = re.sub(r"[^\d.]", "", text)
    try:
        return round(float(digits), 2)
    except ValueError:
        return None


@dataclass
class Claim:
    kind: str  # price | spec | stock
    text: str  # as written in the answer
    product: str | None  # product id it is about, None when no product could be tied
    ok: bool
    expected: str | None = None  # what the catalog says

    def as_dict(self) -> dict:
        return {"kind": self.kind, "text": self.text, "product": self.product, "ok": self.ok, "expected": self.expected}


@dataclass
class FactReport:
    claims: list[Claim] = field(default_factory=list)
    unknown_ids: list[str] = field(default_factory=list)  # product ids the catalog lacks
    mentioned: list[str] = field(default_factory=list)  # catalog product ids named in the answer

    def of(self, kind: str) -> list[Claim]:
        return [c for c in self.claims if c.kind == kind]

    def wrong(self, kind: str | None = None) -> list[Claim]:
        return [c for c in self.claims if not c.ok and (kind is None or c.kind == kind)]


class FactChecker:
    """Reads claims out of answers for one catalog; built once per evaluation."""

    def __init__(self, catalog: Catalog, knowledge_text: str = ""):
        self.catalog = catalog
        self.price_re = price_pattern(catalog.currency)
        self.knowledge_prices = {_money(m) for m in self.price_re.findall(knowledge_text)}
        self.knowledge_numbers = {format_number(float(n)) for n in re.findall(r"\d+(?:\.\d+)?", knowledge_text)}

    @cached_property
    def _name_re(self) -> re.Pattern:
        names = sorted({p.name for p in self.catalog} | {p.id for p in self.catalog}, key=len, reverse=True)
        return re.compile("|".join(re.escape(n) for n in names), re.IGNORECASE)

    @cached_property
    def _by_key(self) -> dict[str, Product]:
        out = {p.name.lower(): p for p in self.catalog}
        out.update({p.id.lower(): p for p in self.catalog})
        return out

    @cached_property
    def _id_shape(self) -> re.Pattern | None:
        """Ids shaped like the catalog's (`W-0042` -> letters, dash, digits), to spot invented ones."""
        shapes = {re.sub(r"\d", "9", re.sub(r"[A-Za-z]", "A", p.id)) for p in self.catalog}
        if not shapes or any(len(s) < 4 for s in shapes):
            return None
        alts = []
        for shape in shapes:
            alts.append("".join(r"[A-Z]" if c == "A" else r"\d" if c == "9" else re.escape(c) for c in shape))
        return re.compile(r"\b(?:" + "|".join(sorted(alts)) + r")\b")

    def mentions(self, text: str) -> list[tuple[int, int, Product]]:
        """(start, end, product) for every catalog name or id written in `text`."""
        return [(m.start(), m.end(), self._by_key[m.group(0).lower()]) for m in self._name_re.finditer(text)]

    def check(self, answer: str, focus: list[Product], shown: list[Product], user_text: str = "") -> FactReport:
        """Every price, spec and stock claim in `answer`, each marked right or wrong against the catalog."""
        report = FactReport()
        for sentence in self._sentences(answer):
            named = self.mentions(sentence)
            report.mentioned += [p.id for _, _, p in named]
            report.claims += self._prices(sentence, named, focus, shown)
            report.claims += self._specs(sentence, named, focus, shown, user_text)
            report.claims += self._stock(sentence, named, focus)
        report.mentioned = list(dict.fromkeys(report.mentioned))
        if self._id_shape is not None:
            report.unknown_ids = sorted({m.group(0) for m in self._id_shape.finditer(answer) if m.group(0) not in self.catalog})
        return report

    def _sentences(self, answer: str) -> list[str]:
        """The answer's sentences, with a break inside a catalog name undone ("Joh. Jos. Prüm ... is $18.99"
        would otherwise tie $18.99 to the product named before "Joh.")."""
        spans = [(s, e) for s, e, _ in self.mentions(answer)]
        out: list[tuple[int, int]] = []
        offset = 0
        for sentence in sentences(answer):
            start = answer.find(sentence, offset)
            end = offset = start + len(sentence)
            if out and any(s < out[-1][1] and e > out[-1][1] for s, e in spans):
                out[-1] = (out[-1][0], end)
            else:
                out.append((start, end))
        return [answer[a:b] for a, b in out]

    def _tied(self, pos: int, end: int, named, focus: list[Product], shown: list[Product]) -> list[Product]:
        before = [p for s, e, p in named if e <= pos]
        if before:
            return [before[-1]]
        after = [p for s, e, p in named if s >= end and s - end <= 60]
        if after:
            return [after[0]]
        return focus or shown

    def _prices(self, sentence: str, named, focus, shown) -> list[Claim]:
        claims = []
        for m in self.price_re.finditer(sentence):
            value = _money(m.group(0))
            if value is None or _THRESHOLD.search(sentence[: m.start()]) or value in self.knowledge_prices:
                continue
            candidates = self._tied(m.start(), m.end(), named, focus, shown)
            ok = any(abs(p.price - value) < 0.005 for p in candidates)
            expected = candidates[0] if len(candidates) == 1 else None
            claims.append(Claim("price", m.group(0), expected.id if expected else None, ok,
                                _fmt_price(expected) if expected else None))
        return claims

    def _specs(self, sentence: str, named, focus, shown, user_text: str) -> list[Claim]:
        claims = []
        found = [(m.start(), m.end(), m.group(1), m.group(0)) for m in _SPEC.finditer(sentence)]
        found += [(m.start(), m.end(), m.group(1), m.group(0)) for m in _VINTAGE.finditer(sentence)]
        for start, end, number, written in found:
            if self.price_re.search(sentence[max(0, start - 3): end]) or number in user_text:
                continue
            value = format_number(float(number))
            candidates = self._tied(start, end, named, focus, shown)
            truth = {format_number(float(n)) for p in candidates for n in _numbers_of(p)}
            ok = value in truth or value in self.knowledge_numbers
            one = candidates[0] if len(candidates) == 1 else None
            claims.append(Claim("spec", written, one.id if one else None, ok))
        return claims

    def _stock(self, sentence: str, named, focus) -> list[Claim]:
        out, inn = _OUT.search(sentence), _IN.search(sentence)
        if not (out or inn):
            return []
        products = [p for _, _, p in named] or (focus[:1] if len(focus) == 1 else [])
        claims = []
        for product in dict.fromkeys(products):
            if product.in_stock is None:
                continue
            said_in = bool(inn) and not out
            ok = said_in == product.in_stock
            count = _COUNT.search(sentence)
            if ok and count and isinstance(product.stock, int) and not isinstance(product.stock, bool):
                ok = int(count.group(1) or count.group(2)) == product.stock
            claims.append(Claim("stock", (out or inn).group(0), product.id, ok,
                                "in stock" if product.in_stock else "out of stock"))
        return claims


def _numbers_of(product: Product) -> list[str]:
    values = [str(product.price)]
    if isinstance(product.stock, int) and not isinstance(product.stock, bool):
        values.append(str(product.stock))
    for attr in product.attributes:
        values += re.findall(r"\d+(?:\.\d+)?", attr.render())
    values += re.findall(r"\d+(?:\.\d+)?", product.name + " " + (product.description or ""))
    return values


def _fmt_price(product: Product) -> str:
    from domainlm.prompt import format_price

    return format_price(product.price, product.currency)
