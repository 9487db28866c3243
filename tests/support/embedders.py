"""Test embedders: deterministic and instant, so the real retriever and guard run fast in unit tests."""

from __future__ import annotations

import re
import zlib

import numpy as np


class HashEmbedder:
    """Hashed bag of words (256 buckets), L2-normalised; same interface as the real embedder wrapper."""

    name = "hash"
    dim = 256

    def encode(self, texts, progress=None):
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, zlib.crc32(word.encode()) % self.dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)
