"""Staffing plans verified by simulation: schedule, replay, raise the failing hours, repeat.

The loop (`plan_staffing`):

1. Demand by hour of week from the scenario's calls (the call log, or the synthetic generator's
   draws for each replication) and the busy time per call give the first requirement
   (`dispatch.plan.requirements.required_teams`, modified offered load), teams per hour.
2. `dispatch.plan.schedule.schedule_shifts` finds the cheapest shifts covering it.
3. The shifts are written as a scenario (the scenario's teams of the planned kind replaced by
   the planned teams) and replayed with the scenario's seed, so every iteration and the uniform
   baseline see the same random streams (common random numbers).
4. The target is the one a sweep judges: the share of calls a specialist team reaches within
   ``target_min`` (``specialist_within_target_share``), on the lower end of its 95% interval
   across replications. It is judged **overall**. When it fails, the hours whose own share
   fails on the pessimistic side (lower bound below the target) *and* where a team more can
   help (some call of that hour waited for a team or found none on duty or free) get one more
   team, and the schedule is solved again. Hours that fail only because their calls are far
   from every station are not raised: more teams at the same station do not bring them nearer.
5. Once a plan meets the target, cheaper ones are tried (``trim``): the hours whose own share
   has the most room above the target lose a team, half of them at first and half as many
   after a try that fails or saves nothing, until no hour is left to lower or ``iterations``
   plans have been replayed.
6. The loop keeps the plans that passed on the planning seed, which favours lucky draws; each
   is replayed again with a new seed (``check_seed``), cheapest first, and the first that
   passes again is the answer.

The best uniform round-the-clock plan (the same teams in every hour: three 8-hour shifts at
07:00, 15:00 and 23:00 with ``n`` teams each) is found by the same replay, ``n = 1, 2, ...``
until it meets the target, for the cost comparison.

Roster written: a planned shift type (clock start and length) with ``n_d`` teams on day ``d``
becomes teams ``1 .. max(n_d)``, team ``k`` working the days with ``n_d >= k``, always at the
same clock start, so a team's shifts are at least ``24 - length`` hours apart. Meal breaks go to
the scenario as ``[policy.meal_break]`` with the plan's length and window; the replay places each
team's break when it is free inside the window.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import tomli_w

from dispatch.errors import InputError
from dispatch.plan.schedule import (
    DAY_NAMES,
    HOURS_PER_WEEK,
    Schedule,
    ShiftRules,
    schedule_shifts,
)

if TYPE_CHECKING:
    import pandas as pd

    from dispatch.executors import Executor
    from dispatch.scenario import Scenario
    from dispatch.sim.prepare import Prepared

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Clock starts of the uniform round-the-clock baseline (three 8-hour watches, as the St. Louis
#: staffing sweep uses).
UNIFORM_STARTS = (7, 15, 23)

#: Reasons a call found no specialist that more teams on duty can change.
CAPACITY_REASONS = ("all_busy", "off_shift")


# -- evaluation ----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Evaluation:
    """A plan replayed: the target figure overall and by hour of week.

    Attributes
    ----------
    share, low, high
        Share of calls a specialist reached within the target: mean over replications and its
        95% Student-t interval (the figure a sweep judges).
    hourly, hourly_low, hourly_high
        The same per hour of week of the call's receipt (168 values; NaN where no calls).
    raisable
        Per hour, whether some call of that hour missed the target while waiting for a team or
        finding none on duty or free.
    calls
        Calls per hour of week, summed over replications.
    replications
        Replications replayed.
    """

    share: float
    low: float
    high: float
    hourly: FloatArray
    hourly_low: FloatArray
    hourly_high: FloatArray
    raisable: npt.NDArray[np.bool_]
    calls: IntArray
    replications: int

    def meets(self, target_share: float) -> bool:
        """True when the lower bound reaches ``target_share`` (one replication: the mean)."""
        bound = self.share if math.isnan(self.low) else self.low
        return bool(bound >= target_share)


def evaluate(calls: pd.DataFrame, target_min: float) -> Evaluation:
    """The target figure of a replay's calls, overall and by hour of week.

    Parameters
    ----------
    calls
        A `dispatch.simulate` calls table (``received_at`` in local time, ``replication``,
        ``outcome``, ``response_s``, ``queue_s``, ``reason``).
    target_min
        Response target, minutes.

    Returns
    -------
    Evaluation

    Examples
    --------
    >>> import pandas as pd
    >>> calls = pd.DataFrame({
    ...     "replication": [0, 0, 1, 1],
    ...     "received_at": pd.to_datetime(["2025-01-06 09:10"] * 4),
    ...     "outcome": ["specialist", "fallback", "specialist", "specialist"],
    ...     "response_s": [600.0, 900.0, 700.0, 2000.0],
    ...     "queue_s": [0.0, 600.0, 0.0, 0.0],
    ...     "reason": ["", "all_busy", "", ""],
    ... })
    >>> result = evaluate(calls, 20.0)
    >>> result.share, float(result.hourly[9]), bool(result.raisable[9])
    (0.5, 0.5, True)
    """
    from dispatch.sim.results import confidence_interval

    sim = calls[calls["outcome"] != "thinned"]
    received = sim["received_at"]
    how = (received.dt.day_of_week * 24 + received.dt.hour).to_numpy(dtype=np.int64)
    rep = sim["replication"].to_numpy(dtype=np.int64)
    reps = np.unique(rep)
    index = np.searchsorted(reps, rep)
    response = sim["response_s"].to_numpy(dtype=float)
    good = (sim["outcome"] == "specialist").to_numpy() & (response <= target_min * 60.0)
    n = np.zeros((len(reps), HOURS_PER_WEEK))
    k = np.zeros((len(reps), HOURS_PER_WEEK))
    np.add.at(n, (index, how), 1.0)
    np.add.at(k, (index, how), good.astype(float))
    overall = [float(k[r].sum() / n[r].sum()) if n[r].sum() else math.nan for r in range(len(reps))]
    share, low, high = confidence_interval(overall)
    hourly = np.full(HOURS_PER_WEEK, np.nan)
    hourly_low = np.full(HOURS_PER_WEEK, np.nan)
    hourly_high = np.full(HOURS_PER_WEEK, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        per = np.where(n > 0, k / np.maximum(n, 1.0), np.nan)
    for h in range(HOURS_PER_WEEK):
        if n[:, h].sum() > 0:
            m, lo, hi = confidence_interval(per[:, h].tolist())
            hourly[h] = m
            hourly_low[h] = max(lo, 0.0) if not math.isnan(lo) else m
            hourly_high[h] = min(hi, 1.0) if not math.isnan(hi) else m
    queued = sim["queue_s"].fillna(0.0).to_numpy(dtype=float) > 0
    short = sim["reason"].isin(CAPACITY_REASONS).to_numpy()
    missed = ~good & (queued | short)
    raisable = np.bincount(how[missed], minlength=HOURS_PER_WEEK) > 0
    return Evaluation(
        share=share,
        low=max(low, 0.0) if not math.isnan(low) else low,
        high=min(high, 1.0) if not math.isnan(high) else high,
        hourly=hourly,
        hourly_low=hourly_low,
        hourly_high=hourly_high,
        raisable=raisable,
        calls=n.sum(axis=0).astype(np.int64),
        replications=len(reps),
    )


# -- demand --------------------------------------------------------------------------------
def scenario_demand(scenario: Scenario, replications: int | None = None) -> FloatArray:
    """Calls per hour for each hour of the week in a scenario, local time.

    The calls each replication replays (the log, scaled by the scenario's volume, or the
    synthetic generator's draws), averaged over ``replications`` (the scenario's own when None).

    Returns
    -------
    numpy.ndarray
        168 floats, calls per hour, Monday 00:00 first.
    """
    import pandas as pd

    from dispatch.plan.requirements import demand_by_hour_of_week
    from dispatch.sim.prepare import prepare, replication_calls, streams

    prep = prepare(scenario)
    total = np.zeros(HOURS_PER_WEEK)
    count = replications or scenario.replications
    for r in range(count):
        table = replication_calls(prep, streams(scenario.seed, r)["calls"])
        local = prep.epoch + pd.to_timedelta(np.asarray(table.received_s, dtype=float), unit="s")
        weeks = _period_weeks(prep)
        total += demand_by_hour_of_week(pd.Series(local), weeks=weeks)
    return np.asarray(total / count, dtype=float)


def _period_weeks(prep: Prepared) -> float:
    """Weeks in the replayed period (the generator's days, or the log's first to last day)."""
    from dispatch.scenario import SyntheticCalls
    from dispatch.sim.prepare import HORIZON_PAD_S

    calls = prep.scenario.calls
    if isinstance(calls, SyntheticCalls):
        return float(calls.days) / 7.0
    days = math.ceil((prep.horizon_s - HORIZON_PAD_S) / 86400.0 + 1e-9)
    return max(days, 1) / 7.0


# -- writing a plan as a scenario ----------------------------------------------------------
PATH_KEYS = (("network", "path"), ("network", "nodes"), ("calls", "path"))


def plan_scenario_table(
    base: dict[str, Any],
    shifts: Sequence[tuple[int, int, int]],
    *,
    name: str,
    target_min: float,
    rules: ShiftRules,
    kind: str | None = None,
    prefix: str = "P",
) -> dict[str, Any]:
    """A scenario table: ``base`` with its teams of one kind replaced by a planned roster.

    Parameters
    ----------
    base
        The scenario's table as `dispatch.scenario_file.read_raw` gives it (``extends`` merged,
        paths absolute).
    shifts
        ``(start hour of week, length h, count)`` rows; rows with the same start and length
        may repeat (their counts add up).
    name
        The new scenario's name.
    target_min
        Written as ``policy.target_response_min`` so the replay's summary judges it.
    rules
        The rules planned under; a break (``break_min > 0``) becomes ``[policy.meal_break]``.
    kind
        The team kind planned; default the first team group's kind that is not patrol. The
        first group of that kind gives the planned teams' station and CIT certification.
    prefix
        Start of the planned groups' ids.

    Returns
    -------
    dict
        A table `dispatch.scenario_file.parse` accepts; the ``[sweep]`` table is dropped.
    """
    import copy

    table = copy.deepcopy(base)
    table.pop("sweep", None)
    table["name"] = name
    groups: list[dict[str, Any]] = list(table.get("teams", []))
    if kind is None:
        kinds = [g.get("kind") for g in groups]
        kind = next((k for k in kinds if k != "patrol"), kinds[0] if kinds else None)
    template = next((g for g in groups if g.get("kind") == kind), None)
    if template is None:
        raise InputError(f"the scenario has no team of kind {kind!r} to plan")
    kept = [g for g in groups if g.get("kind") != kind]
    used_shifts: set[str] = set()
    for g in kept:
        names = g.get("shift")
        used_shifts.update([names] if isinstance(names, str) else (names or []))
    new_shifts = {k: v for k, v in table.get("shifts", {}).items() if k in used_shifts}

    per_day: dict[tuple[int, int], list[int]] = {}
    for start, length, count in shifts:
        if count <= 0:
            continue
        key = (int(start) % 24, int(length))
        days = per_day.setdefault(key, [0] * 7)
        days[(int(start) // 24) % 7] += int(count)
    planned: list[dict[str, Any]] = []
    for (clock, length), days in sorted(per_day.items()):
        # Team k works the days with at least k teams: one clock start per team.
        layers: dict[tuple[int, ...], int] = {}
        for k in range(1, max(days) + 1):
            worked = tuple(d for d in range(7) if days[d] >= k)
            layers[worked] = layers.get(worked, 0) + 1
        for i, (worked, count) in enumerate(sorted(layers.items(), key=lambda x: -len(x[0]))):
            shift_name = f"{prefix.lower()}{clock:02d}_{length}h_{chr(ord('a') + i)}"
            new_shifts[shift_name] = {
                "start": f"{clock:02d}:00",
                "hours": length,
                "days": "all" if len(worked) == 7 else [DAY_NAMES[d] for d in worked],
            }
            group: dict[str, Any] = {
                key: template[key] for key in ("kind", "station", "cit") if key in template
            }
            group.update(
                {
                    "id": f"{prefix}{clock:02d}-{length}h-{chr(ord('a') + i)}",
                    "count": count,
                    "shift": shift_name,
                }
            )
            if "district" in template:
                group["district"] = template["district"]
            planned.append(group)
    if not planned and not kept:
        raise InputError("the plan has no teams and the scenario no others to keep")
    table["shifts"] = new_shifts
    table["teams"] = kept + planned
    policy = dict(table.get("policy", {}))
    policy["target_response_min"] = float(target_min)
    if rules.break_min > 0:
        first, last = rules.break_window_h
        policy["meal_break"] = {
            "enabled": True,
            "length_min": float(rules.break_min),
            "window_start_h": float(first),
            "window_end_h": float(last),
        }
    table["policy"] = policy
    return table


def uniform_shifts(n: int) -> list[tuple[int, int, int]]:
    """``n`` teams in every hour: three 8-hour watches (`UNIFORM_STARTS`) every day."""
    return [(24 * d + c, 8, n) for d in range(7) for c in UNIFORM_STARTS]


def relative_paths(table: dict[str, Any], directory: Path) -> dict[str, Any]:
    """``table`` with its file paths made relative to ``directory`` (where it will be written)."""
    import copy

    out = copy.deepcopy(table)

    def rel(value: str) -> str:
        try:
            return os.path.relpath(value, directory)
        except ValueError:  # another drive: keep it absolute
            return value

    for section, key in PATH_KEYS:
        sub = out.get(section)
        if isinstance(sub, dict) and isinstance(sub.get(key), str):
            sub[key] = rel(sub[key])
    calls = out.get("calls")
    if isinstance(calls, dict) and isinstance(calls.get("synthetic"), dict):
        synth = calls["synthetic"]
        if isinstance(synth.get("profile"), str):
            synth["profile"] = rel(synth["profile"])
    policy = out.get("policy")
    if isinstance(policy, dict):
        districts = policy.get("districts")
        if isinstance(districts, dict) and isinstance(districts.get("path"), str):
            districts["path"] = rel(districts["path"])
        rules = policy.get("rules")
        if isinstance(rules, str) and rules != "default":
            policy["rules"] = rel(rules)
    return out


def write_scenario(table: dict[str, Any], path: str | Path, *, header: str = "") -> Path:
    """Write a scenario table as TOML, paths relative to the file; it reads back equal.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> table = {"name": "x", "shifts": {"day": {"start": "09:00", "hours": 8}},
    ...          "teams": [{"id": "T", "count": 2}]}
    >>> path = write_scenario(table, folder / "x.toml")
    >>> tomllib.loads(path.read_text()) == table
    True
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = relative_paths(table, path.parent.resolve())
    text = tomli_w.dumps(data)
    if tomllib.loads(text) != data:  # a value the writer cannot express exactly
        raise InputError("the plan's scenario does not round-trip through TOML", source=str(path))
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    path.write_text(comment + ("\n" if comment else "") + text, encoding="utf-8")
    return path


# -- the loop ------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Iteration:
    """One plan of the loop and its replay.

    Attributes
    ----------
    iteration
        0 for the first estimate.
    required
        The requirement solved for (168 teams per hour).
    schedule
        The solved schedule.
    evaluation
        Its replay.
    raised
        Hours of week raised by one for the next iteration.
    lowered
        Hours of week lowered by one for the next iteration (a plan that met the target, tried
        cheaper).
    scenario_path
        The scenario file replayed.
    """

    iteration: int
    required: IntArray
    schedule: Schedule
    evaluation: Evaluation
    raised: tuple[int, ...]
    scenario_path: Path
    lowered: tuple[int, ...] = ()


@dataclass(frozen=True, eq=False)
class UniformPlan:
    """The best uniform round-the-clock plan found by replay.

    Attributes
    ----------
    teams_per_hour
        Teams on duty in every hour (``None`` when no level up to the search's limit met it).
    team_hours
        Team-hours per week (``168 x teams_per_hour``).
    evaluation
        The replay of that level (or of the largest one tried).
    tried
        ``(teams per hour, share, low, high)`` for every level replayed.
    scenario_path
        The scenario file of that level.
    """

    teams_per_hour: int | None
    team_hours: float | None
    evaluation: Evaluation
    tried: tuple[tuple[int, float, float, float], ...]
    scenario_path: Path


@dataclass(frozen=True, eq=False)
class StaffingPlan:
    """What `plan_staffing` found.

    Attributes
    ----------
    schedule
        The final shifts: the cheapest plan that met the target, else the last one tried.
    met
        Whether the final plan meets the target on the pessimistic side, on the planning seed
        and again on the check's new seed.
    iterations
        Every plan tried, in order.
    chosen
        Index in ``iterations`` of the final plan.
    demand
        Calls per hour for each hour of the week.
    service_s
        Mean busy time per call used for the first estimate, seconds.
    target_share, target_min
        The target.
    scenario_path
        The final plan as a scenario file.
    uniform
        The best uniform round-the-clock plan, when searched.
    check
        The final plan replayed with new seeds (independent of the ones it was planned on);
        plans that passed on the planning seed are checked cheapest first, and the first that
        passes again is the final plan.
    check_seed
        The seed of that replay.
    checks
        Every check replayed, by iteration (the final plan's and the cheaper ones that
        failed it).
    """

    schedule: Schedule
    met: bool
    iterations: tuple[Iteration, ...]
    chosen: int
    demand: FloatArray
    service_s: float
    target_share: float
    target_min: float
    scenario_path: Path
    uniform: UniformPlan | None = None
    check: Evaluation | None = None
    check_seed: int | None = None
    checks: Mapping[int, Evaluation] = field(default_factory=dict)

    @property
    def team_hours(self) -> int:
        """Team-hours per week of the final plan."""
        return self.schedule.team_hours

    def iterations_table(self) -> pd.DataFrame:
        """One row per iteration: team-hours, the share with its interval, hours raised."""
        import pandas as pd

        n = len(self.iterations)
        return pd.DataFrame(
            {
                "iteration": [it.iteration for it in self.iterations],
                "team_hours_week": [it.schedule.team_hours for it in self.iterations],
                "required_team_hours": [int(it.required.sum()) for it in self.iterations],
                "share": [it.evaluation.share for it in self.iterations],
                "ci95_low": [it.evaluation.low for it in self.iterations],
                "ci95_high": [it.evaluation.high for it in self.iterations],
                "meets_target": [it.evaluation.meets(self.target_share) for it in self.iterations],
                "check_share": [_field(self.checks, i, "share") for i in range(n)],
                "check_ci95_low": [_field(self.checks, i, "low") for i in range(n)],
                "check_meets": [
                    it.iteration in self.checks
                    and self.checks[it.iteration].meets(self.target_share)
                    for it in self.iterations
                ],
                "hours_failing": [
                    int(np.nansum(it.evaluation.hourly_low < self.target_share))
                    for it in self.iterations
                ],
                "hours_raised": [len(it.raised) for it in self.iterations],
                "hours_lowered": [len(it.lowered) for it in self.iterations],
                "chosen": [i == self.chosen for i in range(len(self.iterations))],
                "raised": [" ".join(_hour_label(h) for h in it.raised) for it in self.iterations],
                "lowered": [" ".join(_hour_label(h) for h in it.lowered) for it in self.iterations],
                "solver_status": [it.schedule.status for it in self.iterations],
                "solver_gap": [it.schedule.gap for it in self.iterations],
                "solve_s": [it.schedule.solve_s for it in self.iterations],
            }
        )

    def hours_table(self) -> pd.DataFrame:
        """One row per hour of week: demand, first and final requirement, teams, final share."""
        import pandas as pd

        last = self.iterations[self.chosen]
        first = self.iterations[0]
        ev = last.evaluation
        return pd.DataFrame(
            {
                "hour_of_week": np.arange(HOURS_PER_WEEK),
                "day": [DAY_NAMES[h // 24] for h in range(HOURS_PER_WEEK)],
                "hour": np.arange(HOURS_PER_WEEK) % 24,
                "calls_per_hour": self.demand,
                "required_first": first.required,
                "required_final": last.required,
                "teams_counted": self.schedule.coverage,
                "teams_on_duty": self.schedule.on_duty,
                "share": ev.hourly,
                "ci95_low": ev.hourly_low,
                "ci95_high": ev.hourly_high,
            }
        )


def _field(checks: Mapping[int, Evaluation], iteration: int, name: str) -> float:
    """A check's figure for an iteration, NaN when that plan was not checked."""
    found = checks.get(iteration)
    return math.nan if found is None else float(getattr(found, name))


def _hour_label(h: int) -> str:
    return f"{DAY_NAMES[(h // 24) % 7]}{h % 24:02d}"


def _simulate(
    path: Path, replications: int, seed: int | None = None, executor: Executor | None = None
) -> Any:
    import dispatch

    scenario = dispatch.load_scenario(path)
    return dispatch.simulate(scenario, replications=replications, seed=seed, executor=executor)


def plan_staffing(
    scenario_path: str | Path,
    out_dir: str | Path,
    *,
    target_share: float = 0.8,
    target_min: float = 20.0,
    replications: int | None = None,
    iterations: int = 8,
    rules: ShiftRules | None = None,
    time_limit_s: float = 20.0,
    kind: str | None = None,
    trim: bool = True,
    uniform: bool = True,
    uniform_max: int = 40,
    check_seed: int | None = None,
    progress: Callable[[str], None] | None = None,
    executor: Executor | None = None,
) -> StaffingPlan:
    """The cheapest shift plan for a scenario that meets a response target in replay.

    Parameters
    ----------
    scenario_path
        The scenario file (its calls give demand; its first non-patrol team group the kind,
        station and certification of the planned teams).
    out_dir
        Where every replayed scenario goes (``iterations/``, ``uniform/``) and ``plan.toml``,
        the final plan.
    target_share, target_min
        The target: this share of calls reached by a specialist within ``target_min`` minutes,
        on the lower end of the 95% interval.
    replications
        Replications per replay (the scenario's own when None).
    iterations
        Most plans tried (the first estimate included).
    rules
        Labour rules for the schedule.
    time_limit_s
        Solver limit per schedule, CP-SAT deterministic seconds (the same plan on every run;
        roughly one to two wall seconds each on a laptop).
    kind
        Team kind to plan (see `plan_scenario_table`).
    trim
        Once a plan meets the target, try cheaper ones: lower by one team the hours whose own
        share has the most room above the target (half of them at first, half as many after
        a try that fails or saves nothing), while iterations last.
    uniform
        Also search the smallest uniform round-the-clock plan that meets the target.
    uniform_max
        Largest uniform level tried (teams per hour).
    check_seed
        Seed of the independent check of the final plan; the scenario's seed + 1 when None.
    progress
        Called with a line of text as the loop advances.
    executor
        Where each replay's replications run (`dispatch.simulate`); this process when None.
        The plan is the same either way.

    Returns
    -------
    StaffingPlan

    Raises
    ------
    InputError
        Bad target or parameters, or a scenario that cannot be planned.
    SolverError
        The schedule has no solution under the rules.
    """
    import dispatch
    from dispatch.plan.requirements import required_teams, service_time_s
    from dispatch.scenario_file import read_raw

    if not 0 < target_share <= 1:
        raise InputError(f"target share must be in (0, 1], got {target_share!r}")
    if not target_min > 0:
        raise InputError(f"target minutes must be > 0, got {target_min!r}")
    if iterations < 1:
        raise InputError("iterations must be at least 1")
    say = progress or (lambda _line: None)
    rules = rules or ShiftRules()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    source = Path(scenario_path)
    base = read_raw(source)
    scenario = dispatch.load_scenario(source)
    reps = replications or scenario.replications
    name = scenario.name

    demand = scenario_demand(scenario, reps)
    service_s = service_time_s(scenario)
    # The queueing target is the wait for a team: the response target less call handling and
    # turnout and a typical drive, at least one minute.
    handling = scenario.service.processing.mean_s + scenario.service.turnout.mean_s
    wait_s = max(60.0, target_min * 60.0 - handling - _typical_travel_s(scenario))
    patience = scenario.policy.fallback_after_min
    level = min(target_share, 0.999)
    required = required_teams(
        demand,
        service_s,
        wait_s,
        level,
        patience_s=None if patience is None else patience * 60.0,
    )
    # An hour with calls keeps at least one team: nobody on duty reaches nobody.
    required = np.where(demand > 0, np.maximum(required, 1), required).astype(np.int64)
    say(
        f"demand {demand.sum():.1f} calls/week, busy {service_s / 60:.0f} min per call, "
        f"first estimate {int(required.sum())} team-hours/week of requirement"
    )

    floor = (demand > 0).astype(np.int64)
    done: list[Iteration] = []
    best: int | None = None  # the cheapest plan so far that met the target
    trim_size: int | None = None  # hours to lower from it; halved after a trim that failed
    for i in range(iterations):
        schedule = schedule_shifts(
            required, rules, time_limit_s=time_limit_s, seed=scenario.seed, deterministic=True
        )
        table = plan_scenario_table(
            base,
            [(s.start_h, s.hours, s.count) for s in schedule.shifts],
            name=f"{name}: staffing plan, iteration {i}",
            target_min=target_min,
            rules=rules,
            kind=kind,
        )
        path = write_scenario(table, out / "iterations" / f"plan_{i:02d}.toml")
        ev = evaluate(_simulate(path, reps, executor=executor).calls, target_min)
        met = ev.meets(target_share)
        raised: tuple[int, ...] = ()
        lowered: tuple[int, ...] = ()
        improved = met and (best is None or schedule.team_hours < done[best].schedule.team_hours)
        if improved:
            best = i
        next_required = required
        if best is None:  # nothing met yet: raise the hours that fail
            failing = np.nan_to_num(ev.hourly_low, nan=1.0) < target_share
            pick = failing & ev.raisable
            if not pick.any():
                pick = failing
            raised = tuple(int(h) for h in np.flatnonzero(pick))
            next_required = required.copy()
            next_required[list(raised)] += 1
        elif trim:
            if not improved:  # the last trim failed or saved nothing: half as many hours
                trim_size = (trim_size or 0) // 2
            origin = required if best == i else done[best].required
            origin_ev = ev if best == i else done[best].evaluation
            if trim_size != 0:
                lowered = _spare_hours(origin, origin_ev, target_share, floor, trim_size)
            if trim_size is None:
                trim_size = len(lowered)
            next_required = origin.copy()
            next_required[list(lowered)] -= 1
        say(
            f"iteration {i}: {schedule.team_hours} team-hours/week ({schedule.status}, gap "
            f"{schedule.gap:.1%}), share {ev.share:.3f} [{ev.low:.3f}, {ev.high:.3f}]"
            + (f", raising {len(raised)} hour(s)" if raised else "")
            + (f", lowering {len(lowered)} hour(s)" if lowered else "")
        )
        done.append(Iteration(i, required.copy(), schedule, ev, raised, path, lowered))
        if not raised and not lowered:
            break
        required = next_required

    # The loop picks the plans that passed on the planning seed, so the cheapest of them is
    # biased towards lucky draws: each is confirmed on new seeds, cheapest first, and the first
    # that passes again is the answer.
    seed = scenario.seed + 1 if check_seed is None else check_seed
    checks: dict[int, Evaluation] = {}
    passed = [it for it in done if it.evaluation.meets(target_share)]
    confirmed: int | None = None
    for it in sorted(passed, key=lambda x: (x.schedule.team_hours, x.iteration)):
        ev = evaluate(
            _simulate(it.scenario_path, reps, seed=seed, executor=executor).calls, target_min
        )
        checks[it.iteration] = ev
        say(
            f"check of iteration {it.iteration} with seed {seed}: share {ev.share:.3f} "
            f"[{ev.low:.3f}, {ev.high:.3f}]" + ("" if ev.meets(target_share) else ", fails")
        )
        if ev.meets(target_share):
            confirmed = it.iteration
            break
    met = confirmed is not None
    if confirmed is not None:
        chosen = confirmed
    elif best is not None:
        chosen = best
    else:
        chosen = len(done) - 1
    final = done[chosen]
    if chosen not in checks:
        checks[chosen] = evaluate(
            _simulate(final.scenario_path, reps, seed=seed, executor=executor).calls, target_min
        )
    check = checks[chosen]
    final_table = plan_scenario_table(
        base,
        [(s.start_h, s.hours, s.count) for s in final.schedule.shifts],
        name=f"{name}: staffing plan",
        target_min=target_min,
        rules=rules,
        kind=kind,
    )
    final_table["replications"] = reps
    header = (
        f"Staffing plan for {source.name}: {final.schedule.team_hours} team-hours per week.\n"
        f"Target: {target_share:.0%} of calls reached by a specialist within "
        f"{target_min:g} min, on the lower end of the 95% interval over {reps} replications:\n"
        f"seed {scenario.seed}: share {final.evaluation.share:.3f} "
        f"[{final.evaluation.low:.3f}, {final.evaluation.high:.3f}]; new seed {seed}: share "
        f"{check.share:.3f} [{check.low:.3f}, {check.high:.3f}]; "
        f"{'met on both' if met else 'NOT met on both'}."
    )
    plan_path = write_scenario(final_table, out / "plan.toml", header=header)

    baseline = None
    if uniform:
        baseline = search_uniform(
            base,
            out / "uniform",
            target_share=target_share,
            target_min=target_min,
            replications=reps,
            rules=rules,
            kind=kind,
            # The plan's mean teams per hour: a uniform plan rarely does with fewer.
            start=max(1, math.ceil(final.schedule.team_hours / HOURS_PER_WEEK)),
            limit=uniform_max,
            name=name,
            progress=say,
            executor=executor,
        )
    return StaffingPlan(
        schedule=final.schedule,
        met=met,
        iterations=tuple(done),
        chosen=chosen,
        demand=demand,
        service_s=service_s,
        target_share=target_share,
        target_min=target_min,
        scenario_path=plan_path,
        uniform=baseline,
        check=check,
        check_seed=seed,
        checks=dict(sorted(checks.items())),
    )


def search_uniform(
    base: dict[str, Any],
    out_dir: Path,
    *,
    target_share: float,
    target_min: float,
    replications: int,
    rules: ShiftRules,
    kind: str | None = None,
    start: int = 1,
    limit: int = 40,
    name: str = "scenario",
    progress: Callable[[str], None] | None = None,
    executor: Executor | None = None,
) -> UniformPlan:
    """The fewest teams per hour, the same in every hour, that meet the target in replay.

    Every level is replayed with the scenario's seed (the plan's common random numbers). From
    ``start``, the search steps down while the level meets the target, else up until one does
    or ``limit`` is passed. ``executor``: where each replay's replications run (this process
    when None).

    Returns
    -------
    UniformPlan
        ``teams_per_hour`` None when no level up to ``limit`` meets the target.
    """
    say = progress or (lambda _line: None)
    seen: dict[int, tuple[Evaluation, Path]] = {}

    def replay(n: int) -> bool:
        table = plan_scenario_table(
            base,
            uniform_shifts(n),
            name=f"{name}: uniform, {n} team(s) every hour",
            target_min=target_min,
            rules=rules,
            kind=kind,
            prefix="U",
        )
        path = write_scenario(table, out_dir / f"uniform_{n:02d}.toml")
        ev = evaluate(_simulate(path, replications, executor=executor).calls, target_min)
        seen[n] = (ev, path)
        say(f"uniform {n} team(s) every hour: share {ev.share:.3f} [{ev.low:.3f}, {ev.high:.3f}]")
        return ev.meets(target_share)

    n = min(max(1, start), limit)
    answer: int | None = None
    if replay(n):
        answer = n
        while answer > 1 and replay(answer - 1):
            answer -= 1
    else:
        while n < limit:
            n += 1
            if replay(n):
                answer = n
                break
    tried = tuple((k, ev.share, ev.low, ev.high) for k, (ev, _) in sorted(seen.items()))
    if answer is None:
        ev, path = seen[max(seen)]
        return UniformPlan(None, None, ev, tried, path)
    ev, path = seen[answer]
    return UniformPlan(answer, 168.0 * answer, ev, tried, path)


def _spare_hours(
    required: IntArray,
    ev: Evaluation,
    target_share: float,
    floor: IntArray,
    size: int | None,
) -> tuple[int, ...]:
    """Hours to lower by one: those whose own mean share is at or above the target, the most
    room first; ``size`` of them, or half when None. An hour with calls keeps one team.

    The mean, not the lower bound: an hour's interval rests on few calls and is wide, and the
    target is judged overall; the replay of the trimmed plan decides.
    """
    share = np.nan_to_num(ev.hourly, nan=-1.0)
    spare = np.flatnonzero((share >= target_share) & (required > floor))
    order = spare[np.lexsort((spare, -share[spare]))]
    count = len(order) // 2 if size is None else min(size, len(order))
    return tuple(sorted(int(h) for h in order[:count]))


def _typical_travel_s(scenario: Scenario) -> float:
    """Median drive from the nearest station to a call, seconds, from a sample of calls."""
    from dispatch.plan.requirements import TRAVEL_S
    from dispatch.scenario import SyntheticCalls

    travel = scenario.travel
    calls = scenario.calls
    if isinstance(calls, SyntheticCalls):
        lat = np.array([p[0] for p in calls.locations])
        lon = np.array([p[1] for p in calls.locations])
    else:
        sample = calls.iloc[:: max(1, len(calls) // 400)]
        lat = sample["lat"].to_numpy(dtype=float)
        lon = sample["lon"].to_numpy(dtype=float)
    if not len(lat) or not scenario.stations:
        return TRAVEL_S
    try:
        origins = travel.snap_many(
            [s.lat for s in scenario.stations], [s.lon for s in scenario.stations]
        )
        places = travel.snap_many(lat, lon)
    except InputError:  # calls off the network: the replay reports them; use the default
        return TRAVEL_S
    best = [float(np.min(travel.times_to(origins, int(p)))) for p in places.tolist()]
    finite = [b for b in best if math.isfinite(b)]
    return float(np.median(finite)) if finite else TRAVEL_S


__all__ = [
    "CAPACITY_REASONS",
    "UNIFORM_STARTS",
    "Evaluation",
    "Iteration",
    "StaffingPlan",
    "UniformPlan",
    "evaluate",
    "plan_scenario_table",
    "plan_staffing",
    "scenario_demand",
    "search_uniform",
    "uniform_shifts",
    "write_scenario",
]
