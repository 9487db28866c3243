"""Finds the product a question names, by id or name, exactly or fuzzily (typos, partial names, casing).

Names are compared token by token: a name token counts as present when the question has the same
token, or (for words of 4+ letters) one within a small edit distance. A name is *named* when the
present tokens carry at least half of the name's information (tokens weighted by inverse document
frequency over all names), so "lagavuln 16" names "Lagavulin 16 Year Old" while "red wine" names nothing.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np
from bm25s.stopwords import STOPWORDS_EN
from rapidfuzz import fuzz, process

from domainlm.retrieval.text import normalize_name

# Catalogs up to this many products are pre-screened against every name (~5 ms on one core); larger
# ones only against the candidates lexical and dense retrieval found (a full scan of 1M names costs ~1 s).
FULL_SCAN_MAX = 3_000
# Share of a name's information (idf-weighted tokens) the question must contain.
NAME_COVERAGE = 0.5
# Similarity (0-100) for a misspelt word to count as the name's word.
TOKEN_SIMILARITY = 80.0
PRESELECT = 25

_QUESTION_WORDS = frozenset(STOPWORDS_EN) | {
    "much", "price", "cost", "costs", "tell", "me", "about", "whats", "bottle", "bottles", "please", "info",
    "information", "got", "sell", "carry", "buy", "want", "looking", "need", "know", "good", "is", "any",
    "stock", "available", "does", "do", "you", "have", "how", "what", "which", "can", "i", "get", "one",
}


def _id_key(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


def _tokens(text: str) -> list[str]:
    return [t for t in text.split() if t not in _QUESTION_WORDS]


class NameMatcher:
    """Exact id, exact name, then fuzzy token matching over index slots."""

    def __init__(self, ids: list[str | None], names: list[str | None]):
        self.names = [normalize_name(n) if n else "" for n in names]
        self.by_id: dict[str, int] = {}
        self.by_name: dict[str, int] = {}
        df: Counter[str] = Counter()
        for slot, (pid, name) in enumerate(zip(ids, self.names)):
            if pid is None:
                continue
            self.by_id.setdefault(pid.casefold(), slot)
            key = _id_key(pid)
            if len(key) >= 3:
                self.by_id.setdefault(key, slot)
            if name:
                self.by_name.setdefault(name, slot)
                df.update(set(name.split()))
        n = max(len(self.by_name), 1)
        self._idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self._idf_default = math.log(1 + n)

    def match(self, query: str, candidates: np.ndarray | None = None, allowed: np.ndarray | None = None
              ) -> tuple[int, float] | None:
        """(slot, score 0-100) of the product the query names, or None."""
        for token in re.findall(r"\w[\w./-]*\w|\w", query):
            for key in (token.casefold(), _id_key(token)):
                slot = self.by_id.get(key)
                if slot is not None and any(c.isdigit() for c in token) and _ok(slot, allowed):
                    return slot, 100.0
        norm = normalize_name(query)
        q_tokens = _tokens(norm)
        if not q_tokens:
            return None
        slot = self.by_name.get(norm)
        if slot is not None and _ok(slot, allowed):
            return slot, 100.0
        if len(self.names) <= FULL_SCAN_MAX:
            pool = None
        else:
            if candidates is None or len(candidates) == 0:
                return None
            pool = np.unique(candidates)
        if allowed is not None:
            pool = np.flatnonzero(allowed) if pool is None else pool[allowed[pool]]
        choices = self.names if pool is None else {int(s): self.names[s] for s in pool}
        short = " ".join(q_tokens)
        found = {}
        for scorer in (fuzz.partial_ratio, fuzz.token_set_ratio):
            for _, score, slot in process.extract(short, choices, scorer=scorer, limit=PRESELECT, score_cutoff=50):
                found[int(slot)] = score
        best = None
        for slot in found:
            coverage, q_share = self._coverage(q_tokens, self.names[slot])
            key = (round(coverage, 3), round(q_share, 3), fuzz.ratio(short, self.names[slot]))
            if coverage >= NAME_COVERAGE and (best is None or key > best[0]):
                best = (key, slot)
        if best is None:
            return None
        return best[1], 100.0 * best[0][0]

    def _coverage(self, q_tokens: list[str], name: str) -> tuple[float, float]:
        """(idf share of the name's tokens found in the question, share of question tokens used)."""
        total = hit = 0.0
        used = set()
        for token in name.split():
            weight = self._idf.get(token, self._idf_default)
            if token in _QUESTION_WORDS:
                weight *= 0.1
            total += weight
            for i, q in enumerate(q_tokens):
                if q == token or (len(token) >= 4 and len(q) >= 4 and not token.isdigit()
                                  and fuzz.ratio(q, token) >= TOKEN_SIMILARITY):
                    hit += weight
                    used.add(i)
                    break
        return (hit / total if total else 0.0), len(used) / len(q_tokens)


def _ok(slot: int, allowed: np.ndarray | None) -> bool:
    return allowed is None or bool(allowed[slot])
