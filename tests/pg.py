"""Real PostgreSQL servers for the tests, never a mock: fixtures pg_url, pg_db_url, pg_server.

- ``pg_url`` (session): URL of a server for the whole session. ``DISPATCH_TEST_PG_URL`` when set
  (CI starts one with scripts/postgres.sh); otherwise a throwaway server this process starts from
  the PostgreSQL binaries on the machine and removes at the end.
- ``pg_db_url`` (test): URL of a fresh empty database on that server, dropped after the test.
- ``pg_server`` (test): a server of this process's own, apart from the ``pg_url`` one, which a
  test may ``stop()`` (the database is down: connections are refused) and ``start()`` again on
  the same port and URL; it is running again after the test. Its ``create_database()`` gives a
  fresh database on it, dropped after the test.

Without a server (no URL, no binaries) the tests that use these are skipped, and fail instead
when ``DISPATCH_REQUIRE_PG=1`` (CI), so a lost database shows as red, not as skips.

Under pytest-xdist each worker starts its own servers (on ports of their own): nothing is shared
across processes, so no worker's stop or crash reaches another. Servers are started on first
use, so a session that uses none starts none. A server whose pytest process died without
cleaning up (kill -9) is removed by the next session that starts one.

This module is a pytest plugin: a test module that uses the fixtures says
``pytest_plugins = ["pg"]`` (or tests/conftest.py does, once for all). Its helpers
(``PgServer``, ``create_database``, ...) are imported as usual: ``from pg import PgServer``.
It uses no assert, so it may be imported before pytest loads it as a plugin (PYTEST_DONT_REWRITE).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

URL_ENV = "DISPATCH_TEST_PG_URL"
REQUIRE_ENV = "DISPATCH_REQUIRE_PG"
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "postgres.sh"
DIR_PREFIX = "dispatch-pg-"  # in the system temp folder: the server's OS user must reach it


class PgError(RuntimeError):
    """scripts/postgres.sh failed."""


def required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it when the environment requires PostgreSQL."""
    if required():
        pytest.fail(f"PostgreSQL required ({REQUIRE_ENV}=1) but {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL: {reason}")


def _script(*args: str) -> str:
    proc = subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=180, check=False
    )
    if proc.returncode != 0:
        raise PgError(f"scripts/postgres.sh {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def binaries_found() -> bool:
    """Whether scripts/postgres.sh finds initdb, pg_ctl and postgres on this machine."""
    try:
        _script("find")
    except PgError:
        return False
    return True


def with_database(url: str, name: str) -> str:
    """The same server URL with another database name, password kept.

    >>> with_database("postgresql+psycopg://u:pw@127.0.0.1:5432/dispatch", "t1")
    'postgresql+psycopg://u:pw@127.0.0.1:5432/t1'
    """
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _admin_execute(url: str, sql: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(
        url, isolation_level="AUTOCOMMIT", poolclass=NullPool, connect_args={"connect_timeout": 10}
    )
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def create_database(server_url: str) -> str:
    """A new empty database on the server of ``server_url``; returns its URL."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"test_{worker}_{uuid.uuid4().hex[:12]}"
    _admin_execute(server_url, f'CREATE DATABASE "{name}"')
    return with_database(server_url, name)


def drop_database(server_url: str, db_url: str) -> None:
    """Drop the database of ``db_url``, closing any connection a test left open to it."""
    from sqlalchemy.engine import make_url

    name = make_url(db_url).database
    _admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reap_orphans() -> None:
    """Remove servers left by pytest processes that died without cleaning up."""
    for directory in Path(tempfile.gettempdir()).glob(f"{DIR_PREFIX}*"):
        try:
            pid = int((directory / "owner").read_text())
        except (OSError, ValueError):
            continue  # not ours, or still being set up
        if not _alive(pid):
            # Errors: someone else's, or already gone.
            with contextlib.suppress(PgError, subprocess.TimeoutExpired):
                _script("destroy", str(directory))


class PgServer:
    """A throwaway server owned by this process, in a temp folder of its own.

    ``stop()`` makes it unreachable (connections refused, open ones closed): a fast shutdown,
    or with ``immediate=True`` one like a crash (no checkpoint; recovery on the next start).
    ``start()`` brings it back on the same port, so URLs handed out stay valid.
    """

    def __init__(self) -> None:
        _reap_orphans()
        self.directory = Path(tempfile.mkdtemp(prefix=DIR_PREFIX))
        (self.directory / "owner").write_text(str(os.getpid()))
        try:
            self.url = _script("start", str(self.directory))
        except BaseException:
            self.destroy()
            raise
        self.running = True
        self._databases: list[str] = []

    def start(self) -> None:
        url = _script("start", str(self.directory))
        if url != self.url:
            raise PgError(f"restarted at {url}, not {self.url}")
        self.running = True

    def stop(self, *, immediate: bool = False) -> None:
        _script("stop", str(self.directory), "immediate" if immediate else "fast")
        self.running = False

    def create_database(self) -> str:
        """URL of a fresh empty database on this server (dropped after the test)."""
        url = create_database(self.url)
        self._databases.append(url)
        return url

    def reset(self) -> None:
        """Running again, without the databases made since the last reset."""
        self.start()
        while self._databases:
            drop_database(self.url, self._databases.pop())

    def destroy(self) -> None:
        # On error the next session's reaper retries.
        with contextlib.suppress(PgError, subprocess.TimeoutExpired):
            _script("destroy", str(self.directory))
        self.running = False

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"PgServer({self.directory}, {state})"


# One of each per process, made on first use and removed when pytest unconfigures (after the
# last test, also on Ctrl-C). A failure is kept, so later tests skip or fail at once.
_servers: dict[str, PgServer | str] = {}


def _own_server(config: pytest.Config, role: str) -> PgServer:
    got = _servers.get(role)
    if got is None:
        if not binaries_found():
            got = (
                "no PostgreSQL server binaries were found to start a throwaway server "
                "(Debian: apt-get install postgresql, or scripts/postgres.sh install)"
            )
            if role == "shared":
                got = f"{URL_ENV} is not set and {got}"
        else:
            try:
                got = PgServer()
            except (PgError, subprocess.TimeoutExpired) as exc:
                got = f"a throwaway server did not start: {exc}"
            else:
                config.add_cleanup(got.destroy)
        _servers[role] = got
    if isinstance(got, str):
        unavailable(got)
    return got


_checked_urls: dict[str, str | None] = {}


def _session_url(config: pytest.Config) -> str:
    url = os.environ.get(URL_ENV, "").strip()
    if not url:
        return _own_server(config, "shared").url
    if url not in _checked_urls:
        try:
            _admin_execute(url, "SELECT 1")
            _checked_urls[url] = None
        except Exception as exc:
            _checked_urls[url] = f"{type(exc).__name__}: {exc}"
    problem = _checked_urls[url]
    if problem is not None:
        # A URL given on purpose that does not answer is an error, never a skip.
        pytest.fail(f"{URL_ENV} does not answer: {problem}", pytrace=False)
    return url


@pytest.fixture(scope="session")
def pg_url(request: pytest.FixtureRequest) -> str:
    """URL (``postgresql+psycopg://...``) of the session's PostgreSQL server."""
    return _session_url(request.config)


@pytest.fixture
def pg_db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a fresh empty database on the session's server, dropped after the test."""
    server_url = _session_url(request.config)
    url = create_database(server_url)
    yield url
    drop_database(server_url, url)


@pytest.fixture
def pg_server(request: pytest.FixtureRequest) -> Iterator[PgServer]:
    """A server this process owns, for tests that stop and start the database."""
    server = _own_server(request.config, "stoppable")
    server.reset()  # running, whatever a failed teardown left
    yield server
    server.reset()
