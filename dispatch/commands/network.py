"""``dispatch network ...``: build road networks for the travel-time oracle.

``import`` converts an OpenStreetMap XML file offline; ``fetch`` downloads a place's streets.
Both write the GraphML that ``TravelTimes.from_graphml`` reads and print what they kept. They
need the ``osm`` extra: ``pip install 'coresponder-dispatch[osm]'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Import road networks.", no_args_is_help=True)

_OUT_HELP = "GraphML file to write (read by the dispatcher's travel-time oracle)."
_SPEED_HELP = (
    "Speed in km/h for highway types with no maxspeed tag anywhere in the network. "
    "Default: a typical speed for each highway type."
)
_NETWORK_TYPE_HELP = (
    "'drive' (public streets) or 'drive_service' (also service roads except parking aisles)."
)

# The options both verbs share.
OutOption = Annotated[Path, typer.Option("--out", "-o", help=_OUT_HELP)]
SpeedOption = Annotated[float | None, typer.Option("--default-speed-kph", help=_SPEED_HELP)]
NetworkTypeOption = Annotated[str, typer.Option("--network-type", help=_NETWORK_TYPE_HELP)]


@app.command("import")
def import_file(
    file: Annotated[
        Path, typer.Argument(help="OpenStreetMap XML file: .osm, .osm.bz2 or .osm.gz.")
    ],
    out: OutOption,
    default_speed_kph: SpeedOption = None,
    network_type: NetworkTypeOption = "drive",
) -> None:
    """Convert an OpenStreetMap XML file into a road network, offline."""
    from dispatch.osm import import_osm

    report = import_osm(file, out, network_type=network_type, default_speed_kph=default_speed_kph)
    typer.echo(str(report))


@app.command("fetch")
def fetch(
    place: Annotated[str, typer.Argument(help="Place name, e.g. 'Oakland, California, USA'.")],
    out: OutOption,
    default_speed_kph: SpeedOption = None,
    network_type: NetworkTypeOption = "drive",
) -> None:
    """Download a place's streets from OpenStreetMap (needs internet access)."""
    from dispatch.osm import fetch_place

    report = fetch_place(place, out, network_type=network_type, default_speed_kph=default_speed_kph)
    typer.echo(str(report))
