"""Wellness rules: recovery after critical incidents, streak limits, workload caps, fair shares.

Like the eligibility rules these are data. Each rule *holds* a team back from the next call;
the matcher then sends another team if one can go, and otherwise lets a call of high enough
priority override the hold, recording which rule was overridden. The fairness tie-break never
holds anyone back: among teams whose ETA and score are within ``fairness_margin_s`` of the best,
it prefers the one that has carried the least load.

Defaults and their rationale (``shared/reference/domain-figures.md`` section 5): no published
standard gives minutes for a "cool-down" after a critical call or a maximum run of crisis calls,
so both are configurable policy parameters with documented defaults of our own:

- ``recovery_min = 45``: within the 30-60 min post-critical-incident window suggested there,
  after the IACP guidance that officers be allowed to step away after a critical incident;
- ``max_consecutive = 3`` crisis calls before a break of at least ``break_min = 30`` minutes;
- ``utilization_cap = 0.6`` over a rolling ``utilization_window_h = 8`` hours: the ICMA/CPSM
  "Rule of 60" (patrol time committed to calls should not exceed about 60%), used as a cap;
- ``fairness_margin_s = 60``: a minute of extra travel at most, to spread the load.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from dispatch.errors import InputError
from dispatch.match.holds import HOLD_RULE_TYPES, FairnessTieBreak, HoldRule, hold_codes

if TYPE_CHECKING:
    from dispatch.match.fleet import Fleet

#: Parameters whose rule is off when they are None (``false`` in a scenario file).
SWITCHABLE = ("recovery_min", "max_consecutive", "utilization_cap", "fairness_margin_s")


@dataclass(frozen=True, slots=True)
class WellnessRules:
    """Wellness rules; set a rule's parameter to None to turn that rule off.

    Parameters
    ----------
    recovery_min
        Minutes after clearing a critical incident during which a team is held back.
    critical_call_types
        Call types that count as critical incidents.
    critical_risks
        Risk levels that count as critical (``high`` by default).
    critical_flags
        Call flags that count as critical (e.g. ``use_of_force``, ``weapon``).
    max_consecutive
        Crisis calls in a row, without a break of ``break_min``, after which a team is held back.
    break_min
        Idle minutes that count as a break and reset the streak.
    utilization_cap
        Held back when the share of the last ``utilization_window_h`` hours spent on calls is at
        or above this.
    utilization_window_h
        Length of the rolling window, hours.
    fairness_margin_s
        Prefer the less-loaded team when its ETA (and score) is within this many seconds of the
        best; None turns the tie-break off.
    override_priority
        Calls of this priority or higher (a smaller number) may override a hold when no team
        that is not held can go.
    """

    recovery_min: float | None = 45.0
    critical_call_types: frozenset[str] = frozenset({"suicidal", "suicide_attempt", "violent"})
    critical_risks: frozenset[str] = frozenset({"high"})
    critical_flags: frozenset[str] = frozenset({"use_of_force", "weapon", "violence"})
    max_consecutive: int | None = 3
    break_min: float = 30.0
    utilization_cap: float | None = 0.6
    utilization_window_h: float = 8.0
    fairness_margin_s: float | None = 60.0
    override_priority: int = 1
    #: The hold rules that are on, as objects, in `HOLD_RULE_TYPES` order.
    hold_rules: tuple[HoldRule, ...] = field(init=False, repr=False, compare=False)
    #: The fairness tie-break when on.
    tie_break: FairnessTieBreak | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.recovery_min is not None and self.recovery_min < 0:
            raise InputError("wellness.recovery_min must be >= 0")
        if self.max_consecutive is not None and self.max_consecutive < 1:
            raise InputError("wellness.max_consecutive must be >= 1")
        if self.break_min < 0:
            raise InputError("wellness.break_min must be >= 0")
        if self.utilization_cap is not None and not 0 < self.utilization_cap <= 1:
            raise InputError("wellness.utilization_cap must be in (0, 1]")
        if not self.utilization_window_h > 0:
            raise InputError("wellness.utilization_window_h must be > 0")
        if self.fairness_margin_s is not None and self.fairness_margin_s < 0:
            raise InputError("wellness.fairness_margin_s must be >= 0")
        if self.override_priority not in (0, 1, 2, 3, 4):
            raise InputError("wellness.override_priority must be 0 (never) to 4")
        for name in ("critical_call_types", "critical_risks", "critical_flags"):
            value = getattr(self, name)
            if not isinstance(value, frozenset):
                object.__setattr__(self, name, frozenset(value))
        made = (kind.from_config(self) for kind in HOLD_RULE_TYPES)
        object.__setattr__(self, "hold_rules", tuple(rule for rule in made if rule is not None))
        object.__setattr__(self, "tie_break", FairnessTieBreak.from_config(self))

    @property
    def any_rule(self) -> bool:
        """True when at least one rule (or the fairness tie-break) is on."""
        return any(getattr(self, name) is not None for name in SWITCHABLE)

    @classmethod
    def off(cls) -> WellnessRules:
        """Every rule off (the matcher behaves as without wellness rules)."""
        return cls(
            recovery_min=None, max_consecutive=None, utilization_cap=None, fairness_margin_s=None
        )

    def is_critical(self, call_type: str, risk: str, flags: frozenset[str] = frozenset()) -> bool:
        """True when a call of this type, risk and flags counts as a critical incident."""
        return (
            call_type in self.critical_call_types
            or risk in self.critical_risks
            or bool(flags & self.critical_flags)
        )

    def holds(self, now_s: float, fleet: Fleet) -> npt.NDArray[np.int8]:
        """Per team: 0 when free to go, else 1 + the index in `hold_rules` of the first rule
        holding it back (`HOLD_RULE_TYPES` order decides which is named when several hold)."""
        return hold_codes(self.hold_rules, now_s, fleet)

    def rule_name(self, code: int) -> str:
        """The name of the hold rule a `holds` code stands for."""
        return self.hold_rules[code - 1].name


def wellness_from_dict(data: Mapping[str, Any], *, source: str = "wellness") -> WellnessRules:
    """Build `WellnessRules` from a table.

    ``enabled = false`` turns every rule off; ``recovery_min = false`` (likewise
    ``max_consecutive``, ``utilization_cap``, ``fairness_margin_s``) turns one rule off.
    """
    known = {f.name for f in fields(WellnessRules) if f.init} | {"enabled"}
    unknown = set(data) - known
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(sorted(unknown))}", source=source)
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise InputError(f"'enabled' must be true or false, got {enabled!r}", source=source)
    if not enabled:
        return WellnessRules.off()
    kwargs = {k: v for k, v in data.items() if k != "enabled"}
    for key in SWITCHABLE:
        # TOML has no null: `recovery_min = false` turns that one rule off.
        if kwargs.get(key) is False:
            kwargs[key] = None
        elif isinstance(kwargs.get(key), bool):
            raise InputError(
                f"'{key}' takes a number, or false to turn the rule off", source=source
            )
    for key in ("critical_call_types", "critical_risks", "critical_flags"):
        if key in kwargs:
            kwargs[key] = frozenset(str(x) for x in kwargs[key])
    try:
        return WellnessRules(**kwargs)
    except TypeError as error:
        raise InputError(str(error), source=source) from None
    except InputError as error:
        raise InputError(str(error), source=source) from None
