"""Patterns that name a kind outright, checked before the classifier (microseconds a turn).

They catch the unambiguous cases (an instruction override, a discount request, a competitor by name);
the classifier handles the rest. Order matters: the first kind that matches wins.
"""

from __future__ import annotations

import re

from domainlm.data.banks import GENERIC_COMPETITORS

_I = re.IGNORECASE | re.DOTALL

INJECTION = [
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(previous|prior|above|earlier|all|your|everything|these)\b.{0,40}"
    r"\b(instructions?|rules|prompts?|told|directions|guidelines)\b",
    r"\bignore (the|all|everything) (above|previous)\b",
    r"\b(system prompt|hidden (rules|instructions)|(print|reveal|show|list|repeat) (me )?(your|the) (full |hidden |secret )?"
    r"(instructions|rules|prompt))\b",
    r"\b(developer mode|maintenance mode|jailbreak|without (any )?restrictions|no (rules|restrictions|filters))\b",
    r"\byou are (now )?(dan|evilbot|freebot)\b|\bdan,",
    r"(^|\n)\s*(system|admin|assistant instructions|new instructions)\s*[:\]]",
    r"<\|?/?(system|im_start|im_end)\|?>|</?context>|\[system\]|#{2,}\s*system|system_override",
    r"\b(rules (changed|are cancelled)|previous rules|admin override|override enabled|new task:)",
    r"\bignor\w*\b.{0,40}(instruc|anweisung|istruzion|instrucc|instruç|instructies)",
    r"игнорируй|忽略.{0,6}指令|指示.{0,6}無視|1gn0r3|i g n o r e",
]

MANIPULATION = [
    r"\b(change|update|set|lower|raise|edit|correct|rename|delete|remove|mark|fix)\b.{0,50}\b(price|prices|description|"
    r"stock|catalog|catalogue|listing|records?|system)\b",
    r"\b(price|description|listing) of .{1,60} (is wrong|should be|to say)\b",
    r"\bremember for everyone\b|\bfrom now on,? tell (customers|everyone)\b|\bsave it to the catalog\b",
    r"\bcatalog is out of date\b|\bwas always\b.{0,20}\d|\backnowledge the new price\b|\bthat's what you should charge\b",
    r"\badd a note to\b",
    r"\b(set|change|lower|drop|make|put)\b.{1,60}\bto\s?[$€£¥]\s?\d",
]

NEGOTIATION = [
    r"\b(discount|coupon|promo code|voucher|price[- ]?match|wholesale price|student discount|sale price)\b",
    r"\b(match|beat) (it|that|their|the price|\$|£|€|\d)",
    r"\b(best|better|lower) price\b|\bknock .{0,15}\boff\b|\bcheaper if\b|\bmake a deal\b|\bdo it for\b",
    # "for less" is bargaining; "for less than $40" is a budget
    r"\d+\s?% off\b|\bthrow in (a )?free\b|\bif you do it for\b|\bfor less\b(?!\s+than\b)",
]


def _compile(patterns: list[str]) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns), _I)


class Heuristics:
    """Keyword and pattern rules; `match(text) -> (kind, matched text) | None`."""

    def __init__(self, competitors: list[str]):
        self.rules: list[tuple[str, re.Pattern]] = [
            ("injection", _compile(INJECTION)),
            ("manipulation", _compile(MANIPULATION)),
            ("negotiation", _compile(NEGOTIATION)),
        ]
        names = sorted({*competitors, *GENERIC_COMPETITORS}, key=len, reverse=True)
        if names:
            self.rules.append(("competitor", re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b", re.I)))

    def match(self, text: str) -> tuple[str, str] | None:
        for kind, pattern in self.rules:
            found = pattern.search(text)
            if found:
                return kind, found.group(0)
        return None
