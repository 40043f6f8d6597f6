"""The PostgreSQL fixtures of tests/pg.py give real servers: SQLAlchemy + psycopg connect, write
and read; every test's database starts empty; a stopped server refuses connections and serves
again, with its data, once started."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pg import PgServer, create_database, drop_database
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

pytest_plugins = ["pg"]  # the fixtures pg_url, pg_db_url, pg_server


def _engine(url: str) -> sa.Engine:
    # No pool: each connect is a real one, so a down server shows at once.
    return sa.create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})


def _tables(url: str) -> list[str]:
    engine = _engine(url)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_url_is_a_psycopg_url_on_localhost_or_given(pg_url: str) -> None:
    url = make_url(pg_url)
    assert url.drivername == "postgresql+psycopg"
    assert url.host and url.port and url.database


def test_write_and_read(pg_db_url: str) -> None:
    engine = _engine(pg_db_url)
    meta = sa.MetaData()
    calls = sa.Table(
        "calls",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )
    try:
        meta.create_all(engine)
        with engine.begin() as conn:
            conn.execute(calls.insert(), [{"kind": "welfare"}, {"kind": "mental health"}])
        with engine.connect() as conn:
            rows = conn.execute(sa.select(calls.c.id, calls.c.kind).order_by(calls.c.id)).all()
            assert [tuple(r) for r in rows] == [(1, "welfare"), (2, "mental health")]
            assert int(conn.execute(sa.text("SHOW server_version_num")).scalar_one()) >= 130000
            assert conn.execute(sa.text("SHOW fsync")).scalar_one() == "on"
    finally:
        engine.dispose()


@pytest.mark.parametrize("round_", [1, 2])
def test_each_test_gets_a_fresh_empty_database(pg_url: str, pg_db_url: str, round_: int) -> None:
    assert _tables(pg_db_url) == []
    engine = _engine(pg_db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE left_behind (x int)"))
    finally:
        engine.dispose()
    assert _tables(pg_db_url) == ["left_behind"]
    assert make_url(pg_db_url).database != make_url(pg_url).database


def test_database_is_dropped_after_the_test(pg_url: str) -> None:
    url = create_database(pg_url)
    engine = _engine(url)
    conn = engine.connect()  # left open: the drop closes it
    try:
        drop_database(pg_url, url)
        with pytest.raises(OperationalError, match="does not exist"):
            _engine(url).connect()
    finally:
        conn.invalidate()
        engine.dispose()


@pytest.mark.parametrize("immediate", [False, True], ids=["fast", "crash"])
def test_stop_makes_the_server_unreachable_and_start_brings_it_back(
    pg_server: PgServer, immediate: bool
) -> None:
    url = pg_server.create_database()
    engine = _engine(url)
    pooled = sa.create_engine(url, pool_pre_ping=True)  # what a service would hold
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE kept (x int)"))
            conn.execute(sa.text("INSERT INTO kept VALUES (42)"))
        with pooled.connect() as conn:
            assert conn.execute(sa.text("SELECT x FROM kept")).scalar_one() == 42

        pg_server.stop(immediate=immediate)
        assert not pg_server.running
        with pytest.raises(OperationalError):
            engine.connect()
        with pytest.raises(OperationalError):
            pooled.connect()

        pg_server.start()
        assert pg_server.running
        # Committed data survives, also a crash; the pool replaces its dead connection.
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT x FROM kept")).scalar_one() == 42
        with pooled.connect() as conn:
            assert conn.execute(sa.text("SELECT x FROM kept")).scalar_one() == 42
    finally:
        pooled.dispose()
        engine.dispose()


def test_stopping_the_stoppable_server_leaves_the_session_one_up(
    pg_db_url: str, pg_server: PgServer
) -> None:
    session, own = make_url(pg_db_url), make_url(pg_server.url)
    assert (session.host, session.port) != (own.host, own.port)
    pg_server.stop()
    assert _tables(pg_db_url) == []


def test_a_test_that_leaves_its_server_stopped_does_not_harm_the_next(pg_server: PgServer) -> None:
    pg_server.stop(immediate=True)  # the fixture starts it again after this test


def test_the_server_is_running_at_the_start_of_each_test(pg_server: PgServer) -> None:
    assert pg_server.running
    assert _tables(pg_server.create_database()) == []
