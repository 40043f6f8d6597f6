"""Service-time distributions, sampled from the caller's own `numpy.random.Generator`."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from dispatch.errors import InputError

Kind = Literal["fixed", "exponential", "lognormal", "uniform"]
KINDS: tuple[str, ...] = ("fixed", "exponential", "lognormal", "uniform")


@dataclass(frozen=True, slots=True)
class Distribution:
    """A non-negative random duration in seconds.

    Parameters
    ----------
    kind
        ``fixed`` (always ``a``), ``exponential`` (mean ``a``), ``lognormal`` (median ``a``, log
        standard deviation ``b``) or ``uniform`` (between ``a`` and ``b``).
    a, b
        Parameters in seconds (``b`` is unitless for ``lognormal``).
    """

    kind: Kind
    a: float
    b: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"unknown distribution {self.kind!r}; expected one of {KINDS}")
        if not (math.isfinite(self.a) and self.a >= 0):
            raise InputError(f"{self.kind} parameter must be a finite number >= 0, got {self.a!r}")
        if self.kind == "lognormal" and not self.b >= 0:
            raise InputError(f"lognormal sigma must be >= 0, got {self.b!r}")
        if self.kind == "uniform" and not self.b >= self.a:
            raise InputError(f"uniform needs low <= high, got {self.a!r}..{self.b!r}")

    @classmethod
    def fixed(cls, seconds: float) -> Distribution:
        """Always ``seconds``."""
        return cls("fixed", seconds)

    @classmethod
    def exponential(cls, mean_s: float) -> Distribution:
        """Exponential with mean ``mean_s`` seconds."""
        return cls("exponential", mean_s)

    @classmethod
    def lognormal(cls, median_s: float, sigma: float) -> Distribution:
        """Log-normal with median ``median_s`` seconds and log standard deviation ``sigma``."""
        return cls("lognormal", median_s, sigma)

    @classmethod
    def lognormal_from_quantile(cls, median_s: float, p95_s: float) -> Distribution:
        """Log-normal through a median and a 95th percentile (seconds)."""
        if not p95_s >= median_s > 0:
            raise InputError("lognormal needs 0 < median <= p95")
        return cls("lognormal", median_s, math.log(p95_s / median_s) / 1.6448536269514722)

    @classmethod
    def uniform(cls, low_s: float, high_s: float) -> Distribution:
        """Uniform between ``low_s`` and ``high_s`` seconds."""
        return cls("uniform", low_s, high_s)

    @property
    def mean_s(self) -> float:
        """Expected value in seconds."""
        if self.kind == "lognormal":
            return self.a * math.exp(self.b**2 / 2.0)
        if self.kind == "uniform":
            return (self.a + self.b) / 2.0
        return self.a

    def quantile(self, u: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Inverse CDF at probabilities ``u`` in [0, 1), seconds.

        Sampling through the quantile of one uniform stream keeps common random numbers: call
        ``i`` gets the same ``u`` in every scenario, whatever distribution its type maps to.
        """
        p = np.asarray(u, dtype=float)
        if self.kind == "fixed":
            return np.full(p.shape, self.a)
        if self.kind == "exponential":
            return np.asarray(-self.a * _elementwise(math.log1p, -p))
        if self.kind == "lognormal":
            from scipy.special import ndtri  # imported by the one kind that needs it

            return np.asarray(self.a * _elementwise(math.exp, self.b * ndtri(p)))
        return np.asarray(self.a + (self.b - self.a) * p)

    def sample(self, rng: np.random.Generator, size: int) -> npt.NDArray[np.float64]:
        """``size`` draws in seconds."""
        return self.quantile(rng.random(size))


def _elementwise(
    f: Callable[[float], float], x: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """``f`` (a `math` function) of every element of ``x``.

    numpy's own vectorised ``exp`` and ``log1p`` are chosen by CPU (AVX-512 machines run other
    code) and may differ in the last bit, so a seed could replay differently on different
    machines of one cluster; the C library's, which `math` calls, do not take that branch.
    """
    return np.fromiter(map(f, x.ravel().tolist()), dtype=np.float64, count=x.size).reshape(x.shape)
