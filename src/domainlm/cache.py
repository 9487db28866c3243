"""The answer cache: a bounded LRU keyed by adapter, normalised conversation, generation settings and the
catalog version, so a price change can never be answered from an older catalog.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Sequence

_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Case, spacing and trailing punctuation do not change the answer: `' Price of X?? ' -> 'price of x'`."""
    return _SPACE.sub(" ", text).strip().lower().rstrip("?!. ")


def cache_key(adapter: str | None, history: Sequence[dict], user: str, catalog_version: str, params: Any = None) -> str:
    """A stable hash of everything that decides an answer (`params`: a GenerationParams or None)."""
    turns = [[t["role"], normalise(t["content"])] for t in history] + [["user", normalise(user)]]
    settings = None
    if params is not None:
        settings = [params.max_new_tokens, params.temperature, params.top_p, params.seed, list(params.stop)]
    blob = json.dumps([adapter or "base", catalog_version, turns, settings], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class _Entry:
    catalog_version: str
    value: Any


class AnswerCache:
    """Thread-safe LRU of answers; `get` never returns an entry stored under another catalog version.

    >>> c = AnswerCache(2); c.put("k", "v1", "answer"); c.get("k", "v1"), c.get("k", "v2")
    ('answer', None)
    """

    def __init__(self, maxsize: int = 1024):
        self.maxsize = maxsize
        self._items: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str, catalog_version: str) -> Any | None:
        if self.maxsize <= 0:
            return None
        with self._lock:
            entry = self._items.get(key)
            if entry is None or entry.catalog_version != catalog_version:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return entry.value

    def put(self, key: str, catalog_version: str, value: Any) -> None:
        if self.maxsize <= 0:
            return
        with self._lock:
            self._items[key] = _Entry(catalog_version, value)
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def drop_other_versions(self, catalog_version: str) -> int:
        """Forget every answer computed on another catalog version; returns how many were dropped."""
        with self._lock:
            stale = [k for k, e in self._items.items() if e.catalog_version != catalog_version]
            for k in stale:
                del self._items[k]
            return len(stale)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def stats(self) -> dict[str, int]:
        return {"size": len(self._items), "maxsize": self.maxsize, "hits": self.hits, "misses": self.misses}
