"""Wellness rules as small objects: hold predicates, their bookkeeping, the fairness tie-break.

A *hold rule* keeps a team back from the next call. It answers three questions for the matcher
(is each team held? is this one team held? why, in words?) and keeps the fleet column it reads
current through four bookkeeping hooks the dispatch session calls (a team is dispatched, clears,
rests, starts a shift; and before each decision, ``refresh``). The *tie-break* picks, among
teams whose scores are within a margin of the best, the one that has carried the least load.

A new hold rule is one subclass of `HoldRule` with a ``from_config`` that reads its parameter
from `dispatch.match.wellness.WellnessRules`, appended to `HOLD_RULE_TYPES` (whose order decides
which rule is named when several hold).

Outcomes are typed: `WellnessOutcome` says which rule changed a choice and how; its ``label``
is the text written to ``calls.parquet`` (``recovery``, ``override:streak``, ``hold:recovery``,
``fairness``, ``utilization,fairness``).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, ClassVar, NamedTuple

import numpy as np
import numpy.typing as npt

from dispatch.match.explain import format_minutes
from dispatch.match.fleet import Fleet

if TYPE_CHECKING:
    from dispatch.match.wellness import WellnessRules

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]


class WellnessOutcome(NamedTuple):
    """What the wellness rules did to one choice (None when they changed nothing).

    Attributes
    ----------
    held
        The rule that held back the team that would otherwise have gone (another team went).
    override
        The rule a priority call overrode: the held team was sent, no one else could go.
    no_team
        The rule whose holds left no team to send.
    tie_break
        The tie-break (``fairness``) that picked a less-loaded team.

    Examples
    --------
    >>> WellnessOutcome(held="recovery", tie_break="fairness").label
    'recovery,fairness'
    >>> WellnessOutcome.from_label("override:streak")
    WellnessOutcome(held=None, override='streak', no_team=None, tie_break=None)
    """

    held: str | None = None
    override: str | None = None
    no_team: str | None = None
    tie_break: str | None = None

    @property
    def label(self) -> str:
        """The text of the ``wellness`` column."""
        if self.override is not None:
            return f"override:{self.override}"
        if self.no_team is not None:
            return f"hold:{self.no_team}"
        return ",".join(x for x in (self.held, self.tie_break) if x is not None)

    @classmethod
    def from_label(cls, label: str) -> WellnessOutcome | None:
        """Read a ``wellness`` column value back (``""`` gives None)."""
        if not label:
            return None
        if label.startswith("override:"):
            return cls(override=label.removeprefix("override:"))
        if label.startswith("hold:"):
            return cls(no_team=label.removeprefix("hold:"))
        parts = label.split(",")
        tie = parts[-1] if parts[-1] == FairnessTieBreak.name else None
        held = [p for p in parts if p != FairnessTieBreak.name]
        return cls(held=held[0] if held else None, tie_break=tie)


class Book:
    """Per-team history the hold rules' bookkeeping shares (rows as in the fleet)."""

    def __init__(self, fleet: Fleet) -> None:
        m = len(fleet)
        self.fleet = fleet
        self.last_free = np.full(m, -np.inf)
        self.busy_since = np.zeros(m)
        # Busy intervals (start, end) per team, kept only by rules that read them (the
        # utilization cap, trimmed to its window): a session of months must not grow a list per
        # call that nothing reads.
        self.busy: list[deque[tuple[float, float]]] = [deque() for _ in range(m)]


class HoldRule:
    """A wellness rule that holds teams back; subclasses set `name` and the predicates."""

    name: ClassVar[str]

    def held(self, now_s: float, fleet: Fleet) -> BoolArray:
        """Per team, whether this rule holds it back at ``now_s``."""
        raise NotImplementedError

    def held_row(self, now_s: float, fleet: Fleet, i: int) -> bool:
        """Whether team row ``i`` is held (the fast path's scalar test)."""
        return bool(self.held(now_s, fleet)[i])

    def note(self, now_s: float, fleet: Fleet, i: int) -> str:
        """Why team row ``i`` is held, in words for an explanation."""
        raise NotImplementedError

    # -- bookkeeping hooks (no-ops unless the rule keeps a column current) -----------------
    def refresh(self, book: Book, now_s: float) -> None:
        """Bring the rule's column to ``now_s`` before a decision."""

    def dispatched(self, book: Book, i: int, now_s: float) -> None:
        """Team ``i`` takes a call."""

    def cleared(self, book: Book, i: int, now_s: float, *, critical: bool) -> list[float]:
        """Team ``i`` is free again; returns delays (s) after which a hold it now has ends."""
        return []

    def rested(self, book: Book, i: int, now_s: float) -> None:
        """Team ``i`` ends a break."""

    def shift_started(self, book: Book, i: int, now_s: float) -> None:
        """Team ``i`` starts a shift."""


class RecoveryHold(HoldRule):
    """Held for ``recovery_s`` after clearing a critical incident."""

    name = "recovery"

    def __init__(self, recovery_s: float) -> None:
        self.recovery_s = recovery_s

    @classmethod
    def from_config(cls, rules: WellnessRules) -> RecoveryHold | None:
        """From ``recovery_min`` (None: off)."""
        return None if rules.recovery_min is None else cls(rules.recovery_min * 60.0)

    def held(self, now_s: float, fleet: Fleet) -> BoolArray:
        return fleet.recovering_until_s > now_s

    def held_row(self, now_s: float, fleet: Fleet, i: int) -> bool:
        return bool(fleet.recovering_until_s[i] > now_s)

    def note(self, now_s: float, fleet: Fleet, i: int) -> str:
        left = fleet.recovering_until_s[i] - now_s
        return f"recovering after a critical incident ({format_minutes(left)} left)"

    def cleared(self, book: Book, i: int, now_s: float, *, critical: bool) -> list[float]:
        if not critical:
            return []
        book.fleet.recovering_until_s[i] = now_s + self.recovery_s
        return [self.recovery_s]


class StreakHold(HoldRule):
    """Held after ``limit`` crisis calls in a row without an idle break of ``break_s``."""

    name = "streak"

    def __init__(self, limit: int, break_s: float) -> None:
        self.limit = limit
        self.break_s = break_s

    @classmethod
    def from_config(cls, rules: WellnessRules) -> StreakHold | None:
        """From ``max_consecutive`` (None: off) and ``break_min``."""
        if rules.max_consecutive is None:
            return None
        return cls(rules.max_consecutive, rules.break_min * 60.0)

    def held(self, now_s: float, fleet: Fleet) -> BoolArray:
        return fleet.streak >= self.limit

    def held_row(self, now_s: float, fleet: Fleet, i: int) -> bool:
        return bool(fleet.streak[i] >= self.limit)

    def note(self, now_s: float, fleet: Fleet, i: int) -> str:
        return f"{int(fleet.streak[i])} crisis calls in a row: break due"

    def refresh(self, book: Book, now_s: float) -> None:
        fleet = book.fleet
        fleet.streak[fleet.dispatchable & (now_s - book.last_free >= self.break_s)] = 0

    def dispatched(self, book: Book, i: int, now_s: float) -> None:
        # The streak grows unless the team has rested since its last call.
        if now_s - book.last_free[i] >= self.break_s:
            book.fleet.streak[i] = 0
        book.fleet.streak[i] += 1

    def cleared(self, book: Book, i: int, now_s: float, *, critical: bool) -> list[float]:
        return [self.break_s] if book.fleet.streak[i] >= self.limit else []

    def rested(self, book: Book, i: int, now_s: float) -> None:
        book.fleet.streak[i] = 0

    def shift_started(self, book: Book, i: int, now_s: float) -> None:
        book.fleet.streak[i] = 0


class UtilizationCap(HoldRule):
    """Held while the share of the last ``window_s`` spent on calls is at ``cap`` or above."""

    name = "utilization"

    def __init__(self, cap: float, window_s: float) -> None:
        self.cap = cap
        self.window_s = window_s

    @classmethod
    def from_config(cls, rules: WellnessRules) -> UtilizationCap | None:
        """From ``utilization_cap`` (None: off) and ``utilization_window_h``."""
        if rules.utilization_cap is None:
            return None
        return cls(rules.utilization_cap, rules.utilization_window_h * 3600.0)

    def held(self, now_s: float, fleet: Fleet) -> BoolArray:
        return fleet.recent_utilization >= self.cap

    def held_row(self, now_s: float, fleet: Fleet, i: int) -> bool:
        return bool(fleet.recent_utilization[i] >= self.cap)

    def note(self, now_s: float, fleet: Fleet, i: int) -> str:
        return (
            f"{fleet.recent_utilization[i]:.0%} of the last {self.window_s / 3600:g} h on calls "
            f"(cap {self.cap:.0%})"
        )

    def cleared(self, book: Book, i: int, now_s: float, *, critical: bool) -> list[float]:
        book.busy[i].append((float(book.busy_since[i]), now_s))
        return []

    def refresh(self, book: Book, now_s: float) -> None:
        fleet = book.fleet
        start = now_s - self.window_s
        for i in np.flatnonzero(fleet.dispatchable).tolist():
            intervals = book.busy[i]
            while intervals and intervals[0][1] <= start:
                intervals.popleft()
            busy = sum(min(e, now_s) - max(s, start) for s, e in intervals)
            fleet.recent_utilization[i] = busy / self.window_s


#: Hold rules in the order that decides which one is named when several hold a team.
HOLD_RULE_TYPES: tuple[type[RecoveryHold] | type[StreakHold] | type[UtilizationCap], ...] = (
    RecoveryHold,
    StreakHold,
    UtilizationCap,
)


class FairnessTieBreak:
    """Among teams within ``margin_s`` of the best score and ETA, the least loaded goes."""

    name = "fairness"

    def __init__(self, margin_s: float) -> None:
        self.margin_s = margin_s

    @classmethod
    def from_config(cls, rules: WellnessRules) -> FairnessTieBreak | None:
        """From ``fairness_margin_s`` (None: off)."""
        return None if rules.fairness_margin_s is None else cls(rules.fairness_margin_s)

    def pick(self, rows: IntArray, score: FloatArray, fleet: Fleet) -> int:
        """The row of ``rows`` with the least load this shift; ties by score, then row."""
        return self.pick_rows(rows.tolist(), score.tolist(), fleet)

    def pick_rows(self, rows: list[int], score: list[float], fleet: Fleet) -> int:
        """`pick` on Python lists (``score`` per fleet row): the matcher's fast path has them."""
        load: list[float] = fleet.load_s.tolist()
        # a handful of rows: the smallest (load, score, row) key, without sorting arrays
        return min(rows, key=lambda r: (load[r], score[r], r))


def hold_codes(rules: tuple[HoldRule, ...], now_s: float, fleet: Fleet) -> npt.NDArray[np.int8]:
    """Per team: 0 when free to go, else 1 + the index in ``rules`` of the first rule holding it."""
    codes = np.zeros(len(fleet), dtype=np.int8)
    for k in range(len(rules) - 1, -1, -1):
        codes[rules[k].held(now_s, fleet)] = k + 1
    return codes
