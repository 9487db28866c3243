"""Catalog sources, validation in one pass, and the catalog version."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from domainlm.catalog import load_catalog, parse_price, parse_stock
from domainlm.cli import main
from domainlm.config import CatalogConfig, load_project
from domainlm.errors import CatalogError

from conftest import SMALL_CATALOG_CSV

MAPPING = dict(
    id_column="sku", name_column="name", price_column="price", currency="USD", category_column="category",
    stock_column="in_stock", description_column="notes",
    fields=[{"column": "abv", "label": "alcohol", "unit": "%"}, {"column": "volume_ml", "label": "volume", "unit": "ml"},
            {"column": "region"}],
)


def csv_config(path: Path) -> CatalogConfig:
    return CatalogConfig(source=str(path), **MAPPING)


# Six planted errors: empty name, price not a number, negative price, duplicate id, bad stock, foreign currency.
BROKEN_CSV = """\
sku,name,category,price,in_stock,abv,volume_ml,region,notes
A-1,Good Wine,Red Wine,10.00,3,13,750,Rioja,ok
A-2,,Red Wine,11.00,3,13,750,Rioja,empty name
A-3,Bad Price,Red Wine,ten dollars,3,13,750,Rioja,price not a number
A-4,Negative,Red Wine,-5,3,13,750,Rioja,negative price
A-1,Duplicate,Red Wine,12.00,3,13,750,Rioja,duplicate id
A-6,Bad Stock,Red Wine,12.00,plenty,13,750,Rioja,stock not a number
A-7,Euro Wine,Red Wine,€12.00,3,13,750,Rioja,foreign currency
A-8,Fine Wine,White Wine,$1,234.50,0,12,750,Loire,fine
"""


def test_six_planted_errors_reported_in_one_pass(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text(BROKEN_CSV.replace("$1,234.50", '"$1,234.50"'), encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_catalog(csv_config(path))
    problems = err.value.problems
    assert len(problems) == 6
    by_row = {p.row: p for p in problems}
    assert sorted(by_row) == [2, 3, 4, 5, 6, 7]
    assert "empty name" in by_row[2].message
    assert "not a number" in by_row[3].message and by_row[3].id == "A-3"
    assert "negative" in by_row[4].message
    assert "duplicate id (first seen in row 1)" in by_row[5].message and by_row[5].id == "A-1"
    assert "stock" in by_row[6].message and by_row[6].field == "in_stock"
    assert "unknown currency format" in by_row[7].message
    assert "row 7, id A-7" in str(err.value)


def test_catalog_check_cli_exits_nonzero_and_writes_nothing(small_project, capsys):
    (small_project / "catalog.csv").write_text(BROKEN_CSV.replace("$1,234.50", '"$1,234.50"').replace("abv", "abv"))
    before = sorted(p.relative_to(small_project) for p in small_project.rglob("*"))
    with pytest.raises(SystemExit) as exit_info:
        main(["catalog", "check", "-c", str(small_project / "domainlm.yaml")])
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert "6 problem(s)" in out and "A-7" in out
    after = sorted(p.relative_to(small_project) for p in small_project.rglob("*"))
    assert before == after


def test_catalog_check_cli_summarises(small_project, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["catalog", "check", "-c", str(small_project / "domainlm.yaml")])
    assert exit_info.value.code in (0, None)
    out = capsys.readouterr().out
    assert "products" in out and "6" in out and "$19.50" in out and "$649.00" in out
    assert "alcohol" in out


def test_missing_mapped_column_named(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("sku,title,price\nA,B,1\n")
    with pytest.raises(CatalogError) as err:
        load_catalog(CatalogConfig(source=str(path), id_column="sku", name_column="name", price_column="price"))
    assert "catalog.name_column" in str(err.value) and "'name'" in str(err.value) and "title" in str(err.value)


def test_typed_products(small_project):
    project = load_project(small_project / "domainlm.yaml")
    catalog = load_catalog(project.catalog, project.root)
    assert len(catalog) == 6
    margaux = catalog.get("W-0001")
    assert margaux.price == 649.0 and margaux.stock == 3 and margaux.category == "Red Wine"
    assert margaux.attribute("alcohol").value == 13.5 and margaux.attribute("alcohol").render() == "13.5%"
    assert margaux.attribute("volume").render() == "750 ml"
    assert catalog.get("W-0003").in_stock is False


def _write_all_formats(tmp_path: Path) -> dict[str, CatalogConfig]:
    import pandas as pd

    csv_path = tmp_path / "c.csv"
    csv_path.write_text(SMALL_CATALOG_CSV)
    frame = pd.read_csv(csv_path, dtype=str)
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in frame.to_dict("records")))
    parquet = tmp_path / "c.parquet"
    typed = pd.read_csv(csv_path)
    typed.to_parquet(parquet)
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as conn:
        typed.to_sql("products", conn, index=False)
    return {
        "csv": csv_config(csv_path),
        "jsonl": CatalogConfig(source=str(jsonl), **MAPPING),
        "parquet": CatalogConfig(source=str(parquet), **MAPPING),
        "sqlite": CatalogConfig(source=f"sqlite:///{db}", table="products", **MAPPING),
        "sqlite-query": CatalogConfig(source=f"sqlite:///{db}", query="SELECT * FROM products WHERE price > 0", **MAPPING),
    }


def test_every_source_gives_the_same_products_and_version(tmp_path):
    configs = _write_all_formats(tmp_path)
    catalogs = {name: load_catalog(cfg, tmp_path) for name, cfg in configs.items()}
    reference = catalogs["csv"]
    for name, catalog in catalogs.items():
        assert [p.canonical() for p in catalog] == [p.canonical() for p in reference], name
        assert catalog.version == reference.version, name


def test_version_changes_with_any_product_change(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(SMALL_CATALOG_CSV)
    v1 = load_catalog(csv_config(path)).version
    path.write_text(SMALL_CATALOG_CSV.replace("27.99", "28.99"))
    v2 = load_catalog(csv_config(path)).version
    path.write_text(SMALL_CATALOG_CSV.replace("Zesty lime", "Zesty lemon"))
    v3 = load_catalog(csv_config(path)).version
    assert len({v1, v2, v3}) == 3
    # Row order does not matter: the version is over products sorted by id.
    lines = SMALL_CATALOG_CSV.strip().splitlines()
    path.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")
    assert load_catalog(csv_config(path)).version == v1


def test_unreadable_sql_source_masks_password(tmp_path):
    cfg = CatalogConfig(source="postgresql://shop:s3cret@127.0.0.1:1/shop", table="products", **MAPPING)
    with pytest.raises(CatalogError) as err:
        load_catalog(cfg, tmp_path)
    assert "s3cret" not in str(err.value) and "shop:***@127.0.0.1:1/shop" in str(err.value)


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(CatalogError, match="unknown format"):
        load_catalog(CatalogConfig(source="c.xlsx"), tmp_path)
    with pytest.raises(CatalogError, match="not found"):
        load_catalog(CatalogConfig(source="missing.csv"), tmp_path)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(12, 12.0), ("12.5", 12.5), ("$1,299.99", 1299.99), ("12,99", 12.99), ("USD 7", 7.0), (" 3.456 ", 3.46)],
)
def test_parse_price(raw, expected):
    assert parse_price(raw, "USD") == expected


@pytest.mark.parametrize("raw", ["€5", "5 EUR", "-1", "abc", True, float("nan")])
def test_parse_price_rejects(raw):
    with pytest.raises(ValueError):
        parse_price(raw, "USD")


def test_parse_stock():
    assert parse_stock("12") == 12 and parse_stock(3.0) == 3
    assert parse_stock("yes") is True and parse_stock("Out of stock") is False and parse_stock(False) is False
    for bad in ("lots", "2.5", -1):
        with pytest.raises(ValueError):
            parse_stock(bad)


@pytest.mark.slow
def test_postgres_gives_same_products_and_version_as_csv(tmp_path, postgres_url):
    import pandas as pd
    import sqlalchemy as sa

    csv_path = tmp_path / "c.csv"
    csv_path.write_text(SMALL_CATALOG_CSV)
    engine = sa.create_engine(postgres_url)
    pd.read_csv(csv_path).to_sql("products", engine, index=False, if_exists="replace")
    engine.dispose()
    from_csv = load_catalog(csv_config(csv_path))
    url = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    from_pg = load_catalog(CatalogConfig(source=url, table="products", **MAPPING))
    assert [p.canonical() for p in from_pg] == [p.canonical() for p in from_csv]
    assert from_pg.version == from_csv.version
    by_query = load_catalog(CatalogConfig(source=url, query="SELECT * FROM products ORDER BY sku DESC", **MAPPING))
    assert by_query.version == from_csv.version
    # NUMERIC columns arrive as Decimal; they must type like the same numbers in a CSV.
    numeric = load_catalog(CatalogConfig(source=url, **MAPPING, query=(
        "SELECT sku, name, category, CAST(price AS NUMERIC(10, 2)) AS price, in_stock, "
        "CAST(abv AS NUMERIC(5, 1)) AS abv, CAST(volume_ml AS NUMERIC) AS volume_ml, region, notes FROM products")))
    assert [p.canonical() for p in numeric] == [p.canonical() for p in from_csv]
    assert numeric.version == from_csv.version
