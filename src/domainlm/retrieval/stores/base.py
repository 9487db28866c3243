"""The vector-store interface: unit vectors by integer slot, inner-product search within allowed slots."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np

from domainlm.registry import Registry


class VectorStore(Protocol):
    """Dense product vectors keyed by index slot (int64).

    A store is created for one build folder, filled with `add`, and `save`d there; `save` returns the
    small JSON-able description the manifest keeps, and `open` gets it back. Slots are never reused:
    a changed product gets a new slot and the old one is left out of `allowed` (and removed by `purge`).
    """

    name: str

    @classmethod
    def create(cls, folder: Path, dim: int, options: dict[str, Any]) -> "VectorStore": ...

    @classmethod
    def open(cls, folder: Path, info: dict[str, Any], options: dict[str, Any]) -> "VectorStore": ...

    def add(self, slots: np.ndarray, vectors: np.ndarray) -> None:
        """Store vectors [n, dim] float32 (unit length) at `slots` [n] int64."""

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k slots per query by inner product: (slots int64 [q, k], scores float32 [q, k]), -1 padded.

        `allowed` is a bool mask over slots [n_slots]; only those slots may be returned.
        """

    def save(self, folder: Path) -> dict[str, Any]:
        """Persist into `folder` (a fresh build folder) and return the manifest's description."""

    def derive(self, folder: Path) -> "VectorStore":
        """A writable copy for a live update whose result is saved into the new build `folder`."""

    def purge(self, slots: np.ndarray) -> None:
        """Forget dead slots once no build refers to them (server stores free the space)."""

    def close(self) -> None: ...


STORES: Registry[type[VectorStore]] = Registry("retrieval store")


def exact_search(vectors: np.ndarray, queries: np.ndarray, k: int, rows: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force inner-product top-k over `vectors` [n, d] (any float dtype), optionally only `rows`.

    Returns (row ids int64 [q, k], scores float32 [q, k]), -1 / -inf padded. Works in blocks of 65,536
    rows so float16 storage is converted a block at a time and only k candidates per block are merged.
    """
    q = queries.astype(np.float32, copy=False)
    n_q = len(q)
    ids = np.full((n_q, k), -1, np.int64)
    scores = np.full((n_q, k), -np.inf, np.float32)
    total = len(vectors) if rows is None else len(rows)
    if total == 0 or k == 0:
        return ids, scores
    block = 65_536
    for start in range(0, total, block):
        stop = min(start + block, total)
        if rows is None:
            sel, part = None, vectors[start:stop]
        else:
            sel = rows[start:stop]
            part = vectors[sel]
        s = q @ np.asarray(part, dtype=np.float32).T  # [q, block]
        kk = min(k, s.shape[1])
        top = np.argpartition(-s, kk - 1, axis=1)[:, :kk] if s.shape[1] > kk else np.broadcast_to(
            np.arange(kk), (n_q, kk))
        block_scores = np.take_along_axis(s, top, 1)
        block_ids = (top + start) if sel is None else sel[top]
        # Merge this block's best k with the running best k: only 2k candidates per query.
        cand_ids = np.concatenate([ids, block_ids], axis=1)
        cand_scores = np.concatenate([scores, block_scores], axis=1)
        best = np.argpartition(-cand_scores, k - 1, axis=1)[:, :k] if cand_scores.shape[1] > k else np.broadcast_to(
            np.arange(k), (n_q, k))
        ids = np.take_along_axis(cand_ids, best, 1)
        scores = np.take_along_axis(cand_scores, best, 1)
    order = np.argsort(-scores, axis=1, kind="stable")
    return np.take_along_axis(ids, order, 1), np.take_along_axis(scores, order, 1)
