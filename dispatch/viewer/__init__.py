"""The offline replay viewer: ``dispatch view OUT_DIR`` writes one self-contained HTML page.

The page replays a ``dispatch simulate --events`` output on a map drawn from the scenario's own
data (its ``[map] areas`` polygons, its road network, its stations and facilities): calls appear
when received, teams move along their routes and change colour with their status. It needs no
network: the script, the styles and the data are inlined, and its content security policy
refuses every request. See `dispatch.viewer.build` for the data and how team movements are
reconstructed from the event log.
"""

from __future__ import annotations

from dispatch.viewer.build import ViewerError, build_viewer_data, position_at, write_viewer

__all__ = ["ViewerError", "build_viewer_data", "position_at", "write_viewer"]
