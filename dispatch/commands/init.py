"""``dispatch init DIR``: copy the example scenarios and the data they read, for editing.

The copies keep the package's layout, ``DIR/scenarios/*.toml`` beside ``DIR/data/<set>/``, so
the relative data paths in the scenario files (``../data/stlouis/calls_2025.csv``) point at the
copied data. Each data folder's README (origin and licence) is copied with it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from dispatch.errors import InputError


@dataclass(frozen=True)
class Copy:
    """One file to copy: from the package, to the user's folder."""

    source: Path
    target: Path


def example_files(directory: Path) -> list[Copy]:
    """The files `init` writes into ``directory``, scenarios first.

    Parameters
    ----------
    directory
        The user's folder.

    Returns
    -------
    list of Copy
        ``directory/scenarios/<name>.toml`` for every bundled example, then every file of the
        bundled data sets under ``directory/data/``.

    Raises
    ------
    InputError
        If the bundled files are missing (a broken install).
    """
    from dispatch.datasets import data_dir, example_scenarios

    copies = [Copy(path, directory / "scenarios" / path.name) for path in example_scenarios()]
    data = data_dir()
    for path in sorted(data.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            copies.append(Copy(path, directory / "data" / path.relative_to(data)))
    return copies


def init(
    directory: Annotated[
        Path, typer.Argument(help="Folder for the copies (created when it does not exist).")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files of the same name already there.")
    ] = False,
) -> None:
    """Copy the example scenarios and their data into DIRECTORY, to edit and run."""
    if directory.exists() and not directory.is_dir():
        raise InputError("exists and is not a folder", source=str(directory))
    copies = example_files(directory)
    existing = [copy.target for copy in copies if copy.target.exists()]
    if existing and not force:
        raise InputError(
            f"{len(existing)} of the files to write already exist (first: {existing[0]}); "
            "nothing written; use --force to overwrite them"
        )
    for copy in copies:
        copy.target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(copy.source, copy.target)
    scenario_folder = directory / "scenarios"
    data_folders = sorted({c.target.parent for c in copies if c.target.parent != scenario_folder})
    typer.echo(f"wrote {len(copies)} files to {directory}:")
    for copy in copies:
        if copy.target.parent == scenario_folder:
            typer.echo(f"  {copy.target}")
    for folder in data_folders:
        count = sum(1 for c in copies if c.target.parent == folder)
        typer.echo(f"  {folder}/ ({count} files)")
    if existing:
        typer.echo(f"overwrote {len(existing)} existing file(s)")
    example = directory / "scenarios" / "stlouis_cru.toml"
    typer.echo(f"next: dispatch simulate {example} --out {directory / 'out' / 'cru'}")
