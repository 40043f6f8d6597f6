"""Routes as plain lists, so reading where a returning team is costs a `bisect`, not numpy."""

from __future__ import annotations

from bisect import bisect_right

from dispatch.travel import Route


class Leg:
    """A route in plain Python lists.

    Examples
    --------
    >>> import numpy as np
    >>> from dispatch.travel import Route
    >>> leg = Leg(Route(np.array([4, 7, 9]), np.array([0.0, 30.0, 75.0])))
    >>> leg.duration_s, leg.place_at(10.0), leg.place_at(30.0), leg.place_at(500.0)
    (75.0, 4, 7, 9)
    """

    __slots__ = ("duration_s", "elapsed", "places")

    def __init__(self, route: Route) -> None:
        self.places: list[int] = route.places.tolist()
        self.elapsed: list[float] = route.elapsed_s.tolist()
        self.duration_s = route.duration_s

    def place_at(self, elapsed_s: float) -> int:
        """The last place reached ``elapsed_s`` seconds after setting out."""
        k = bisect_right(self.elapsed, elapsed_s) - 1
        return self.places[max(0, min(k, len(self.places) - 1))]
