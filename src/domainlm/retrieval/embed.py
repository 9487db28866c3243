"""Dense embedders for retrieval: a loaded sentence-transformers model, cached per process."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Protocol

import numpy as np

_LOADED: dict[tuple[str, str], "SentenceEmbedder"] = {}


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors [len(texts), dim]."""

    name: str
    dim: int

    def encode(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray: ...


class SentenceEmbedder:
    """A sentence-transformers model from local files (see `models.embedders.load_embedder`)."""

    def __init__(self, name: str, root: Path | None = None, batch_size: int = 64):
        from domainlm.models.embedders import load_embedder

        self.name = name
        self.model = load_embedder(name, root)
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(getter())
        self.batch_size = batch_size

    def encode(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        out = np.empty((len(texts), self.dim), np.float32)
        # Chunks of 1024 keep the progress bar moving; sentence-transformers sorts by length inside a chunk.
        for start in range(0, len(texts), 1024):
            chunk = texts[start:start + 1024]
            out[start:start + len(chunk)] = self.model.encode(
                chunk, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )
            if progress:
                progress(len(chunk))
        return out


def get_embedder(spec: "str | Embedder", root: Path | None = None) -> Embedder:
    """An embedder for an alias or folder (loaded once per process), or `spec` itself when it is one."""
    if not isinstance(spec, str):
        return spec
    key = (spec, str(root or ""))
    if key not in _LOADED:
        _LOADED[key] = SentenceEmbedder(spec, root)
    return _LOADED[key]
