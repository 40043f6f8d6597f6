"""The sweep's summary as typed records: what ``summary.json`` holds, and back.

`SweepSummary.to_dict` gives exactly the content of ``summary.json`` (same keys, same order, so
the file's bytes do not depend on how it was built); `SweepSummary.from_dict` reads it back.

Examples
--------
>>> estimate = Estimate.from_dict({"mean": 0.8, "ci95": [0.75, 0.85]})
>>> estimate.low, estimate.to_dict()
(0.75, {'mean': 0.8, 'ci95': [0.75, 0.85]})
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The metric the staffing target is judged on (see `dispatch.sim.results.replication_metrics`).
TARGET_METRIC = "specialist_within_target_share"


@dataclass(frozen=True)
class Estimate:
    """A figure's mean across replications and its 95% Student-t interval.

    Attributes
    ----------
    mean, low, high
        None where there is no figure (no value, or one replication for the bounds).
    """

    mean: float | None
    low: float | None
    high: float | None

    def to_dict(self) -> dict[str, Any]:
        """``{"mean": ..., "ci95": [low, high]}``."""
        return {"mean": self.mean, "ci95": [self.low, self.high]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Estimate:
        """Read `to_dict`'s form."""
        low, high = data["ci95"]
        return cls(mean=data["mean"], low=low, high=high)


@dataclass(frozen=True)
class VariantSummary:
    """One variant's figures.

    Attributes
    ----------
    variant, label
        Its index in the plan and its ``key=value`` label.
    values
        The varied keys' values (keys sorted).
    teams, teams_by_kind
        Teams on the roster, all and per kind.
    team_hours_week
        Team-hours on duty per week.
    metrics
        Per metric, its `Estimate`, in the order the replication figures list them.
    meets_target
        Whether the target metric's lower bound reaches the target share; None with no target.
    """

    variant: int
    label: str
    values: dict[str, Any]
    teams: int
    teams_by_kind: dict[str, int]
    team_hours_week: float
    metrics: dict[str, Estimate]
    meets_target: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """The variant's entry of ``summary.json``."""
        return {
            "variant": self.variant,
            "label": self.label,
            "values": dict(self.values),
            "teams": self.teams,
            "teams_by_kind": dict(self.teams_by_kind),
            "team_hours_week": self.team_hours_week,
            "metrics": {name: e.to_dict() for name, e in self.metrics.items()},
            "meets_target": self.meets_target,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VariantSummary:
        """Read `to_dict`'s form."""
        return cls(
            variant=data["variant"],
            label=data["label"],
            values=dict(data["values"]),
            teams=data["teams"],
            teams_by_kind=dict(data["teams_by_kind"]),
            team_hours_week=data["team_hours_week"],
            metrics={name: Estimate.from_dict(e) for name, e in data["metrics"].items()},
            meets_target=data["meets_target"],
        )


@dataclass(frozen=True)
class Target:
    """The staffing target and the answer to it.

    Attributes
    ----------
    metric
        The metric judged (`TARGET_METRIC`).
    response_min
        The response target, minutes.
    share
        The share to reach; None when no target is stated.
    judged_on
        The bound judged: ``"ci95_low"``, the pessimistic side.
    answer
        The smallest variant (by team-hours, then teams) that meets the target, or None.
    best
        With a target that no variant meets: the one closest to it.
    next_smaller
        With an answer: the next smaller variant, which does not meet it (None when the answer
        is the smallest).
    """

    metric: str
    response_min: float
    share: float | None
    judged_on: str = "ci95_low"
    answer: int | None = None
    best: int | None = None
    next_smaller: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``target`` entry of ``summary.json``: ``best`` only when nothing meets the target,
        ``next_smaller`` only with an answer, neither without a target."""
        out: dict[str, Any] = {
            "metric": self.metric,
            "response_min": self.response_min,
            "share": self.share,
            "judged_on": self.judged_on,
            "answer": self.answer,
        }
        if self.share is None:
            return out
        if self.answer is None:
            out["best"] = self.best
        else:
            out["next_smaller"] = self.next_smaller
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Target:
        """Read `to_dict`'s form."""
        return cls(
            metric=data["metric"],
            response_min=data["response_min"],
            share=data["share"],
            judged_on=data["judged_on"],
            answer=data["answer"],
            best=data.get("best"),
            next_smaller=data.get("next_smaller"),
        )


@dataclass(frozen=True)
class SweepSummary:
    """Everything ``summary.json`` says about a finished sweep.

    Attributes
    ----------
    scenario, scenario_path, seed
        The scenario's name, its file and its seed.
    replications
        Replications per variant.
    target_response_min
        The response target of the ``within target`` figures, minutes.
    varied
        The varied keys, in column order.
    target
        The target and its answer.
    variants
        Per variant, in plan order.
    """

    scenario: str
    scenario_path: str | None
    seed: int
    replications: int
    target_response_min: float
    varied: tuple[str, ...]
    target: Target
    variants: tuple[VariantSummary, ...]

    #: The ``kind`` a sweep's summary records (``simulate`` writes another).
    KIND = "sweep"

    def variant(self, index: int) -> VariantSummary:
        """The variant with this plan index."""
        for v in self.variants:
            if v.variant == index:
                return v
        raise KeyError(index)

    def to_dict(self) -> dict[str, Any]:
        """The content of ``summary.json``."""
        return {
            "kind": self.KIND,
            "scenario": self.scenario,
            "scenario_path": self.scenario_path,
            "seed": self.seed,
            "replications": self.replications,
            "target_response_min": self.target_response_min,
            "varied": list(self.varied),
            "target": self.target.to_dict(),
            "variants": [v.to_dict() for v in self.variants],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SweepSummary:
        """Read ``summary.json``'s content.

        Raises
        ------
        ValueError
            The content is not a sweep's summary (another ``kind``).
        KeyError
            An entry is missing.
        """
        if data.get("kind") != cls.KIND:
            raise ValueError(f"not a sweep summary (kind {data.get('kind')!r})")
        return cls(
            scenario=data["scenario"],
            scenario_path=data["scenario_path"],
            seed=data["seed"],
            replications=data["replications"],
            target_response_min=data["target_response_min"],
            varied=tuple(data["varied"]),
            target=Target.from_dict(data["target"]),
            variants=tuple(VariantSummary.from_dict(v) for v in data["variants"]),
        )
