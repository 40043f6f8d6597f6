"""Dispatch districts from a GeoJSON of polygons: which district a place lies in.

District-first dispatch (`dispatch.match.policy.DistrictFirst`) needs each call's zone and each
team's home district. A scenario names them with ``[policy.districts]``: a GeoJSON
FeatureCollection of (Multi)Polygons in WGS84 and the feature property that names a district.

Examples
--------
>>> square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
>>> d = Districts.from_features([{"properties": {"name": "A"}, "geometry": square}], "name")
>>> d.zone_of([0.5, 2.0], [0.5, 0.5])
['A', None]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dispatch.errors import InputError


@dataclass(frozen=True)
class Districts:
    """Named districts, each a list of polygon outer rings of ``(lon, lat)`` vertices.

    A place in no district has zone None; a place on two (overlapping) districts takes the
    first in file order. Holes are not cut out: a district's outline is what dispatch uses.
    """

    names: tuple[str, ...]
    rings: tuple[tuple[npt.NDArray[np.float64], ...], ...]

    @classmethod
    def from_geojson(cls, path: str | Path, name_property: str = "name") -> Districts:
        """Read a GeoJSON FeatureCollection; ``name_property`` names each district."""
        source = str(path)
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError("file not found", source=source) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InputError(f"not a readable GeoJSON file: {error}", source=source) from None
        features = data.get("features") if isinstance(data, dict) else None
        if not isinstance(features, list):
            raise InputError("not a GeoJSON FeatureCollection", source=source)
        return cls.from_features(features, name_property, source=source)

    @classmethod
    def from_features(
        cls, features: Sequence[Any], name_property: str, *, source: str = "districts"
    ) -> Districts:
        """Districts from GeoJSON features (features without a geometry are skipped)."""
        names: list[str] = []
        rings: list[tuple[npt.NDArray[np.float64], ...]] = []
        for k, feature in enumerate(features, 1):
            geometry = feature.get("geometry") if isinstance(feature, dict) else None
            if geometry is None:
                continue
            props = feature.get("properties") or {}
            if name_property not in props:
                raise InputError(
                    f"feature {k} has no property {name_property!r}",
                    source=source,
                    field=name_property,
                )
            name = str(props[name_property])
            if name in names:
                raise InputError(f"district {name!r} appears twice", source=source, field=name)
            kind = geometry.get("type")
            if kind == "Polygon":
                parts = [geometry["coordinates"]]
            elif kind == "MultiPolygon":
                parts = geometry["coordinates"]
            else:
                raise InputError(f"feature {k} is a {kind}, not a polygon", source=source)
            names.append(name)
            rings.append(tuple(np.asarray(part[0], dtype=np.float64)[:, :2] for part in parts))
        if not names:
            raise InputError("no district polygons", source=source)
        return cls(tuple(names), tuple(rings))

    def zone_of(self, lats: npt.ArrayLike, lons: npt.ArrayLike) -> list[str | None]:
        """The district of each place (WGS84 degrees), None outside every district."""
        from matplotlib.path import Path as Outline

        points = np.column_stack(
            [np.asarray(lons, dtype=float).ravel(), np.asarray(lats, dtype=float).ravel()]
        )
        zone: list[str | None] = [None] * len(points)
        left = np.ones(len(points), dtype=bool)
        for name, rings in zip(self.names, self.rings, strict=True):
            inside = np.zeros(len(points), dtype=bool)
            for ring in rings:
                inside |= Outline(ring).contains_points(points)
            for k in np.flatnonzero(inside & left).tolist():
                zone[k] = name
            left &= ~inside
        return zone
