"""Dispatch rules as data: which team kinds may answer which risk, in what order.

A `RuleSet` lists, for each risk level, *tiers* in preference order. A tier names team kinds, a
CIT requirement (``required``, ``preferred`` or ``any``) and whether it counts as a specialist
response. A team belongs to the first tier it fits; within a tier the fastest wins, with a time
penalty for teams that lack a *preferred* CIT certification. A lower tier is used only when no
team of a higher tier can go.

The defaults (`default_rules`) follow DESIGN.md: high risk needs an officer (co-responder with a
CIT officer, else a CIT officer, else patrol); standard risk prefers a co-responder team; low risk
may take a clinician-only team. Rule sets load from TOML (`load_rules`) so a program can state its
own without code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dispatch.errors import InputError
from dispatch.model import RISK_LEVELS, TEAM_KINDS, RiskLevel, TeamKind, parse_risk, parse_team_kind

#: Score gap between tiers, seconds. Larger than any ETA plus penalty, so the tier decides first.
TIER_GAP_S = 1.0e6

KIND_CODES: dict[TeamKind, int] = {kind: i for i, kind in enumerate(TeamKind)}
RISK_CODES: dict[RiskLevel, int] = {risk: i for i, risk in enumerate(RiskLevel)}


class CitRule(StrEnum):
    """How a tier treats CIT certification."""

    REQUIRED = "required"
    PREFERRED = "preferred"
    ANY = "any"


@dataclass(frozen=True, slots=True)
class Tier:
    """One step of a risk level's preference order.

    Parameters
    ----------
    kinds
        Team kinds in this tier; among them the fastest wins.
    cit
        ``required``: only CIT-certified teams fit; ``preferred``: uncertified teams fit with
        `RuleSet.non_cit_penalty_s` added to their ETA; ``any``: certification does not matter.
    specialist
        True when sending this tier counts as a specialist (co-responder program) response;
        False for fallbacks such as patrol.
    name
        Label used in explanations.
    """

    kinds: tuple[TeamKind, ...]
    cit: CitRule = CitRule.ANY
    specialist: bool = True
    name: str = ""

    def label(self) -> str:
        """``name`` or a label made from the kinds and CIT rule."""
        if self.name:
            return self.name
        kinds = "/".join(k.value for k in self.kinds)
        return kinds if self.cit is CitRule.ANY else f"{kinds} (CIT {self.cit.value})"


@dataclass(frozen=True)
class RuleSet:
    """Eligibility and preference rules, one tier list per risk level.

    Parameters
    ----------
    tiers
        For each risk level, tiers in preference order. A team fitting no tier is ineligible.
    max_travel_s
        A team farther than this (seconds) is ``too_far`` and is not sent.
    non_cit_penalty_s
        Seconds added to an uncertified team's ETA in a tier where CIT is ``preferred``.
    escalate_flags
        Call flags (e.g. ``weapon``) that make any call high risk.
    priority_weights
        Weight of each priority (1..4) in joint assignment: a priority-1 call's minute counts
        this many times a priority-4 call's.
    name
        Label for reports.
    """

    tiers: Mapping[RiskLevel, tuple[Tier, ...]]
    max_travel_s: float = 3600.0
    non_cit_penalty_s: float = 120.0
    escalate_flags: frozenset[str] = frozenset({"weapon", "violence"})
    priority_weights: Mapping[int, float] = field(
        default_factory=lambda: {1: 8.0, 2: 4.0, 3: 2.0, 4: 1.0}
    )
    name: str = "default"

    def __post_init__(self) -> None:
        for risk in RiskLevel:
            if risk not in self.tiers:
                raise InputError(f"rule set {self.name!r} has no tiers for risk {risk.value!r}")
        if not 0 < self.max_travel_s + self.non_cit_penalty_s < TIER_GAP_S:
            raise InputError(
                f"max_travel_s + non_cit_penalty_s must be in (0, {TIER_GAP_S:.0f}) seconds"
            )
        if not self.max_travel_s > 0:
            raise InputError(f"max_travel_s must be > 0 seconds, got {self.max_travel_s!r}")
        if self.non_cit_penalty_s < 0:
            raise InputError("non_cit_penalty_s must be >= 0")
        if (
            sorted(self.priority_weights) != [1, 2, 3, 4]
            or min(self.priority_weights.values()) <= 0
        ):
            raise InputError("priority_weights needs a positive weight for each priority 1..4")
        tables = {risk: self._tables(risk) for risk in RiskLevel}
        object.__setattr__(self, "_table_cache", tables)

    def _tables(self, risk: RiskLevel) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.float64]]:
        tier_of = np.full((len(TeamKind), 2), -1, dtype=np.int16)
        penalty = np.zeros((len(TeamKind), 2), dtype=float)
        for t, tier in enumerate(self.tiers[risk]):
            for kind in tier.kinds:
                for cit in (0, 1):
                    k = KIND_CODES[kind]
                    if tier_of[k, cit] >= 0:
                        continue  # a team belongs to the first tier it fits
                    if tier.cit is CitRule.REQUIRED and not cit:
                        continue
                    tier_of[k, cit] = t
                    if tier.cit is CitRule.PREFERRED and not cit:
                        penalty[k, cit] = self.non_cit_penalty_s
        return tier_of, penalty

    def tables(self, risk: RiskLevel) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.float64]]:
        """Lookup tables indexed ``[kind_code, cit]``: tier index (-1 ineligible), penalty s."""
        cached: dict[RiskLevel, tuple[npt.NDArray[np.int16], npt.NDArray[np.float64]]]
        cached = self._table_cache  # type: ignore[attr-defined]
        return cached[risk]

    def effective_risk(self, risk: RiskLevel, flags: frozenset[str]) -> RiskLevel:
        """The risk the rules act on: ``high`` when a call carries an escalating flag."""
        return RiskLevel.HIGH if flags & self.escalate_flags else risk

    def specialist_tiers(self, risk: RiskLevel) -> npt.NDArray[np.bool_]:
        """For each tier of ``risk``, whether it is a specialist response."""
        return np.array([t.specialist for t in self.tiers[risk]], dtype=bool)


def default_rules() -> RuleSet:
    """The rules of DESIGN.md.

    - high risk: co-responder with a CIT officer; else a CIT officer (fallback); else patrol.
    - standard: co-responder (CIT preferred); else a CIT officer; else patrol.
    - low: clinician-only or co-responder team, whichever is faster; else a CIT officer; else
      patrol.
    """
    co, clin, cit, patrol = (
        TeamKind.CO_RESPONDER,
        TeamKind.CLINICIAN,
        TeamKind.CIT_OFFICER,
        TeamKind.PATROL,
    )
    fallback = (
        Tier((cit,), CitRule.REQUIRED, specialist=False, name="CIT patrol officer"),
        Tier((patrol,), CitRule.ANY, specialist=False, name="patrol"),
    )
    return RuleSet(
        tiers={
            RiskLevel.HIGH: (
                Tier((co,), CitRule.REQUIRED, name="co-responder with CIT officer"),
                *fallback,
            ),
            RiskLevel.STANDARD: (Tier((co,), CitRule.PREFERRED, name="co-responder"), *fallback),
            RiskLevel.LOW: (
                Tier((clin, co), CitRule.ANY, name="clinician or co-responder"),
                *fallback,
            ),
        }
    )


_RULE_KEYS = {
    "name",
    "max_travel_s",
    "non_cit_penalty_s",
    "escalate_flags",
    "priority_weights",
    "risk",
}
_TIER_KEYS = {"kinds", "cit", "specialist", "name"}


def rules_from_dict(data: Mapping[str, Any], *, source: str = "rules") -> RuleSet:
    """Build a `RuleSet` from plain data (the TOML layout of `load_rules`)."""
    unknown = set(data) - _RULE_KEYS
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(sorted(unknown))}", source=source)
    risk_table = data.get("risk")
    if not isinstance(risk_table, Mapping):
        raise InputError(
            "needs a [risk] table with tiers for low, standard and high", source=source
        )
    tiers: dict[RiskLevel, tuple[Tier, ...]] = {}
    for risk_name, entries in risk_table.items():
        risk = parse_risk(str(risk_name), source=source)
        if not isinstance(entries, Sequence) or not entries:
            raise InputError(f"risk.{risk_name} must be a non-empty list of tiers", source=source)
        tiers[risk] = tuple(
            _tier_from_dict(entry, source=f"{source}: risk.{risk_name}[{i}]")
            for i, entry in enumerate(entries)
        )
    missing = [r for r in RISK_LEVELS if RiskLevel(r) not in tiers]
    if missing:
        raise InputError(f"no tiers for risk {', '.join(missing)}", source=source)
    kwargs: dict[str, Any] = {"tiers": tiers}
    if "name" in data:
        kwargs["name"] = str(data["name"])
    for key in ("max_travel_s", "non_cit_penalty_s"):
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(f"{key} must be a number of seconds, got {value!r}", source=source)
            kwargs[key] = float(value)
    if "escalate_flags" in data:
        flags = data["escalate_flags"]
        if isinstance(flags, str) or not isinstance(flags, Sequence):
            raise InputError("escalate_flags must be a list of flag names", source=source)
        kwargs["escalate_flags"] = frozenset(str(f) for f in flags)
    if "priority_weights" in data:
        try:
            kwargs["priority_weights"] = {
                int(k): float(v) for k, v in dict(data["priority_weights"]).items()
            }
        except (TypeError, ValueError):
            raise InputError("priority_weights must map 1..4 to numbers", source=source) from None
    try:
        return RuleSet(**kwargs)
    except InputError as error:
        raise InputError(str(error), source=source) from None


def _tier_from_dict(entry: Any, *, source: str) -> Tier:
    if not isinstance(entry, Mapping):
        raise InputError("a tier must be a table", source=source)
    unknown = set(entry) - _TIER_KEYS
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(sorted(unknown))}", source=source)
    kinds = entry.get("kinds")
    if isinstance(kinds, str) or not isinstance(kinds, Sequence) or not kinds:
        raise InputError(
            f"'kinds' must be a non-empty list of {', '.join(TEAM_KINDS)}", source=source
        )
    try:
        cit = CitRule(entry.get("cit", "any"))
    except ValueError:
        raise InputError(
            f"'cit' must be one of {', '.join(c.value for c in CitRule)}", source=source
        ) from None
    specialist = entry.get("specialist", True)
    if not isinstance(specialist, bool):
        raise InputError(f"'specialist' must be true or false, got {specialist!r}", source=source)
    return Tier(
        kinds=tuple(parse_team_kind(str(k), source=source) for k in kinds),
        cit=cit,
        specialist=specialist,
        name=str(entry.get("name", "")),
    )


def load_rules(path: str | Path) -> RuleSet:
    """Load a rule set from a TOML file.

    Examples
    --------
    A file that sends only CIT-certified co-responders to standard calls::

        name = "strict"
        max_travel_s = 1800
        [[risk.high]]
        kinds = ["co_responder"]
        cit = "required"
        [[risk.standard]]
        kinds = ["co_responder"]
        cit = "required"
        [[risk.low]]
        kinds = ["clinician", "co_responder"]
        [[risk.low]]
        kinds = ["patrol"]
        specialist = false
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", source=str(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"not valid TOML ({error})", source=str(path)) from None
    return rules_from_dict(data, source=str(path))
