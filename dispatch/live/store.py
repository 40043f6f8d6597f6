"""Durable storage of the live service: the journal, API keys and service metadata.

The journal is append-only: every input the service applied (unit events, calls,
confirmations and overrides, cancellations, timers and shift boundaries coming due) with the
session time it was applied at and the output it gave. A restart applies it again from the top
to rebuild the exact state; ``dispatch audit replay`` does the same and compares outputs.

SQLite (the default, embedded) runs in WAL mode with ``synchronous=FULL``: a commit is on disk
before it returns, and the service acknowledges nothing before its commit (group commit in
`dispatch.live.writer` keeps that cheap). PostgreSQL is used through psycopg 3
(``postgresql+psycopg://...``). The schema is created and upgraded by Alembic migrations
(`dispatch/live/migrations`).
"""

from __future__ import annotations

import dispatch.live.web_stack  # noqa: F401  (names the extra when it is missing)

# isort: split

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from dispatch.errors import InputError
from dispatch.live import POSTGRES_HINT

metadata = sa.MetaData()

journal = sa.Table(
    "journal",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("now_s", sa.Float(precision=53), nullable=False),
    sa.Column("event_id", sa.String(200), nullable=True, unique=True),
    sa.Column("unit_id", sa.String(200), nullable=True, index=True),
    sa.Column("call_id", sa.String(200), nullable=True, index=True),
    sa.Column("input", sa.Text, nullable=False),
    sa.Column("output", sa.Text, nullable=False),
    sa.Column("recorded_at_s", sa.Float(precision=53), nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("salt", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(128), nullable=False),
    sa.Column("label", sa.String(200), nullable=True),
    sa.Column("created_at_s", sa.Float(precision=53), nullable=False),
    sa.Column("revoked_at_s", sa.Float(precision=53), nullable=True),
)

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

DEFAULT_DB = "sqlite:///dispatch-live.db"
MIGRATIONS = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class JournalRow:
    """One journal record: an input, the session time it was applied at, and its output."""

    seq: int
    kind: str
    now_s: float
    input: dict[str, Any]
    output: dict[str, Any]
    event_id: str | None = None
    unit_id: str | None = None
    call_id: str | None = None
    recorded_at_s: float = 0.0

    def values(self) -> dict[str, Any]:
        """The row as table values (JSON text for input and output)."""
        return {
            "seq": self.seq,
            "kind": self.kind,
            "now_s": self.now_s,
            "event_id": self.event_id,
            "unit_id": self.unit_id,
            "call_id": self.call_id,
            "input": json.dumps(self.input, separators=(",", ":")),
            "output": json.dumps(self.output, separators=(",", ":")),
            "recorded_at_s": self.recorded_at_s,
        }


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///file.db`` or ``postgresql+psycopg://...``).

    Raises
    ------
    InputError
        For a URL SQLAlchemy cannot read or a database driver that is not installed.
    """
    try:
        parsed = sa.make_url(url)
    except ArgumentError:
        raise InputError(f"cannot read database URL {url!r}", field="--db") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, not psycopg2
    try:
        if backend == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:":
                folder = Path(database).expanduser().resolve().parent
                if not folder.is_dir():
                    raise InputError(f"folder {folder} does not exist", field="--db")
            engine = sa.create_engine(parsed, connect_args={"check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
        elif backend == "postgresql":
            import psycopg  # noqa: F401  (the driver the URL names; missing: the hint below)

            engine = sa.create_engine(
                parsed,
                pool_pre_ping=True,
                connect_args={"connect_timeout": int(os.environ.get("DISPATCH_DB_TIMEOUT", "5"))},
            )
        else:
            raise InputError(
                f"database {backend!r} is not supported (use sqlite or postgresql)", field="--db"
            )
    except (NoSuchModuleError, ModuleNotFoundError):
        raise InputError(
            f"no driver for {parsed.drivername!r}: {POSTGRES_HINT}", field="--db"
        ) from None
    return engine


class Store:
    """The service's database: migrations, the journal, keys and metadata.

    Parameters
    ----------
    engine
        From `make_engine`.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Store:
        """Open (and migrate to the newest schema) the database at ``url``."""
        store = cls(make_engine(url))
        store.migrate()
        return store

    def migrate(self) -> None:
        """Create or upgrade the schema with the bundled Alembic migrations."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def ping(self) -> None:
        """Raise (a SQLAlchemy error) unless the database answers."""
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

    # -- journal ---------------------------------------------------------------------------
    def append(self, rows: Sequence[JournalRow]) -> None:
        """Write ``rows`` in one transaction: all are durable when this returns, or none."""
        if not rows:
            return
        with self.engine.begin() as connection:
            connection.execute(journal.insert(), [row.values() for row in rows])

    def rows(self, *, after: int = -1, limit: int | None = None) -> Iterator[JournalRow]:
        """Journal rows with ``seq > after`` in order (all of them, or ``limit``)."""
        query = journal.select().where(journal.c.seq > after).order_by(journal.c.seq)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            for r in connection.execute(query):
                yield JournalRow(
                    seq=r.seq,
                    kind=r.kind,
                    now_s=r.now_s,
                    input=json.loads(r.input),
                    output=json.loads(r.output),
                    event_id=r.event_id,
                    unit_id=r.unit_id,
                    call_id=r.call_id,
                    recorded_at_s=r.recorded_at_s,
                )

    def count(self) -> int:
        """Number of journal rows."""
        with self.engine.connect() as connection:
            found = connection.execute(sa.select(sa.func.count()).select_from(journal)).scalar()
        return int(found or 0)

    # -- metadata --------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        """A metadata value, or None."""
        with self.engine.connect() as connection:
            found = connection.execute(sa.select(meta.c.value).where(meta.c.key == key)).scalar()
        return None if found is None else str(found)

    def set_meta(self, key: str, value: str) -> None:
        """Set a metadata value."""
        with self.engine.begin() as connection:
            connection.execute(meta.delete().where(meta.c.key == key))
            connection.execute(meta.insert().values(key=key, value=value))
