"""A Milvus collection as the vector store (a Milvus server, or milvus-lite: the same engine in a file).

The build folder keeps only the collection's name; vectors live in Milvus. Each full build writes a
new collection and the swap drops the old one; a live update inserts new slots into the current
collection (slots are never reused) and deletes dead ones after the swap, so a reader of either
build always maps results to the right products.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np

from domainlm.catalog.sources import mask_url
from domainlm.retrieval.errors import StoreError
from domainlm.retrieval.stores.base import STORES

CONNECT_TIMEOUT_S = 5.0
# Milvus caps `limit` at 16,384; a filter keeping at most IN_LIST_MAX slots is sent as `slot in [...]`.
MAX_LIMIT = 16_384
IN_LIST_MAX = 4_096


def _client(uri: str):
    """A connected MilvusClient; an unreachable server fails within CONNECT_TIMEOUT_S, naming the URL."""
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    if "://" in uri:
        import socket
        from urllib.parse import urlparse

        parsed = urlparse(uri)
        host, port = parsed.hostname or "localhost", parsed.port or 19530
        try:
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
        except OSError as exc:
            raise StoreError(f"cannot reach the Milvus server at {mask_url(uri)} ({exc}); start it, or set "
                             f"retrieval.uri to a reachable server (or a local .db file for milvus-lite).") from None
    try:
        return MilvusClient(uri=uri, timeout=CONNECT_TIMEOUT_S)
    except MilvusException as exc:
        raise StoreError(f"cannot connect to Milvus at {mask_url(uri)}: {exc.message}") from None


@STORES.register("milvus")
class MilvusStore:
    """One collection per build: `slot` INT64 primary key, `vector` FLOAT_VECTOR(dim), inner product."""

    name = "milvus"

    def __init__(self, uri: str, collection: str, dim: int, client=None):
        self.uri = uri
        self.collection = collection
        self.dim = dim
        self.client = client or _client(uri)
        self.count = 0
        self._pending_purge: list[int] = []

    @staticmethod
    def resolve_uri(folder: Path, options: dict[str, Any]) -> str:
        uri = options.get("uri")
        if uri:
            return str(uri)
        # Default: milvus-lite in a file next to the builds (index/milvus.db), shared by every build.
        return str(folder.parents[2] / "milvus.db")  # folder is index/builds/<id>/dense

    @classmethod
    def create(cls, folder: Path, dim: int, options: dict[str, Any]) -> "MilvusStore":
        from pymilvus import DataType, MilvusClient

        uri = cls.resolve_uri(folder, options)
        store = cls(uri, f"domainlm_{uuid.uuid4().hex[:12]}", dim)
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("slot", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        index = store.client.prepare_index_params()
        kind = "FLAT" if "://" not in uri else options.get("index_type", "HNSW")
        params = {"M": 32, "efConstruction": 80} if kind == "HNSW" else {}
        index.add_index(field_name="vector", index_type=kind, metric_type="IP", params=params)
        store.client.create_collection(store.collection, schema=schema, index_params=index)
        return store

    @classmethod
    def open(cls, folder: Path, info: dict[str, Any], options: dict[str, Any]) -> "MilvusStore":
        uri = options.get("uri") or info["uri"]
        store = cls(str(uri), info["collection"], int(info["dim"]))
        if not store.client.has_collection(store.collection):
            from domainlm.retrieval.errors import IndexCorruptError

            raise IndexCorruptError(f"Milvus at {mask_url(store.uri)} has no collection {store.collection!r} that "
                                    f"the index refers to. Rebuild it with `domainlm index build`.")
        store.client.load_collection(store.collection)
        store.count = int(info["count"])
        return store

    def add(self, slots: np.ndarray, vectors: np.ndarray) -> None:
        for start in range(0, len(slots), 5_000):
            chunk = np.asarray(vectors[start:start + 5_000], np.float32)  # the build hands float16
            rows = [{"slot": int(s), "vector": v.tolist()} for s, v in zip(slots[start:start + 5_000], chunk)]
            self.client.insert(self.collection, rows)
        self.count = max(self.count, int(slots.max()) + 1) if len(slots) else self.count

    def derive(self, folder: Path) -> "MilvusStore":
        copy = MilvusStore(self.uri, self.collection, self.dim, client=self.client)
        copy.count = self.count
        return copy

    def purge(self, slots: np.ndarray) -> None:
        if len(slots):
            self.client.delete(self.collection, ids=[int(s) for s in slots])

    def save(self, folder: Path) -> dict[str, Any]:
        self.client.flush(self.collection)
        self.client.load_collection(self.collection)
        return {"kind": "milvus", "uri": mask_url(self.uri), "collection": self.collection, "count": self.count}

    def drop(self) -> None:
        if self.client.has_collection(self.collection):
            self.client.drop_collection(self.collection)

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        queries = np.atleast_2d(np.asarray(queries, np.float32))
        n_q = len(queries)
        ids = np.full((n_q, k), -1, np.int64)
        scores = np.full((n_q, k), -np.inf, np.float32)
        expr, limit = "", k
        if allowed is not None:
            rows = np.flatnonzero(allowed)
            if len(rows) == 0:
                return ids, scores
            if len(rows) <= IN_LIST_MAX:
                expr = f"slot in [{','.join(map(str, rows.tolist()))}]"
            else:
                # Ask for more and drop what the mask forbids; the share kept sets how many more.
                limit = int(min(MAX_LIMIT, k * max(1.0, len(allowed) / len(rows)) * 2 + 16))
        hits = self.client.search(self.collection, data=queries.tolist(), limit=min(limit, MAX_LIMIT),
                                  filter=expr, output_fields=["slot"], search_params={"metric_type": "IP"})
        for qi, row in enumerate(hits):
            j = 0
            for hit in row:
                slot = int(hit["slot"])
                if allowed is not None and (slot >= len(allowed) or not allowed[slot]):
                    continue
                if j == k:
                    break
                ids[qi, j], scores[qi, j] = slot, float(hit["distance"])
                j += 1
        return ids, scores

    def close(self) -> None:
        self.client.close()
