"""Planning models: queueing formulas and the hypercube model of fixed-preference dispatch.

Pure functions of numbers (rates per hour, times in seconds unless named); no files, no clock.
"""

from __future__ import annotations

from dispatch.plan.hypercube import HypercubeResult, hypercube

__all__ = ["HypercubeResult", "hypercube"]
