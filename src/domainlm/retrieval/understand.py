"""The query understander: pulls exact filters (price bounds, category, stock, numeric fields) out of
plain questions, e.g. "a dry red under $20 from Spain" -> price <= 20, category = Red Wine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from domainlm.config import CURRENCY_SYMBOLS
from domainlm.retrieval.filters import Filters
from domainlm.retrieval.text import fold

# Words people use for a category that the category's own name does not contain; each maps to a word
# that must appear in the catalog's category name ("bubbly" -> the category containing "sparkling").
SYNONYMS: dict[str, str] = {
    "bubbly": "sparkling", "bubbles": "sparkling", "fizz": "sparkling", "prosecco": "sparkling",
    "cava": "sparkling", "whiskey": "whisky", "whiskeys": "whisky", "whiskies": "whisky", "scotch": "whisky",
    "bourbon": "whisky", "rosado": "rose", "blush": "rose", "port": "fortified", "sherry": "fortified",
    "sweet wine": "dessert", "spirit": "spirits", "mezcal": "mezcal", "tequila": "tequila",
}
# Generic words that never name a category on their own (so "wines" does not pick "Red Wine").
GENERIC = {"wine", "wines", "bottle", "bottles", "drink", "drinks", "the", "and", "&", "a", "an", "of"}

_NUM = r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?!\d|\.\d)"
_UNIT_AFTER = r"(?!\s*(?:%|ml|cl|l\b|years?|yrs?|yo\b|y/o|°|proof|abv|litres?|liters?))"


def _money(symbols: str) -> str:
    return rf"(?:{symbols})?\s*{_NUM}\s*(?:dollars?|bucks|usd|eur|euros?|gbp|pounds?)?"


@dataclass
class Understood:
    """What the understander found: the filters and the query with the filter phrases removed."""

    filters: Filters
    rest: str
    spans: list[str] = field(default_factory=list)
    category_phrase: str | None = None  # the words that named the category, e.g. "reds"


class QueryUnderstander:
    """Extracts filters using the catalog's own categories and numeric fields (labels and units)."""

    def __init__(self, categories: list[str], numeric_fields: dict[str, str | None] | None = None,
                 currency: str = "USD"):
        self.categories = sorted(categories)
        self.numeric_fields = numeric_fields or {}
        symbol = re.escape(CURRENCY_SYMBOLS.get(currency, "$").strip())
        self._symbols = "|".join({symbol, r"\$"})
        self._category_phrases = self._phrases()

    def _phrases(self) -> list[tuple[re.Pattern, str]]:
        """(pattern, category) pairs, longest phrase first, for names, plurals, first words and synonyms."""
        phrases: dict[str, set[str]] = {}

        def add(phrase: str, category: str) -> None:
            phrase = phrase.strip()
            if phrase and phrase not in GENERIC and len(phrase) > 2:
                phrases.setdefault(phrase, set()).add(category)

        for cat in self.categories:
            folded = fold(cat)
            add(folded, cat)
            add(_plural(folded), cat)
            words = [w for w in re.split(r"[\s&/,]+", folded) if w]
            for w in words:
                if w not in GENERIC:
                    add(w, cat)
                    add(_plural(w), cat)
        for word, target in SYNONYMS.items():
            hits = [c for c in self.categories if target in fold(c)]
            if len(hits) == 1:
                add(word, hits[0])
        # A phrase that names several categories ("wine" in Red Wine and White Wine) says nothing.
        unique = [(p, next(iter(c))) for p, c in phrases.items() if len(c) == 1]
        unique.sort(key=lambda pc: -len(pc[0]))
        return [(re.compile(rf"(?<![\w]){re.escape(p)}(?![\w])"), c) for p, c in unique]

    def parse(self, query: str) -> Understood:
        text = fold(query)
        spans: list[str] = []
        price_min = price_max = None
        money = _money(self._symbols)

        def take(match: re.Match) -> None:
            nonlocal text
            spans.append(match.group(0).strip())
            text = text[: match.start()] + " " + text[match.end():]

        ranges: dict[str, tuple[float | None, float | None]] = {}
        for label, unit in self.numeric_fields.items():
            names = [re.escape(fold(label))]
            if label == "alcohol":
                names.append("abv")
            head = "|".join(names)
            unit_pat = re.escape(unit) if unit else None
            pattern = rf"\b(?:{head})\s*(?:of\s*)?(under|below|less than|at most|over|above|more than|at least)\s*(\d+(?:\.\d+)?)\s*(?:{unit_pat})?" if unit_pat else \
                rf"\b(?:{head})\s*(under|below|less than|at most|over|above|more than|at least)\s*(\d+(?:\.\d+)?)"
            m = re.search(pattern, text)
            if not m and unit_pat:
                m = re.search(rf"\b(under|below|less than|at most|over|above|more than|at least)\s*(\d+(?:\.\d+)?)\s*{unit_pat}(?![\w])", text)
            if m:
                number = float(m.group(2))
                lo, hi = (None, number) if m.group(1) in ("under", "below", "less than", "at most") else (number, None)
                ranges[label] = (lo, hi)
                take(m)

        between = re.search(
            rf"\bbetween\s+{money}\s*(?:and|-|to)\s*{money}{_UNIT_AFTER}"
            rf"|(?:{self._symbols})\s*{_NUM}\s*(?:-|to)\s*(?:{self._symbols})?\s*{_NUM}{_UNIT_AFTER}", text)
        if between:
            nums = [g for g in between.groups()]
            a, b = (_value(nums[0], nums[1]), _value(nums[2], nums[3])) if nums[0] else (
                _value(nums[4], nums[5]), _value(nums[6], nums[7]))
            price_min, price_max = min(a, b), max(a, b)
            take(between)
        upper = re.search(
            rf"\b(?:under|below|less than|cheaper than|up to|at most|no more than|max(?:imum)?|within|<=?)\s*{money}{_UNIT_AFTER}"
            rf"|{money}\s*(?:or less|or under|or cheaper|max)\b", text)
        if upper and price_max is None:
            g = upper.groups()
            price_max = _value(g[0], g[1]) if g[0] else _value(g[2], g[3])
            take(upper)
        lower = re.search(
            rf"\b(?:over|above|more than|at least|min(?:imum)?|pricier than|>=?)\s*{money}{_UNIT_AFTER}"
            rf"|{money}\s*(?:or more|and up|plus)\b", text)
        if lower and price_min is None:
            g = lower.groups()
            price_min = _value(g[0], g[1]) if g[0] else _value(g[2], g[3])
            take(lower)

        in_stock = None
        stock = re.search(r"\b(in stock|available now|in-stock|can i get (?:it|one) today)\b", text)
        if stock:
            in_stock = True
            take(stock)

        category = category_phrase = None
        for pattern, cat in self._category_phrases:
            m = pattern.search(text)
            if m:
                category, category_phrase = cat, m.group(0)
                spans.append(m.group(0))
                break
        rest = " ".join(text.split())
        return Understood(Filters(price_min, price_max, category, in_stock, ranges), rest, spans, category_phrase)


def _plural(word: str) -> str:
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


def _value(whole: str, cents: str | None) -> float:
    number = float(whole.replace(",", ""))
    if cents:
        number += float(f"0.{cents}")
    return number
