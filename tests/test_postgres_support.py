"""The PostgreSQL test-server helper really installs, starts and stops a server."""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from support.postgres import ensure_postgres_installed, postgres_server

pytestmark = pytest.mark.slow


def _accepts_connections(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_binaries_found():
    bindir = ensure_postgres_installed()
    for name in ("initdb", "pg_ctl", "postgres"):
        assert (bindir / name).exists()


def test_fixture_roundtrip(postgres_url: str):
    assert postgres_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    engine = sa.create_engine(postgres_url)
    meta = sa.MetaData()
    items = sa.Table(
        "items", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
    )
    try:
        meta.create_all(engine)
        with engine.begin() as conn:
            conn.execute(items.insert(), [{"name": "alpha"}, {"name": "beta"}, {"name": "gamma"}])
        with engine.connect() as conn:
            names = conn.execute(sa.select(items.c.name).order_by(items.c.id)).scalars().all()
            assert names == ["alpha", "beta", "gamma"]
            assert conn.execute(sa.text("select current_database()")).scalar() == "domainlm_test"
    finally:
        meta.drop_all(engine)
        engine.dispose()


def test_context_manager_stops_server(tmp_path):
    with postgres_server(tmp_path, dbname="other_db") as pg:
        engine = sa.create_engine(pg.url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar() == 1
        engine.dispose()
        assert _accepts_connections(pg.port)
        port, base = pg.port, pg.datadir.parent
    assert not _accepts_connections(port)
    assert not base.exists()


def test_context_manager_cleans_up_on_exception(tmp_path):
    with pytest.raises(ZeroDivisionError):
        with postgres_server(tmp_path) as pg:
            port, base = pg.port, pg.datadir.parent
            1 / 0
    assert not _accepts_connections(port)
    assert not base.exists()
