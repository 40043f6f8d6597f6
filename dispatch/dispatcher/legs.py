"""`Leg`, a route as plain lists (defined beside the travel oracles that build it)."""

from __future__ import annotations

from dispatch.travel import Leg

__all__ = ["Leg"]
