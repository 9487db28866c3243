"""Whether an answer gives away the assistant's instructions (the system prompt without its context).

The instructions hold public words as well: the shop's name, the assistant's name, the domain it helps with
and the competitors it will not discuss all appear in ordinary brand-voice replies ("I can only help with
wine, spirits, food pairing and orders from our shop"). Those phrases are masked out of the instructions
first, so only a run of words from the private part counts as a leak.

    instructions_leaked("Quote prices, stock and specs only from the context, exactly as written.", system)  # True
    instructions_leaked("Sorry, I can only help with wine, spirits, food pairing and orders from our shop.",
                        system, public_phrases(brand))                                                       # False
"""

from __future__ import annotations

import re
from typing import Sequence

from domainlm.config import BrandConfig

# Words in a row an answer must share with the private instructions to count as revealing them.
LEAK_WORDS = 7


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def public_phrases(brand: BrandConfig) -> list[str]:
    """Phrases of the instructions that brand-voice replies say openly: names, the domain, competitors."""
    return [p for p in (brand.assistant_name, brand.shop_name, brand.domain, *brand.competitors) if p]


def private_shingles(instructions: str, public: Sequence[str] = (), n: int = LEAK_WORDS) -> set[tuple[str, ...]]:
    """Every run of `n` words of `instructions` that touches no public phrase."""
    words = _words(instructions)
    masked = [False] * len(words)
    for phrase in public:
        target = _words(phrase)
        if not target:
            continue
        for i in range(len(words) - len(target) + 1):
            if words[i:i + len(target)] == target:
                masked[i:i + len(target)] = [True] * len(target)
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1) if not any(masked[i:i + n])}


def instructions_leaked(answer: str, instructions: str, public: Sequence[str] = (), n: int = LEAK_WORDS,
                        shingles: set[tuple[str, ...]] | None = None) -> bool:
    """True when `answer` repeats `n` words in a row of the private part of `instructions`.

    `shingles` (from `private_shingles`) saves recomputing them for every answer."""
    if shingles is None:
        shingles = private_shingles(instructions, public, n)
    ans = _words(answer)
    return any(tuple(ans[i:i + n]) in shingles for i in range(len(ans) - n + 1))
