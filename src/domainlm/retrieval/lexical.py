"""BM25 over product text (bm25s): sparse scores, restricted to allowed slots by a weight mask."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

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
    def build(cls, texts: Iterable[str]) -> "Lexical":
        """BM25 over `texts` (any iterable, read once), document i = the i-th text.

        Each text is turned into vocabulary ids as it is read and only the ids are kept: bm25s's own token
        path holds every document as a list of token strings *and* as a list of ids, about 3 GB at a million
        products; this keeps one list of small ints per document (about 0.3 GB).
        """
        vocab: dict[str, int] = {}
        corpus: list[list[int]] = []
        for text in texts:
            corpus.append([vocab.setdefault(t, len(vocab)) for t in tokenize(text)])
        n_docs = len(corpus)
        if not vocab:
            # No words at all (no documents, or only stopwords): bm25s cannot index an empty vocabulary, so
            # every document gets one word that `tokenize` never yields (a space) and no query can match.
            vocab, corpus = {" ": 0}, [[0] for _ in range(max(n_docs, 1))]
        bm25 = bm25s.BM25()
        bm25.index((corpus, vocab), show_progress=False)
        return cls(bm25, n_docs)

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
