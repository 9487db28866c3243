"""The index on disk: `index/builds/<id>/` folders and an `index/CURRENT` pointer swapped atomically.

    index/CURRENT                     name of the live build (replaced with os.replace, never edited)
    index/builds/<id>/manifest.json   catalog version, embedder, store, counts, file sizes and checksums
    index/builds/<id>/slots.parquet   one row per slot: id, hashes, filter columns, alive
    index/builds/<id>/passages.json   knowledge sections with their vectors' order
    index/builds/<id>/passages.f16.npy
    index/builds/<id>/lexical/        BM25 (bm25s)
    index/builds/<id>/dense/          the store's files (embedded) or nothing (milvus)

A build is written in `builds/<id>.tmp`, renamed, and only then named in CURRENT, so a reader opens
either the old build or the new one, never a half-written one.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import domainlm
from domainlm.knowledge import KnowledgeSection
from domainlm.paths import file_sha256
from domainlm.retrieval.errors import IndexCorruptError, IndexMissingError
from domainlm.retrieval.filters import FilterColumns
from domainlm.retrieval.lexical import Lexical
from domainlm.retrieval.state import IndexState
from domainlm.retrieval.stores import STORES

FORMAT = 1
CHECKSUM_MAX_BYTES = 64 << 20  # files up to this size are checksummed; larger ones are size-checked
KEEP_BUILDS = 2  # the live build and the one before it (readers that opened it keep working)


def new_build_dir(index_dir: Path) -> tuple[str, Path]:
    build_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    tmp = index_dir / "builds" / f"{build_id}.tmp"
    tmp.mkdir(parents=True)
    return build_id, tmp


def current_build(index_dir: Path) -> Path:
    pointer = index_dir / "CURRENT"
    if not pointer.exists():
        raise IndexMissingError(f"{index_dir}: no index yet. Build it with `domainlm index build`.")
    name = pointer.read_text(encoding="utf-8").strip()
    folder = index_dir / "builds" / name
    if not name or not folder.is_dir():
        raise IndexCorruptError(f"{pointer} names build {name!r}, which is not in {index_dir / 'builds'}. "
                                f"Rebuild it with `domainlm index build`.")
    return folder


def write_state(state: IndexState, folder: Path, store_name: str, store_info: dict[str, Any]) -> None:
    """Write every file of a build into `folder` (the .tmp folder) and the manifest last."""
    cols = state.columns
    table = {
        "id": pa.array(state.slot_ids, pa.string()),
        "name": pa.array(state.names, pa.string()),
        "text_hash": pa.array(state.text_hash, pa.string()),
        "content_hash": pa.array(state.content_hash, pa.string()),
        "alive": pa.array(cols.alive),
        "price_cents": pa.array(cols.price_cents),
        "category": pa.array(cols.category),
        "in_stock": pa.array(cols.in_stock),
    }
    labels = cols.numeric_labels()
    for i, label in enumerate(labels):
        table[f"num{i}"] = pa.array(cols.numeric[label])
    pq.write_table(pa.table(table), folder / "slots.parquet")
    (folder / "passages.json").write_text(json.dumps(
        [{"id": s.id, "source": s.source, "headings": list(s.headings), "text": s.text} for s in state.passages],
        ensure_ascii=False), encoding="utf-8")
    np.save(folder / "passages.f16.npy", state.passage_vectors.astype(np.float16))
    state.lexical.save(folder / "lexical")
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        size = path.stat().st_size
        entry: dict[str, Any] = {"bytes": size}
        if size <= CHECKSUM_MAX_BYTES:
            entry["sha256"] = file_sha256(path)
        files[str(path.relative_to(folder))] = entry
    manifest = {
        "format": FORMAT,
        "domainlm": domainlm.__version__ if hasattr(domainlm, "__version__") else "",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "catalog_version": state.catalog_version,
        "knowledge_version": state.knowledge_version,
        "embedder": state.embedder_name,
        "dim": state.dim,
        "slots": state.n_slots,
        "live": state.n_live,
        "passages": len(state.passages),
        "categories": cols.categories,
        "numeric": labels,
        "store": {"name": store_name, "dim": state.dim, **store_info},
        "files": files,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")


@contextmanager
def discard_on_error(tmp: Path) -> Iterator[None]:
    """Remove a half-written build folder when writing it fails (the live build is untouched)."""
    try:
        yield
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def swap(index_dir: Path, tmp: Path) -> Path:
    """Make the build in `tmp` the live one; older builds beyond KEEP_BUILDS are removed."""
    final = tmp.with_name(tmp.name.removesuffix(".tmp"))
    os.replace(tmp, final)
    pointer_tmp = index_dir / f"CURRENT.{uuid.uuid4().hex[:6]}.tmp"
    pointer_tmp.write_text(final.name + "\n", encoding="utf-8")
    with open(pointer_tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer_tmp, index_dir / "CURRENT")
    return final


def old_builds(index_dir: Path) -> list[Path]:
    """Builds past the KEEP_BUILDS newest, and abandoned .tmp folders; the live build is never one of them.

    Builds are ordered by the time they were finished (folder mtime), not by name: two builds made
    within the same second have names that only differ by a random suffix.
    """
    builds = sorted((p for p in (index_dir / "builds").iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime_ns)
    pointer = index_dir / "CURRENT"
    live = pointer.read_text(encoding="utf-8").strip() if pointer.exists() else None
    done = [p for p in builds if not p.name.endswith(".tmp") and p.name != live]
    keep = KEEP_BUILDS - (1 if live else 0)
    stale_tmp = [p for p in builds if p.name.endswith(".tmp") and time.time() - p.stat().st_mtime > 3600]
    return (done[:-keep] if keep > 0 else done) + stale_tmp


def remove_build(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=False)


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorruptError(f"{path}: missing. Rebuild the index with `domainlm index build`.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"{path}: not valid JSON ({exc}). Rebuild the index with `domainlm index build`.") from None
    if manifest.get("format") != FORMAT:
        raise IndexCorruptError(f"{path}: index format {manifest.get('format')!r}, this domainlm reads {FORMAT}. "
                                f"Rebuild the index with `domainlm index build`.")
    return manifest


def verify_files(folder: Path, manifest: dict[str, Any]) -> None:
    """Every file the manifest lists exists with its size (and checksum where recorded)."""
    for rel, entry in manifest["files"].items():
        path = folder / rel
        if not path.exists():
            raise IndexCorruptError(f"{path}: missing from the index. Rebuild it with `domainlm index build`.")
        if path.stat().st_size != entry["bytes"]:
            raise IndexCorruptError(f"{path}: {path.stat().st_size} bytes, the manifest says {entry['bytes']}; "
                                    f"the index is corrupt. Rebuild it with `domainlm index build`.")
        if "sha256" in entry and file_sha256(path) != entry["sha256"]:
            raise IndexCorruptError(f"{path}: checksum does not match the manifest; the index is corrupt. "
                                    f"Rebuild it with `domainlm index build`.")


def read_state(folder: Path, store_options: dict[str, Any], verify: bool = True) -> tuple[IndexState, dict[str, Any]]:
    manifest = read_manifest(folder)
    if verify:
        verify_files(folder, manifest)
    try:
        table = pq.read_table(folder / "slots.parquet").to_pydict()
    except (OSError, pa.ArrowInvalid) as exc:
        raise IndexCorruptError(f"{folder / 'slots.parquet'}: unreadable ({exc}). Rebuild with `domainlm index build`.") from None
    labels = manifest["numeric"]
    columns = FilterColumns(
        price_cents=np.array(table["price_cents"], np.int64), category=np.array(table["category"], np.int32),
        in_stock=np.array(table["in_stock"], np.int8),
        numeric={label: np.array(table[f"num{i}"], np.float64) for i, label in enumerate(labels)},
        alive=np.array(table["alive"], bool), categories=list(manifest["categories"]),
    )
    passages = [KnowledgeSection(p["id"], p["source"], tuple(p["headings"]), p["text"])
                for p in json.loads((folder / "passages.json").read_text(encoding="utf-8"))]
    passage_vectors = np.load(folder / "passages.f16.npy").astype(np.float32).reshape(len(passages), manifest["dim"])
    try:
        lexical = Lexical.load(folder / "lexical", len(table["id"]))
    except (OSError, ValueError, KeyError) as exc:
        raise IndexCorruptError(f"{folder / 'lexical'}: unreadable BM25 index ({exc}). "
                                f"Rebuild with `domainlm index build`.") from None
    store_cls = STORES.get(manifest["store"]["name"])
    store = store_cls.open(folder / "dense", manifest["store"], store_options)
    state = IndexState(
        slot_ids=table["id"], text_hash=table["text_hash"], content_hash=table["content_hash"], columns=columns,
        lexical=lexical, store=store, passages=passages, passage_vectors=passage_vectors,
        catalog_version=manifest["catalog_version"], knowledge_version=manifest["knowledge_version"],
        embedder_name=manifest["embedder"], dim=int(manifest["dim"]), names=table["name"],
    )
    return state, manifest


def dir_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
