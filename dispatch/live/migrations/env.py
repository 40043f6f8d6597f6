"""Alembic environment of the live service's database.

`dispatch.live.store.Store.migrate` runs the migrations on its own connection (passed in
``config.attributes["connection"]``); ``alembic -x url=... upgrade head`` with a config file
that sets ``script_location`` to this folder works as well.
"""

from __future__ import annotations

import dispatch.live.web_stack  # noqa: F401  (names the extra when it is missing)

# isort: split

import sqlalchemy as sa
from alembic import context

from dispatch.live.store import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("give the database as: alembic -x url=sqlite:///dispatch-live.db ...")
    with sa.create_engine(url).begin() as own:
        context.configure(connection=own, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
