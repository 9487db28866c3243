"""Catalog sources: each reads raw rows (column -> value) from one kind of storage.

A source only reads; mapping rows to products and validating them is `catalog.load`'s job, so every
source gets the same checks and the same error messages.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Iterable, Protocol

from domainlm.config import CatalogConfig
from domainlm.errors import CatalogError
from domainlm.registry import Registry

Row = dict[str, Any]


class CatalogSource(Protocol):
    """Reads the catalog's rows; `describe()` names the source in messages (passwords masked)."""

    def __init__(self, config: CatalogConfig, root: Path): ...

    def rows(self) -> Iterable[Row]: ...

    def describe(self) -> str: ...


SOURCES: Registry[type[CatalogSource]] = Registry("catalog source")


def _clean(value: Any) -> Any:
    """Normalise missing values (NaN, None, empty text) to None."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return _clean(value.item())
    return value


class _FileSource:
    def __init__(self, config: CatalogConfig, root: Path):
        self.config = config
        path = Path(config.source).expanduser()
        self.path = path if path.is_absolute() else root / path
        if not self.path.exists():
            raise CatalogError(f"{self.path}: catalog file not found (catalog.source = {config.source!r}).")

    def describe(self) -> str:
        return str(self.path)


@SOURCES.register("csv")
class CsvSource(_FileSource):
    """A CSV file with a header row; values stay text and are typed by the loader."""

    def rows(self) -> Iterable[Row]:
        import csv

        try:
            with self.path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                if not reader.fieldnames:
                    raise CatalogError(f"{self.path}: empty file, expected a header row.")
                for row in reader:
                    if None in row:
                        raise CatalogError(
                            f"{self.path}: line {reader.line_num} has more values than the header has columns."
                        )
                    yield {k: _clean(v) for k, v in row.items()}
        except UnicodeDecodeError as exc:
            raise CatalogError(f"{self.path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from None


@SOURCES.register("jsonl")
class JsonlSource(_FileSource):
    """One JSON object per line."""

    def rows(self) -> Iterable[Row]:
        with self.path.open(encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise CatalogError(f"{self.path}: line {line_no} is not valid JSON ({exc.msg}).") from None
                if not isinstance(obj, dict):
                    raise CatalogError(f"{self.path}: line {line_no} is not a JSON object.")
                yield {k: _clean(v) for k, v in obj.items()}


@SOURCES.register("parquet")
class ParquetSource(_FileSource):
    """A Parquet file, read in record batches so large catalogs stream."""

    def rows(self) -> Iterable[Row]:
        import pyarrow.parquet as pq

        try:
            table = pq.ParquetFile(self.path)
        except Exception as exc:  # pyarrow raises several types for unreadable files
            raise CatalogError(f"{self.path}: not a readable Parquet file ({exc}).") from None
        for batch in table.iter_batches(batch_size=10_000):
            for row in batch.to_pylist():
                yield {k: _clean(v) for k, v in row.items()}


def mask_url(url: str) -> str:
    """`postgresql://bob:secret@db/shop` -> `postgresql://bob:***@db/shop`."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


@SOURCES.register("sql")
class SqlSource:
    """A table or query in any database SQLAlchemy reaches (SQLite, PostgreSQL, ...)."""

    def __init__(self, config: CatalogConfig, root: Path):
        self.config = config
        url = config.source
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            # Relative SQLite paths are relative to the project folder, like every other path.
            url = f"sqlite:///{(root / url.removeprefix('sqlite:///')).resolve()}"
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        self.url = url
        if not (config.table or config.query):
            raise CatalogError(f"{self.describe()}: SQL sources need `catalog.table` or `catalog.query`.")

    def describe(self) -> str:
        return mask_url(self.config.source)

    def rows(self) -> Iterable[Row]:
        import sqlalchemy as sa

        connect_args = {"connect_timeout": 10} if self.url.startswith("postgresql") else {}
        try:
            engine = sa.create_engine(self.url, connect_args=connect_args)
        except (sa.exc.ArgumentError, ModuleNotFoundError) as exc:
            raise CatalogError(f"{self.describe()}: not a usable database URL ({exc}).") from None
        if self.config.query:
            statement = sa.text(self.config.query)
        else:
            table_name = self.config.table
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", table_name or ""):
                raise CatalogError(f"catalog.table {table_name!r} is not a plain table name.")
            schema, _, name = table_name.rpartition(".")
            table = sa.Table(name, sa.MetaData(), schema=schema or None)
            statement = sa.select(sa.text("*")).select_from(table)
        try:
            with engine.connect() as conn:
                result = conn.execution_options(stream_results=True).execute(statement)
                columns = list(result.keys())
                for values in result:
                    yield {c: _clean(v) for c, v in zip(columns, values)}
        except sa.exc.OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise CatalogError(f"{self.describe()}: cannot read the catalog: {reason}") from None
        except sa.exc.ProgrammingError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise CatalogError(f"{self.describe()}: the catalog query failed: {reason}") from None
        finally:
            engine.dispose()


def source_kind(config: CatalogConfig) -> str:
    """Which registered source reads `catalog.source`."""
    if config.is_sql:
        return "sql"
    suffix = Path(config.source).suffix.lower().lstrip(".")
    kind = {"csv": "csv", "jsonl": "jsonl", "ndjson": "jsonl", "parquet": "parquet", "pq": "parquet"}.get(suffix)
    if kind is None:
        raise CatalogError(
            f"catalog.source {config.source!r}: unknown format; accepted: .csv, .jsonl, .parquet, "
            f"or a database URL such as sqlite:///shop.db or postgresql://user@host/db."
        )
    return kind


def open_source(config: CatalogConfig, root: Path) -> CatalogSource:
    return SOURCES.get(source_kind(config))(config, root)
