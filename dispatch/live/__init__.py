"""The live matching service: ``dispatch serve`` drives the replay's `Dispatcher` over HTTP.

A CAD system streams unit status and position events and posts calls; the service answers with
the same decisions the replay makes, on the wall clock, and keeps every input and decision in an
append-only journal (SQLite or PostgreSQL) from which a restart rebuilds the exact state and a
review board re-derives every recommendation.

Modules: `vocabulary` (unit statuses, NENA EIDO names), `eido` (NENA-STA-021 intake),
`calendar` (shift boundaries on the wall clock), `state` (the clock-free core: inputs to
journal records), `store` (tables, migrations, the journal), `keys` (API keys), `writer` (group
commit), `service` (the running service), `app` (the HTTP routes), `audit` (export, replay).

The web stack is the ``service`` extra: ``pip install 'coresponder-dispatch[service]'``; the
pure modules (`vocabulary`, `eido`, `calendar`, `state`) import without it.
"""

from __future__ import annotations

import importlib.util

from dispatch.errors import DispatchError

INSTALL_HINT = "pip install 'coresponder-dispatch[service]'"
POSTGRES_HINT = "pip install 'coresponder-dispatch[postgres]'"
_SERVICE_MODULES = ("fastapi", "uvicorn", "sqlalchemy", "alembic")


class MissingServiceExtraError(DispatchError):
    """The web stack (the ``service`` extra) is not installed."""


def require_service() -> None:
    """Raise `MissingServiceExtraError`, naming the extra, when the web stack is missing."""
    missing = [name for name in _SERVICE_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingServiceExtraError(
            f"the live service needs {', '.join(missing)}: {INSTALL_HINT}"
        )
