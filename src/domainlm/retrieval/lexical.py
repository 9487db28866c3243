"""BM25 over product text (bm25s): sparse scores, restricted to allowed slots by a weight mask."""

from __future__ import annotations

import re
from pathlib import Path

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN

from domainlm.retrieval.text import fold

_TOKEN = re.compile(r"\w+")
_STOP = frozenset(STOPWORDS_EN)


def tokenize(text: str) -> list[str]:
    """Folded word tokens without English stopwords: `Château Margaux 2015` -> ['chateau', 'margaux', '2015']."""
    return [t for t in _TOKEN.findall(fold(text)) if t not in _STOP]


class Lexical:
    """A BM25 index whose document i is index slot i (dead slots are empty documents)."""

    def __init__(self, bm25: bm25s.BM25, n_docs: int):
        self.bm25 = bm25
        self.n_docs = n_docs

    @classmethod
    def build(cls, texts: list[str]) -> "Lexical":
        bm25 = bm25s.BM25()
        bm25.index([tokenize(t) for t in texts], show_progress=False)
        return cls(bm25, len(texts))

    def scores(self, query: str, allowed: np.ndarray | None = None) -> np.ndarray | None:
        """BM25 score per slot [n_docs] float32, or None when no query word is in the vocabulary."""
        vocab = self.bm25.vocab_dict
        ids = [vocab[t] for t in tokenize(query) if t in vocab]
        if not ids or self.n_docs == 0:
            return None
        weights = None if allowed is None else allowed.astype(np.float32)
        return self.bm25.get_scores_from_ids(ids, weight_mask=weights)

    def top(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Best `k` slots with a positive score, best first: (slots int64 [<=k], scores float32 [<=k])."""
        scores = self.scores(query, allowed)
        if scores is None:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        k = min(k, len(scores))
        part = np.argpartition(-scores, k - 1)[:k]
        part = part[scores[part] > 0]
        order = part[np.argsort(-scores[part], kind="stable")]
        return order.astype(np.int64), scores[order]

    def save(self, folder: Path) -> None:
        self.bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, n_docs: int) -> "Lexical":
        bm25 = bm25s.BM25.load(str(folder), mmap=False, show_progress=False, verbosity=0)
        return cls(bm25, n_docs)
