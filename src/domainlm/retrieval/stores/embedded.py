"""The default store: float16 vectors in the build folder, exact search for small sets, a faiss HNSW
graph above `hnsw_min` vectors and a faiss IVF index above `ivf_min`. No server; readers load the files
of one build.

Why two approximate kinds: HNSW answers fastest at 50k-300k vectors (recall@10 0.985 at 100k with
efSearch 512, bench/retrieval_scale.py), but at 1M its recall fell to 0.84 at efSearch 512 and 0.94 at
2048 on the bench's catalog of near-duplicate groups, and the graph costs memory and build time on top of
the vectors. An inverted file (k-means lists; every vector of a probed list compared exactly, in fp16)
holds no graph, and its recall depends only on the share of lists probed (`nprobe`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from domainlm.retrieval.errors import IndexCorruptError
from domainlm.retrieval.stores.base import STORES, exact_search

DEFAULTS = {
    "hnsw_min": 50_000,  # below this many vectors, exact search is fast enough and exact
    "hnsw_m": 32,  # graph degree (level 0 holds 2*M neighbours)
    "ef_construction": 80,
    "ef_search": 512,  # measured recall@10 vs exact: 0.97-0.99 at 100k (bench/retrieval_scale.py)
    "ivf_min": 300_000,  # at or above this many vectors a full build makes an IVF index instead of HNSW
    "nprobe": 384,  # IVF lists compared per query, of ~4*sqrt(n) (4,096 at 1M: 9% of the vectors compared)
    "exact_max": 20_000,  # a filter keeping at most this many slots is searched exactly
}
CHUNK = 100_000  # vectors converted to float32 at a time while filling an index (38 MB at dim 384)


def ivf_lists(n: int) -> int:
    """Number of IVF lists for n vectors: the power of two nearest 4*sqrt(n) (1M -> 4096), at most n."""
    return max(1, min(n, int(2 ** round(math.log2(max(4 * math.sqrt(max(n, 1)), 16))))))


class _IVFVectors:
    """Read access by slot to an IVF index's fp16 codes (its direct map), shaped like an array [n, dim]:
    the exact-search fallback and the benchmark's ground truth index it with a slice or an int array."""

    def __init__(self, index, dim: int):
        self.index, self.dim = index, dim

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.index.ntotal), self.dim)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def __getitem__(self, rows) -> np.ndarray:
        if isinstance(rows, slice):
            rows = np.arange(*rows.indices(len(self)))
        rows = np.asarray(rows, np.int64)
        if len(rows) == 0:
            return np.zeros((0, self.dim), np.float32)
        return self.index.reconstruct_batch(rows)


@STORES.register("embedded")
class EmbeddedStore:
    """Vectors [n_slots, dim] (float16 on disk; float32 in memory for flat sets); above `hnsw_min` a faiss
    IndexHNSWSQ (fp16) over the same slots, and for a build of `ivf_min` or more an IndexIVFScalarQuantizer
    (fp16) whose ids are the slots."""

    name = "embedded"

    def __init__(self, dim: int, options: dict[str, Any]):
        self.dim = dim
        self.options = {**DEFAULTS, **{k: v for k, v in options.items() if k in DEFAULTS}}
        self.vectors = np.zeros((0, dim), np.float32)
        self.hnsw = None
        self.ivf = None

    @classmethod
    def create(cls, folder: Path, dim: int, options: dict[str, Any]) -> "EmbeddedStore":
        return cls(dim, options)

    @property
    def ann(self):
        """The approximate index (HNSW or IVF), or None for a flat set."""
        return self.hnsw if self.hnsw is not None else self.ivf

    @property
    def kind(self) -> str:
        return "hnsw" if self.hnsw is not None else "ivf" if self.ivf is not None else "flat"

    # ---- writing
    def add(self, slots: np.ndarray, vectors: np.ndarray) -> None:
        slots = np.asarray(slots, np.int64)
        if len(slots) == 0:
            return
        if slots[0] != len(self.vectors) or np.any(np.diff(slots) != 1):
            raise ValueError("embedded store slots must be appended in order")
        if self.ann is not None:
            _fill(self.ann, [vectors])
            self._refresh_view()
            return
        total = len(self.vectors) + len(vectors)
        if total >= self.options["hnsw_min"]:
            # Filled chunk by chunk from the flat vectors and the new ones: no float32 copy of the whole set.
            parts = [self.vectors, vectors] if len(self.vectors) else [vectors]
            if total >= self.options["ivf_min"]:
                self._build_ivf(parts, total)
            else:
                self._build_hnsw(parts)
            return
        # Rounded through float16 (the file format) so an in-memory store ranks exactly like the saved one.
        half = np.asarray(vectors, np.float16).astype(np.float32)
        self.vectors = np.concatenate([np.asarray(self.vectors), half]) if len(self.vectors) else half

    def _build_hnsw(self, parts: list[np.ndarray]) -> None:
        import faiss

        index = faiss.IndexHNSWSQ(self.dim, faiss.ScalarQuantizer.QT_fp16, int(self.options["hnsw_m"]),
                                  faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(self.options["ef_construction"])
        index.train(np.zeros((1, self.dim), np.float32))  # fp16 needs no statistics
        _fill(index, parts)
        self.hnsw = index
        self._refresh_view()

    def _build_ivf(self, parts: list[np.ndarray], total: int) -> None:
        import faiss

        nlist = ivf_lists(total)
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFScalarQuantizer(quantizer, self.dim, nlist, faiss.ScalarQuantizer.QT_fp16,
                                              faiss.METRIC_INNER_PRODUCT)
        # k-means runs 10 iterations from faiss's fixed seed: the same vectors give the same lists.
        # k-means on an evenly spaced sample of 64 vectors per list (faiss's own default cap is 256 per list).
        take = np.linspace(0, total - 1, num=min(total, 64 * nlist), dtype=np.int64)
        index.train(np.asarray(_rows(parts, take), np.float32))
        _fill(index, parts)
        index.make_direct_map()  # slot -> code, for exact search within a filter
        self.ivf = index
        self._refresh_view()

    def _refresh_view(self) -> None:
        if self.hnsw is not None:
            self.vectors = self._codes_view()
        elif self.ivf is not None:
            self.vectors = _IVFVectors(self.ivf, self.dim)

    def _codes_view(self) -> np.ndarray:
        """The HNSW storage's fp16 codes as an array [n, dim] (no copy): the exact-search fallback reads it."""
        import faiss

        codes = faiss.downcast_index(self.hnsw.storage).codes
        raw = faiss.rev_swig_ptr(codes.data(), codes.size())
        return raw.view(np.float16).reshape(-1, self.dim)

    def derive(self, folder: Path) -> "EmbeddedStore":
        copy = EmbeddedStore(self.dim, self.options)
        if self.ann is not None:
            import faiss

            if self.hnsw is not None:
                copy.hnsw = faiss.clone_index(self.hnsw)
            else:
                copy.ivf = faiss.clone_index(self.ivf)
                copy.ivf.make_direct_map()
            copy._refresh_view()
        else:
            copy.vectors = np.array(self.vectors)
        return copy

    def purge(self, slots: np.ndarray) -> None:
        """Dead slots stay in the files (masked out) until the next full build."""

    def save(self, folder: Path) -> dict[str, Any]:
        folder.mkdir(parents=True, exist_ok=True)
        if self.ann is not None:
            import faiss

            name = f"products.{self.kind}"
            faiss.write_index(self.ann, str(folder / name))
            return {"kind": self.kind, "count": int(self.ann.ntotal), "file": name, **self._saved_options()}
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
            if info["kind"] in ("hnsw", "ivf"):
                import faiss

                index = faiss.read_index(str(path))
                if info["kind"] == "hnsw":
                    store.hnsw = index
                else:
                    store.ivf = index
                    store.ivf.make_direct_map()
                store._refresh_view()
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
            if self.ann is None or len(rows) <= self.options["exact_max"]:
                return exact_search(self.vectors, queries, k, rows)
        elif self.ann is None:
            return exact_search(self.vectors, queries, k)
        import faiss

        # A selective filter leaves fewer allowed vectors per hop or per list: widen the search to keep recall.
        widen = max(1.0, (n / max(len(rows), 1)) ** 0.5) if allowed is not None else 1.0
        if self.hnsw is not None:
            params = faiss.SearchParametersHNSW()
            params.efSearch = int(min(max(int(self.options["ef_search"]), k) * widen, 2048))
        else:
            params = faiss.SearchParametersIVF()
            params.nprobe = int(min(int(self.options["nprobe"]) * widen, self.ivf.nlist))
        keep = None
        if allowed is not None and len(rows) < n:
            bits = np.packbits(allowed[:n], bitorder="little")
            keep = (bits, faiss.IDSelectorBitmap(n, faiss.swig_ptr(bits)))
            params.sel = keep[1]
        scores, ids = self.ann.search(queries, k, params=params)
        del keep
        scores = np.where(ids < 0, -np.inf, scores).astype(np.float32)
        return ids.astype(np.int64), scores

    def close(self) -> None:
        self.hnsw = None
        self.ivf = None


def _fill(index, parts: list[np.ndarray]) -> None:
    """Add the rows of `parts` ([n_i, dim] each, in order) to a faiss index, as float32 chunks of CHUNK rows."""
    for part in parts:
        for start in range(0, len(part), CHUNK):
            index.add(np.ascontiguousarray(part[start:start + CHUNK], np.float32))


def _rows(parts: list[np.ndarray], rows: np.ndarray) -> np.ndarray:
    """Rows `rows` (sorted) of the concatenation of `parts`, without concatenating them."""
    out, offset = [], 0
    for part in parts:
        mine = rows[(rows >= offset) & (rows < offset + len(part))] - offset
        out.append(np.asarray(part[mine], np.float32))
        offset += len(part)
    return np.concatenate(out)
