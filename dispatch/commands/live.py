"""``dispatch serve``, ``dispatch keys ...`` and ``dispatch audit ...``: the live service.

``dispatch serve SCENARIO`` runs the service the scenario configures (its network, rules,
policy, stations, teams and shifts) with its journal in ``--db`` (SQLite by default,
``postgresql+psycopg://...`` for PostgreSQL). Keys are made with ``dispatch keys create``.
These commands need the ``service`` extra: ``pip install 'coresponder-dispatch[service]'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dispatch.errors import InputError

DEFAULT_DB = "sqlite:///dispatch-live.db"
DB_OPTION = typer.Option(
    "--db", help="Database URL: sqlite:///FILE.db or postgresql+psycopg://USER:PASS@HOST/DB."
)

keys_app = typer.Typer(help="Create, list and revoke API keys of the live service.")
audit_app = typer.Typer(help="Export and replay the live service's audit journal.")


def _store(url: str):  # type: ignore[no-untyped-def]
    from dispatch.live import require_service

    require_service()
    from dispatch.live.store import Store

    return Store.open(url)


def _config(scenario: Path):  # type: ignore[no-untyped-def]
    from dispatch.live.state import LiveConfig
    from dispatch.scenario_file import load_scenario, read_raw

    return LiveConfig.from_scenario(load_scenario(scenario), read_raw(scenario))


def serve(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML: network, rules, fleet, shifts.")],
    db: Annotated[str, DB_OPTION] = DEFAULT_DB,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8080,
    max_body_kb: Annotated[
        int, typer.Option(help="Largest request body accepted (KiB); larger ones get 413.", min=1)
    ] = 1024,
    incident_types: Annotated[
        Path | None,
        typer.Option(help="TOML table of EIDO incident codes over the bundled one (README)."),
    ] = None,
) -> None:
    """Serve the scenario's dispatch rules to a CAD system over HTTP."""
    store = _store(db)
    config = _config(scenario)
    from dispatch.live.eido import IncidentTypeTable

    table = IncidentTypeTable.from_file(incident_types) if incident_types else None
    import logging

    import uvicorn

    from dispatch.cli import package_version
    from dispatch.live.app import create_app
    from dispatch.live.service import LiveService

    if store.get_meta("scenario_path") is None:
        store.set_meta("scenario_path", str(scenario.resolve()))
    service = LiveService(config, store)
    app = create_app(
        service, version=package_version(), max_body=max_body_kb * 1024, incident_types=table
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    typer.echo(f"dispatch serve: {scenario.name} on http://{host}:{port}/v1 (journal: {db})")
    # httptools' C parser and uvloop's event loop (where there is one): the HTTP layer is most
    # of what a request costs.
    import httptools  # noqa: F401

    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:  # no uvloop on Windows
        loop = "asyncio"
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        loop=loop,
        http="httptools",
    )


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="reader, dispatcher or admin.")],
    db: Annotated[str, DB_OPTION] = DEFAULT_DB,
    label: Annotated[str | None, typer.Option(help="A note: who or what uses the key.")] = None,
) -> None:
    """Create a key and print it (this once; only its hash is stored)."""
    from dispatch.live.keys import KeyRing

    typer.echo(KeyRing(_store(db)).create(role, label))


@keys_app.command("list")
def keys_list(db: Annotated[str, DB_OPTION] = DEFAULT_DB) -> None:
    """List keys (ids, roles, labels; never secrets)."""
    from dispatch.live.keys import KeyRing
    from dispatch.live.state import iso

    for key in KeyRing(_store(db)).list():
        state = f"revoked {iso(key.revoked_at_s)}" if key.revoked_at_s else "active"
        typer.echo(f"{key.key_id}  {key.role:<10}  {state:<32}  {key.label or ''}")


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key id (the part after 'dsp_').")],
    db: Annotated[str, DB_OPTION] = DEFAULT_DB,
) -> None:
    """Revoke a key (a running service stops accepting it within seconds)."""
    from dispatch.live.keys import KeyRing

    if not KeyRing(_store(db)).revoke(key_id):
        raise InputError(f"no active key {key_id!r}", field="key_id")
    typer.echo(f"revoked {key_id}")


@audit_app.command("export")
def audit_export(
    out: Annotated[Path, typer.Option("--out", help="Parquet file to write.")],
    db: Annotated[str, DB_OPTION] = DEFAULT_DB,
) -> None:
    """Write the whole journal (inputs, decisions, recommendations) to Parquet."""
    from dispatch.live.audit import export

    n = export(_store(db), out)
    typer.echo(f"wrote {n} journal rows to {out}")


@audit_app.command("replay")
def audit_replay(
    db: Annotated[str, DB_OPTION] = DEFAULT_DB,
    scenario: Annotated[
        Path | None,
        typer.Option(help="Scenario file (default: the one the service was started with)."),
    ] = None,
) -> None:
    """Re-derive every decision from the journal's inputs; exit 1 if any differs."""
    from dispatch.live.audit import replay

    store = _store(db)
    if scenario is None:
        recorded = store.get_meta("scenario_path")
        if recorded is None:
            raise InputError("the journal names no scenario; give --scenario", field="--scenario")
        scenario = Path(recorded)
    report = replay(store, _config(scenario))
    typer.echo(
        f"replayed {report.rows} journal rows ({report.recommendations} calls): "
        f"{len(report.differences)} differ"
    )
    for diff in report.differences[:20]:
        typer.echo(f"  row {diff.seq} ({diff.kind}): recorded {diff.recorded} != {diff.replayed}")
    if report.differences:
        raise typer.Exit(1)
