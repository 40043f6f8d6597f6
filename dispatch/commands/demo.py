"""``dispatch demo``: the main job on the bundled data."""

from __future__ import annotations


def demo() -> None:
    """Recommend teams for a handful of calls on the Denver road network."""
    raise NotImplementedError
