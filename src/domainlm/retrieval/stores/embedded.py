"""The default store: float16 vectors in the build folder, exact search for small sets, a faiss HNSW
graph above `hnsw_min` vectors. No server; readers memory-map or load the files of one build.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from domainlm.retrieval.errors import IndexCorruptError
from domainlm.retrieval.stores.base import STORES, exact_search

DEFAULTS = {
    "hnsw_min": 50_000,  # below this many vectors, exact search is fast enough and exact
    "hnsw_m": 32,  # graph degree (level 0 holds 2*M neighbours)
    "ef_construction": 80,
    "ef_search": 512,  # measured recall@10 vs exact: 0.97-0.99 at 100k, 0.88 at 1M (bench/retrieval_scale.py)
    "exact_max": 20_000,  # a filter keeping at most this many slots is searched exactly
}


@STORES.register("embedded")
class EmbeddedStore:
    """Vectors [n_slots, dim] (float16 on disk; float32 in memory for flat sets); an optional faiss
    IndexHNSWSQ (fp16) over the same slots."""

    name = "embedded"

    def __init__(self, dim: int, options: dict[str, Any]):
        self.dim = dim
        self.options = {**DEFAULTS, **{k: v for k, v in options.items() if k in DEFAULTS}}
        self.vectors = np.zeros((0, dim), np.float32)
        self.hnsw = None

    @classmethod
    def create(cls, folder: Path, dim: int, options: dict[str, Any]) -> "EmbeddedStore":
        return cls(dim, options)

    # ---- writing
    def add(self, slots: np.ndarray, vectors: np.ndarray) -> None:
        slots = np.asarray(slots, np.int64)
        if len(slots) == 0:
            return
        if slots[0] != len(self.vectors) or np.any(np.diff(slots) != 1):
            raise ValueError("embedded store slots must be appended in order")
        # Rounded through float16 (the file format) so an in-memory store ranks exactly like the saved one.
        half = np.asarray(vectors, np.float16).astype(np.float32)
        if self.hnsw is not None:
            self.hnsw.add(np.asarray(vectors, np.float32))
            self.vectors = self._codes_view()
        else:
            self.vectors = np.concatenate([np.asarray(self.vectors), half]) if len(self.vectors) else half
            if len(self.vectors) >= self.options["hnsw_min"]:
                self._build_hnsw()

    def _build_hnsw(self) -> None:
        import faiss

        index = faiss.IndexHNSWSQ(self.dim, faiss.ScalarQuantizer.QT_fp16, int(self.options["hnsw_m"]),
                                  faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(self.options["ef_construction"])
        index.train(np.zeros((1, self.dim), np.float32))  # fp16 needs no statistics
        for start in range(0, len(self.vectors), 100_000):
            index.add(np.asarray(self.vectors[start:start + 100_000], np.float32))
        self.hnsw = index
        self.vectors = self._codes_view()

    def _codes_view(self) -> np.ndarray:
        """The HNSW storage's fp16 codes as an array [n, dim] (no copy): the exact-search fallback reads it."""
        import faiss

        codes = faiss.downcast_index(self.hnsw.storage).codes
        raw = faiss.rev_swig_ptr(codes.data(), codes.size())
        return raw.view(np.float16).reshape(-1, self.dim)

    def derive(self, folder: Path) -> "EmbeddedStore":
        copy = EmbeddedStore(self.dim, self.options)
        if self.hnsw is not None:
            import faiss

            copy.hnsw = faiss.clone_index(self.hnsw)
            copy.vectors = copy._codes_view()
        else:
            copy.vectors = np.array(self.vectors)
        return copy

    def purge(self, slots: np.ndarray) -> None:
        """Dead slots stay in the files (masked out) until the next full build."""

    def save(self, folder: Path) -> dict[str, Any]:
        folder.mkdir(parents=True, exist_ok=True)
        if self.hnsw is not None:
            import faiss

            faiss.write_index(self.hnsw, str(folder / "products.hnsw"))
            return {"kind": "hnsw", "count": int(self.hnsw.ntotal), "file": "products.hnsw", **self._saved_options()}
        np.save(folder / "products.f16.npy", np.asarray(self.vectors, np.float16))
        return {"kind": "flat", "count": int(len(self.vectors)), "file": "products.f16.npy", **self._saved_options()}

    def _saved_options(self) -> dict[str, Any]:
        return {"options": dict(self.options)}

    # ---- reading
    @classmethod
    def open(cls, folder: Path, info: dict[str, Any], options: dict[str, Any]) -> "EmbeddedStore":
        store = cls(int(info["dim"]), {**info.get("options", {}), **options})
        path = folder / info["file"]
        try:
            if info["kind"] == "hnsw":
                import faiss

                store.hnsw = faiss.read_index(str(path))
                store.vectors = store._codes_view()
            else:
                # Flat sets are small (< hnsw_min vectors): widen to float32 once at open so a query does
                # not convert the whole matrix again (at 10k x 384 that conversion dominated search time).
                store.vectors = np.load(path, mmap_mode="r").astype(np.float32)
        except (OSError, ValueError, RuntimeError) as exc:
            raise IndexCorruptError(f"{path}: the vector file cannot be read ({exc}). "
                                    f"Rebuild it with `domainlm index build`.") from None
        if store.vectors.shape != (int(info["count"]), store.dim):
            raise IndexCorruptError(f"{path}: holds {store.vectors.shape} vectors, the manifest says "
                                    f"({info['count']}, {store.dim}). Rebuild it with `domainlm index build`.")
        return store

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        queries = np.atleast_2d(np.asarray(queries, np.float32))
        n = len(self.vectors)
        if allowed is not None:
            rows = np.flatnonzero(allowed[:n])
            if self.hnsw is None or len(rows) <= self.options["exact_max"]:
                return exact_search(self.vectors, queries, k, rows)
        elif self.hnsw is None:
            return exact_search(self.vectors, queries, k)
        import faiss

        ef = max(int(self.options["ef_search"]), k)
        params = faiss.SearchParametersHNSW()
        keep = None
        if allowed is not None and len(rows) < n:
            bits = np.packbits(allowed[:n], bitorder="little")
            keep = (bits, faiss.IDSelectorBitmap(n, faiss.swig_ptr(bits)))
            params.sel = keep[1]
            # A selective filter leaves fewer allowed neighbours per hop: widen the beam to keep recall.
            ef = int(min(ef * max(1.0, (n / max(len(rows), 1)) ** 0.5), 2048))
        params.efSearch = ef
        scores, ids = self.hnsw.search(queries, k, params=params)
        del keep
        scores = np.where(ids < 0, -np.inf, scores).astype(np.float32)
        return ids.astype(np.int64), scores

    def close(self) -> None:
        self.hnsw = None
