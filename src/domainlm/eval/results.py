"""The per-question results file `eval/<run>/results.jsonl`: appended as each answer is scored, read on rerun.

A line is `{"key": "level|variant|item-id", ...}`; a rerun skips every key already there for the same catalog
version and the same model (`answered_by`: the base model and the adapter's weights, `model_fingerprint`), so an
interrupted evaluation keeps its finished work and resumes, while answers of an adapter that has changed since
(a run evaluated before it finished, then trained on or resumed) are asked again instead of being reported as
the new adapter's.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Callable

# row -> the fingerprint of the model that answers it (`model_fingerprint`); None: rows are not told apart by model
AnsweredBy = Callable[[dict], str] | None


def model_fingerprint(base_model: str, adapter_dir: Path | None = None) -> str:
    """What answered: the base model as configured, plus a content hash of the adapter folder's files
    (config and weights) when there is one. `model_fingerprint("smollm2-135m")` -> "smollm2-135m"."""
    if adapter_dir is None:
        return base_model
    from domainlm.paths import file_sha256

    digest = hashlib.sha256()
    for file in sorted(p for p in Path(adapter_dir).iterdir() if p.is_file()):
        digest.update(f"{file.name}:{file_sha256(file)}|".encode())
    return f"{base_model}+{digest.hexdigest()[:16]}"


class ResultsFile:
    def __init__(self, path: Path, catalog_version: str, answered_by: AnsweredBy = None):
        self.path = path
        self.catalog_version = catalog_version
        self.answered_by = answered_by
        self.rows: dict[str, dict] = {}
        self._lock = threading.Lock()  # eval asks several questions at once (eval.concurrency)
        if path.exists():
            with path.open("rb+") as raw:  # a kill mid-write leaves a partial last line: end it, so appends start clean
                raw.seek(0, 2)
                if raw.tell() > 0:
                    raw.seek(-1, 2)
                    if raw.read(1) != b"\n":
                        raw.write(b"\n")
            with path.open(encoding="utf-8") as handle:
                for line in handle:
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a line cut short by a kill; that question is asked again
                    if self._current(row):
                        self.rows[row["key"]] = row

    def _current(self, row: dict) -> bool:
        """The row was answered on this catalog version by the model that would answer it now."""
        if row.get("catalog_version") != self.catalog_version:
            return False
        return self.answered_by is None or row.get("answered_by") == self.answered_by(row)

    def __contains__(self, key: str) -> bool:
        return key in self.rows

    def add(self, row: dict) -> None:
        row["catalog_version"] = self.catalog_version
        if self.answered_by is not None:
            row["answered_by"] = self.answered_by(row)
        line = json.dumps(row, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
            self.rows[row["key"]] = row

    def rescore(self, score) -> int:
        """Score every stored answer again with `score(row)` (a dict, or None to keep the stored one) and
        rewrite the file if any score changed; returns how many did. The stored answers are the costly part;
        scoring is cheap, so a fix in the scorer applies to a finished evaluation without asking the model
        again. Lines of other catalog versions or models are kept as they are; the rewrite goes to a temp file
        that replaces the old one, so a kill leaves either file whole."""
        changed = 0
        for row in self.rows.values():
            new = score(row)
            if new is not None and new != row["score"]:
                row["score"] = new
                changed += 1
        if not changed:
            return 0
        with self._lock:
            tmp = self.path.with_name(self.path.name + ".tmp")
            with self.path.open(encoding="utf-8") as src, tmp.open("w", encoding="utf-8") as dst:
                for line in src:
                    try:
                        old = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a cut line was never loaded; its question was asked again
                    row = self.rows.get(old.get("key")) if self._current(old) else None
                    dst.write(json.dumps(row, ensure_ascii=False) + "\n" if row is not None else line)
                dst.flush()
                os.fsync(dst.fileno())
            os.replace(tmp, self.path)
        return changed

    def select(self, level: str, variant: str) -> list[dict]:
        return [r for r in self.rows.values() if r["level"] == level and r["variant"] == variant]


def key(level: str, variant: str, item_id: str) -> str:
    return f"{level}|{variant}|{item_id}"
