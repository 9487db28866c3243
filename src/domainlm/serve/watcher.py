"""Catalog hot reload: notice a changed catalog source and swap in the new catalog version.

File sources (.csv/.jsonl/.parquet) are polled by modification time and size every `poll_s`; SQL
sources are asked for their version every `db_poll_s` (the Assistant reloads and compares versions).
The reload itself is `Assistant.reload_catalog()`, which builds the new index aside and swaps it in;
requests already running finish on the old version.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Callable

log = logging.getLogger("domainlm.serve")


def catalog_file(source: str, root: Path) -> Path | None:
    """The catalog file to watch, or None for a database URL."""
    if "://" in source:
        return None
    path = Path(source)
    return path if path.is_absolute() else root / path


class CatalogWatcher:
    """A daemon thread that calls `reload()` when the catalog source changes."""

    def __init__(self, source: str, root: Path, reload: Callable[[], str], poll_s: float = 1.0,
                 db_poll_s: float = 30.0):
        self.path = catalog_file(source, root)
        self.reload = reload
        self.interval = poll_s if self.path is not None else db_poll_s
        self._stamp = self._read_stamp()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="domainlm-catalog-watcher", daemon=True)

    def start(self) -> "CatalogWatcher":
        if self.interval > 0:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _read_stamp(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def changed(self) -> bool:
        """True when the source should be reloaded now (always true for databases: their version decides)."""
        if self.path is None:
            return True
        stamp = self._read_stamp()
        if stamp is None or stamp == self._stamp:
            return False
        self._stamp = stamp
        return True

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            if not self.changed():
                continue
            started = time.perf_counter()
            try:
                version = self.reload()
            except Exception:  # a half-written or broken file: keep serving the old version, retry on next change
                log.exception("catalog reload failed; still serving the previous version")
                continue
            log.info("catalog version %s after %.0f ms", version, (time.perf_counter() - started) * 1000)
