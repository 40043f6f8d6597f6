"""`Matcher`: the one set of dispatch rules, used by CAD integrations and the simulator alike.

Pure: no clock, no I/O, no global state. Every answer is a few vector operations on one
travel-time row: mask the teams that may go, add tier offsets and CIT penalties, take the
minimum. Ties break on team id (the fleet is sorted by id), so the same input always gives the
same answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import numpy.typing as npt

from dispatch.errors import InputError
from dispatch.match.explain import Alternative, Recommendation, Verdict, format_minutes
from dispatch.match.fleet import Fleet
from dispatch.match.holds import WellnessOutcome
from dispatch.match.policy import Policy, TieredNearest
from dispatch.match.rules import TIER_GAP_S, RuleSet, default_rules
from dispatch.match.wellness import WellnessRules
from dispatch.model import Call, ReasonCode, RiskLevel, Team
from dispatch.travel import SMALL_FLEET, TravelTimes

if TYPE_CHECKING:
    from dispatch.match.assign import Assignment

FloatArray = npt.NDArray[np.float64]
_new_tuple = tuple.__new__
_INF = float("inf")


#: `Fleet.base_scores` plus per-row tiers and specialist flags as lists (`Matcher._base`).
_Base = tuple[
    FloatArray, FloatArray, npt.NDArray[np.bool_], list[int], list[bool], list[float], list[float]
]


class Choice(NamedTuple):
    """The bare answer of `Matcher.best`, for hot loops.

    ``row`` is the fleet row of the chosen team or -1; ``tier`` its tier index or -1;
    ``reason`` is set whenever the choice is not a specialist. ``wellness`` says what the
    wellness rules did (`WellnessOutcome`: a rule held back the team that would otherwise have
    gone, a priority call overrode a hold, holds left no team, or the fairness tie-break picked
    a less-loaded team); None when they changed nothing.
    """

    row: int
    eta_s: float
    tier: int
    specialist: bool
    reason: ReasonCode | None
    wellness: WellnessOutcome | None = None


class Scores(NamedTuple):
    """Per-team working columns of one decision (kept for explanations and assignment)."""

    eta_s: FloatArray
    tier: npt.NDArray[np.int16]
    penalty_s: FloatArray
    eligible: npt.NDArray[np.bool_]
    specialist: npt.NDArray[np.bool_]
    ok: npt.NDArray[np.bool_]
    score: FloatArray


class Matcher:
    """Recommends teams for calls under a `RuleSet`, with travel times from a `TravelTimes`.

    Parameters
    ----------
    travel
        The travel-time oracle.
    rules
        Dispatch rules; `default_rules` when omitted.
    alternatives
        How many contenders and how many excluded teams an explanation lists.
    wellness
        Wellness rules (recovery, streak and utilization holds, fairness tie-break); None for
        none. They read the fleet's wellness columns and the call's ``received_s`` as "now".
    policy
        How teams rank before travel time (`dispatch.match.policy`); `TieredNearest` under
        ``rules`` when omitted. When given, its rules are the matcher's.

    Examples
    --------
    >>> from dispatch import Call, Team, TeamKind
    >>> from dispatch.match import Matcher
    >>> from dispatch.travel import TravelTimes
    >>> matcher = Matcher(TravelTimes.straight_line(speed_kph=36, circuity=1.0))
    >>> teams = [Team("CR1", TeamKind.CO_RESPONDER, 38.627, -90.199, cit=True),
    ...          Team("CR2", TeamKind.CO_RESPONDER, 38.640, -90.250, cit=True)]
    >>> rec = matcher.recommend(Call("c1", 38.630, -90.200), teams)
    >>> rec.team_id, rec.specialist, rec.reason
    ('CR1', True, None)
    """

    def __init__(
        self,
        travel: TravelTimes,
        rules: RuleSet | None = None,
        *,
        alternatives: int = 3,
        wellness: WellnessRules | None = None,
        policy: Policy | None = None,
    ) -> None:
        self.travel = travel
        if policy is not None:
            if rules is not None and rules is not policy.rules:
                raise InputError("give the rules to the policy, not to the matcher as well")
            rules = policy.rules
        self.rules = rules if rules is not None else default_rules()
        self.policy: Policy = policy if policy is not None else TieredNearest(self.rules)
        self._tiered = type(self.policy) is TieredNearest
        # An oracle with upper bounds (a large road network) is searched only as far as can
        # matter to the choice (`_etas`); one without is asked for every time.
        self._bounded = type(travel).upper_bounds is not TravelTimes.upper_bounds
        # An oracle that answers a few origins as Python floats (straight line) lets `best`
        # score a small fleet on lists, where each numpy call costs more than its arithmetic.
        self._scalar = type(travel).times_for is not TravelTimes.times_for and not self._bounded
        self.alternatives = alternatives
        # Rules that are all off cost nothing: the matcher then takes its plain fast path.
        self.wellness = wellness if wellness is not None and wellness.any_rule else None
        self._specialist_lookup = {
            risk: np.append(self.rules.specialist_tiers(risk), False) for risk in RiskLevel
        }
        self._n_tiers = max(len(tiers) for tiers in self.rules.tiers.values())
        self._labels = {
            risk: [tier.label() for tier in tiers] for risk, tiers in self.rules.tiers.items()
        }
        # The last fleet `best` saw and its `_Base` by risk, read as one value (threads may
        # share a matcher across fleets).
        self._bases: tuple[Fleet | None, dict[RiskLevel, _Base]] = (None, {})

    # -- building blocks ---------------------------------------------------------------
    def fleet(self, teams: Sequence[Team] | Fleet) -> Fleet:
        """The columnar fleet for ``teams`` (returned as is when already a `Fleet`)."""
        return teams if isinstance(teams, Fleet) else Fleet.from_teams(teams, self.travel)

    def place_of(self, call: Call) -> int:
        """The travel-oracle place of a call (raises `OutsideNetworkError` off the network)."""
        return self.travel.snap(call.lat, call.lon)

    def scores(
        self,
        place: int,
        risk: RiskLevel,
        fleet: Fleet,
        *,
        specialist_only: bool = False,
        zone: str | None = None,
        call_type: str = "",
        now_s: float | None = None,
    ) -> Scores:
        """Score every team for a call at ``place``: lower is better, ``inf`` may not go.

        A team's score is the policy's offset (its tier times `TIER_GAP_S` and any CIT penalty,
        for district-first also its district's run-card rank), plus its ETA; it is ``inf`` when
        the team is ineligible, not dispatchable or beyond ``max_travel_s``. ``now_s`` picks
        the travel band in force (None: the network's own times).
        """
        eta = self.travel.times_to(fleet.place, place, now_s)
        tier, penalty = fleet.tiers(self.rules, risk)
        any_tier, spec_only, specialist = self.policy.offsets(fleet, risk, zone, call_type, now_s)
        base = spec_only if specialist_only else any_tier
        ok = fleet.dispatchable & np.isfinite(base) & (eta <= self.rules.max_travel_s)
        score = np.where(ok, base + eta, np.inf)
        return Scores(eta, tier, penalty, tier >= 0, specialist, ok, score)

    def best(
        self,
        place: int,
        risk: RiskLevel,
        fleet: Fleet,
        *,
        specialist_only: bool = False,
        now_s: float = 0.0,
        priority: int = 2,
        zone: str | None = None,
        call_type: str = "",
    ) -> Choice:
        """The team to send to a call at ``place`` with (effective) ``risk``.

        The same answer as `recommend` without the explanation, computed on the fast path the
        simulator uses. With ``specialist_only`` only specialist tiers are considered (the
        simulator queues a call rather than send a fallback before ``fallback_after_min``).
        ``now_s`` and ``priority`` matter only to wellness rules, ``zone`` and ``call_type``
        only to policies that read them (district-first run cards).
        """
        if not fleet.team_ids:
            return Choice(-1, float("inf"), -1, False, ReasonCode.INELIGIBLE)
        tier_of: list[int] | None = None
        is_specialist: list[bool] | None = None
        offsets: list[float] | None = None
        if self._tiered:  # the default policy's offsets, without a call through the protocol
            seen, bases = self._bases
            base = bases.get(risk) if seen is fleet else None
            if base is None:
                base = self._base(fleet, risk)
            any_tier, spec_only, specialist, tier_of, is_specialist, any_list, spec_list = base
            if self._scalar and len(tier_of) <= SMALL_FLEET:
                offsets = spec_list if specialist_only else any_list
        else:
            any_tier, spec_only, specialist = self.policy.offsets(
                fleet, risk, zone, call_type, now_s
            )
        w = self.wellness
        # The best row, its score and ETA: the first of the lowest scores, ``inf`` for nobody.
        scores: list[float] | None = None
        etas: list[float] | FloatArray
        if offsets is not None:  # a small fleet on lists: only free teams are asked about
            free = fleet.dispatchable.tolist()
            rows = list(compress(range(len(free)), free))
            got = self.travel.times_for(list(compress(fleet.place.tolist(), free)), place, now_s)
            i, score_i, eta_i = -1, _INF, _INF
            for k, e in zip(rows, got, strict=True):
                v = offsets[k] + e
                if v < score_i:
                    i, score_i, eta_i = k, v, e
            if w is not None and w.tie_break is not None:
                scores, etas = [_INF] * len(free), [_INF] * len(free)
                for k, e in zip(rows, got, strict=True):
                    scores[k], etas[k] = offsets[k] + e, e
        else:
            offset = spec_only if specialist_only else any_tier
            if self._bounded:
                eta = self._etas(fleet, place, now_s, offset)
            else:
                eta = self.travel.times_to(fleet.place, place, now_s)
            score = offset + eta
            score[~fleet.dispatchable] = np.inf
            i = int(score.argmin())
            # Python scalars from here on: cheaper to compare than numpy ones.
            score_i, eta_i = score.item(i), eta.item(i)
            if score_i == _INF:
                i = -1
            if w is not None and w.tie_break is not None:
                scores, etas = score.tolist(), eta
        if score_i == _INF:  # nobody eligible, on duty and free: only the reason is left
            # (with wellness rules too: `_decide` gives the plain answer when nobody can go)
            if offsets is not None and is_specialist is not None:  # the lists at hand
                reason = _reason_on_lists(is_specialist, free, fleet)
            else:
                reason = self._reason_from(specialist, fleet)
            return Choice(-1, _INF, -1, False, reason)
        if w is not None:
            if eta_i > self.rules.max_travel_s or (w.hold_rules and self._held(w, fleet, i, now_s)):
                full = self._rescore(place, risk, fleet, specialist_only, zone, call_type, now_s)
                return self._decide(full, fleet, now_s, priority)
            if scores is not None:  # the fairness tie-break is on
                assert w.tie_break is not None
                i, fair = self._fairest(
                    w, w.tie_break.margin_s, fleet, risk, scores, etas, i, now_s, tier_of
                )
                if fair:
                    return self._finish(
                        place,
                        risk,
                        fleet,
                        specialist_only,
                        i,
                        float(etas[i]),
                        now_s,
                        _FAIRNESS,
                        zone,
                        call_type,
                        tier_of,
                        is_specialist,
                    )
            return self._finish(
                place,
                risk,
                fleet,
                specialist_only,
                i,
                eta_i,
                now_s,
                None,
                zone,
                call_type,
                tier_of,
                is_specialist,
            )
        if eta_i > self.rules.max_travel_s:
            # Rare: the best-ranked team is too far (a lower tier may not be).
            return self._choose(
                self._rescore(place, risk, fleet, specialist_only, zone, call_type, now_s),
                fleet,
            )
        # The usual answer is a specialist; built as the tuple it is, the cheaper way.
        if is_specialist is not None and tier_of is not None:
            if is_specialist[i]:
                choice: Choice = _new_tuple(Choice, (i, eta_i, tier_of[i], True, None, None))
                return choice
        elif specialist.item(i):  # (other policies: always the numpy path)
            # The offset is tier x TIER_GAP_S plus less than one gap (penalty, district rank).
            tier = int(any_tier.item(i) // TIER_GAP_S)
            choice = _new_tuple(Choice, (i, eta_i, tier, True, None, None))
            return choice
        s = self._rescore(place, risk, fleet, specialist_only, zone, call_type, now_s)
        return Choice(i, eta_i, int(s.tier[i]), False, self._reason(s, fleet))

    def _etas(self, fleet: Fleet, place: int, now_s: float, offset: FloatArray) -> FloatArray:
        """ETAs exact for every team that could be chosen, ``inf`` for some that cannot.

        The oracle's upper bounds give a score the best team reaches at worst; a team farther
        than that score less the smallest offset (plus the fairness margin, within which the
        tie-break compares teams) scores worse than the best, so the search stops there. The
        choice, its ETA and every comparison `best` makes are those of the full answer.
        """
        travel = self.travel
        ok = fleet.dispatchable & (offset < _INF)
        if not ok.any():  # nobody can be chosen (all busy, say): no time matters, none is sought
            return np.full(len(offset), _INF)
        w = self.wellness
        margin = w.tie_break.margin_s if w is not None and w.tie_break is not None else 0.0
        offset_ok = offset[ok]
        low = float(offset_ok.min())
        # Times already known (a recurring address) answer when their radius reaches past the
        # best score they give: nobody beyond it could come closer.
        known = travel.times_known(fleet.place, place, now_s)
        if known is not None:
            radius, eta = known
            if float((offset_ok + eta[ok]).min()) + margin - low <= radius:
                return eta
        bounds = travel.upper_bounds(fleet.place, place, now_s)
        if bounds is None:
            return travel.times_to(fleet.place, place, now_s)
        best = float((offset_ok + bounds[ok]).min())
        if not best < _INF:
            return travel.times_to(fleet.place, place, now_s)
        return travel.times_within(fleet.place, place, now_s, best + margin - low)

    def _base(self, fleet: Fleet, risk: RiskLevel) -> _Base:
        """`Fleet.base_scores` of the default policy for ``risk``, with each row's tier and
        specialist flag as Python values (list reads are far cheaper than numpy scalar reads),
        kept for the last fleet asked about."""
        any_tier, spec_only, specialist = fleet.base_scores(
            self.rules, risk, self._specialist_lookup[risk]
        )
        tier = fleet.tiers(self.rules, risk)[0]
        base = (
            any_tier,
            spec_only,
            specialist,
            tier.tolist(),
            specialist.tolist(),
            any_tier.tolist(),
            spec_only.tolist(),
        )
        seen, bases = self._bases
        if seen is fleet:
            bases[risk] = base
        else:
            self._bases = (fleet, {risk: base})
        return base

    def _rescore(
        self,
        place: int,
        risk: RiskLevel,
        fleet: Fleet,
        specialist_only: bool,
        zone: str | None,
        call_type: str,
        now_s: float | None,
    ) -> Scores:
        """`scores` for the slow paths of `best` (arguments as `best` has them)."""
        return self.scores(
            place,
            risk,
            fleet,
            specialist_only=specialist_only,
            zone=zone,
            call_type=call_type,
            now_s=now_s,
        )

    def _choose(self, s: Scores, fleet: Fleet) -> Choice:
        if len(s.score) == 0:
            return Choice(-1, float("inf"), -1, False, ReasonCode.INELIGIBLE)
        i = int(np.argmin(s.score))
        if not np.isfinite(s.score[i]):
            return Choice(-1, float("inf"), -1, False, self._reason(s, fleet))
        specialist = bool(s.specialist[i])
        reason = None if specialist else self._reason(s, fleet)
        return Choice(i, float(s.eta_s[i]), int(s.tier[i]), specialist, reason)

    def _held(self, w: WellnessRules, fleet: Fleet, i: int, now_s: float) -> bool:
        """Whether team row ``i`` is held back by a wellness rule (scalar `WellnessRules.holds`)."""
        return any(rule.held_row(now_s, fleet, i) for rule in w.hold_rules)

    def _fairest(
        self,
        w: WellnessRules,
        margin: float,
        fleet: Fleet,
        risk: RiskLevel,
        scores: list[float],
        etas: list[float] | FloatArray,
        i: int,
        now_s: float,
        tier_of: list[int] | None = None,
    ) -> tuple[int, bool]:
        """The fairness tie-break on the fast path; the same rule as in `_decide`.

        The candidates are found on Python lists: a fleet is a few dozen rows, where each numpy
        call costs more than the comparisons it makes. ``tier_of``: each row's tier, when the
        caller has it as a list.
        """
        limit = scores[i] + margin
        close = [k for k, v in enumerate(scores) if v <= limit]
        if len(close) < 2:  # the usual case: nobody else close enough
            return i, False
        if not isinstance(etas, list):
            etas = etas.tolist()
        eta_limit = min(etas[i] + margin, self.rules.max_travel_s)
        near = [k for k in close if etas[k] <= eta_limit]
        if len(near) < 2:
            return i, False
        tier = fleet.tiers(self.rules, risk)[0].tolist() if tier_of is None else tier_of
        tier_i = tier[i]
        if w.hold_rules:
            held = w.holds(now_s, fleet).tolist()
            near = [k for k in near if tier[k] == tier_i and held[k] == 0]
        else:
            near = [k for k in near if tier[k] == tier_i]
        if len(near) < 2:
            return i, False
        assert w.tie_break is not None
        j = w.tie_break.pick_rows(near, scores, fleet)
        return j, j != i

    def _finish(
        self,
        place: int,
        risk: RiskLevel,
        fleet: Fleet,
        specialist_only: bool,
        i: int,
        eta_i: float,
        now_s: float,
        note: WellnessOutcome | None,
        zone: str | None,
        call_type: str,
        tier_of: list[int] | None = None,
        is_specialist: list[bool] | None = None,
    ) -> Choice:
        """The `Choice` of row ``i`` (its reason when it is no specialist).

        ``tier_of`` and ``is_specialist``: each row's tier and specialist flag, when the caller
        has them as lists (the default policy's fast path).
        """
        if tier_of is not None and is_specialist is not None:
            tier, specialist = tier_of[i], is_specialist[i]
        else:
            tier = int(fleet.tiers(self.rules, risk)[0][i])
            specialist = bool(self._specialist_lookup[risk][tier])
        if specialist:
            choice: Choice = _new_tuple(Choice, (i, eta_i, tier, True, None, note))
            return choice
        s = self._rescore(place, risk, fleet, specialist_only, zone, call_type, now_s)
        available = fleet.dispatchable & (self._holds(fleet, now_s) == 0)
        return Choice(i, eta_i, tier, False, self._reason(s, fleet, available), note)

    def _holds(self, fleet: Fleet, now_s: float) -> npt.NDArray[np.int8]:
        """Per team, the wellness rule holding it back (0: none; all 0 without rules)."""
        w = self.wellness
        if w is None:
            return np.zeros(len(fleet), dtype=np.int8)
        return w.holds(now_s, fleet)

    def _decide(
        self,
        s: Scores,
        fleet: Fleet,
        now_s: float,
        priority: int,
        held: npt.NDArray[np.int8] | None = None,
    ) -> Choice:
        """The choice under the wellness rules (or plain `_choose` without them)."""
        plain = self._choose(s, fleet)
        w = self.wellness
        if w is None or plain.row < 0:
            return plain
        if held is None:
            held = self._holds(fleet, now_s)
        free = s.ok & (held == 0)
        if not free.any():
            rule = w.rule_name(int(held[plain.row]))
            if priority <= w.override_priority:
                return plain._replace(wellness=WellnessOutcome(override=rule))
            available = fleet.dispatchable & (held == 0)
            why = self._reason(s, fleet, available)
            return Choice(-1, float("inf"), -1, False, why, WellnessOutcome(no_team=rule))
        score = np.where(free, s.score, np.inf)
        i = int(np.argmin(score))
        held_by = None if i == plain.row else w.rule_name(int(held[plain.row]))
        tie_break = None
        if w.tie_break is not None:
            margin = w.tie_break.margin_s
            near = (
                free
                & (s.tier == s.tier[i])
                & (s.score <= s.score[i] + margin)
                & (s.eta_s <= s.eta_s[i] + margin)
            )
            if near.sum() > 1:
                j = w.tie_break.pick(np.flatnonzero(near), s.score, fleet)
                if j != i:
                    tie_break = w.tie_break.name
                    i = j
        note = None
        if held_by is not None or tie_break is not None:
            note = WellnessOutcome(held=held_by, tie_break=tie_break)
        specialist = bool(s.specialist[i])
        reason = None
        if not specialist:
            reason = self._reason(s, fleet, fleet.dispatchable & (held == 0))
        return Choice(i, float(s.eta_s[i]), int(s.tier[i]), specialist, reason, note)

    def _reason(
        self, s: Scores, fleet: Fleet, available: npt.NDArray[np.bool_] | None = None
    ) -> ReasonCode:
        """Why no specialist can go: the most hopeful state any specialist-eligible team is in.

        ``available`` overrides the fleet's dispatchable column (teams held back by wellness
        rules count as committed).
        """
        return self._reason_from(s.specialist, fleet, available)

    def _reason_from(
        self,
        spec: npt.NDArray[np.bool_],
        fleet: Fleet,
        available: npt.NDArray[np.bool_] | None = None,
    ) -> ReasonCode:
        """`_reason` from the per-team specialist flags alone."""
        # `count_nonzero` rather than `ndarray.any`: a few times cheaper on short columns, and
        # every call that finds no specialist comes here.
        if not np.count_nonzero(spec):
            return ReasonCode.INELIGIBLE
        if np.count_nonzero(spec & (fleet.dispatchable if available is None else available)):
            return ReasonCode.TOO_FAR
        if np.count_nonzero(spec & fleet.on_duty):
            return ReasonCode.ALL_BUSY
        return ReasonCode.OFF_SHIFT

    # -- public answers ----------------------------------------------------------------
    def recommend(
        self, call: Call, teams: Sequence[Team] | Fleet, *, explain: bool = True
    ) -> Recommendation:
        """The team to send to ``call``, its ETA, and why the others lost.

        Parameters
        ----------
        call
            The call.
        teams
            The fleet, as `Team` values or as a `Fleet` kept up to date by the caller.
        explain
            Build the ranked alternatives (skip for speed when only the choice matters).

        Returns
        -------
        Recommendation
            Never a busy, off-duty, ineligible or too-far team. When no specialist can go, the
            best fallback (if any) and a reason code.
        """
        return self.recommend_at(
            call.call_id,
            self.place_of(call),
            self.rules.effective_risk(call.risk, call.flags),
            self.fleet(teams),
            now_s=call.received_s,
            priority=call.priority,
            zone=call.zone,
            call_type=call.call_type,
            explain=explain,
        )

    def recommend_at(
        self,
        call_id: str,
        place: int,
        risk: RiskLevel,
        fleet: Fleet,
        *,
        now_s: float,
        priority: int = 2,
        specialist_only: bool = False,
        zone: str | None = None,
        call_type: str = "",
        explain: bool = True,
    ) -> Recommendation:
        """`recommend` for a call already placed on the network, with its effective risk.

        The dispatch session uses it to explain its decisions; ``specialist_only`` considers
        the specialist tiers alone, as the session does before a call falls back.
        """
        s = self._rescore(place, risk, fleet, specialist_only, zone, call_type, now_s)
        held = self._holds(fleet, now_s)
        choice = self._decide(s, fleet, now_s, priority, held)
        return Recommendation(
            call_id=call_id,
            team_id=fleet.team_ids[choice.row] if choice.row >= 0 else None,
            eta_s=choice.eta_s if choice.row >= 0 else None,
            tier=self._labels[risk][choice.tier] if choice.row >= 0 else None,
            specialist=choice.specialist,
            reason=choice.reason,
            risk=risk,
            alternatives=self._alternatives(s, fleet, risk, choice, now_s, held, zone, call_type)
            if explain
            else (),
            wellness=choice.wellness,
        )

    def _alternatives(
        self,
        s: Scores,
        fleet: Fleet,
        risk: RiskLevel,
        choice: Choice,
        now_s: float,
        held: npt.NDArray[np.int8],
        zone: str | None = None,
        call_type: str = "",
    ) -> tuple[Alternative, ...]:
        k = self.alternatives
        labels = self._labels[risk]
        rows: list[Alternative] = []
        overridden = choice.wellness.override if choice.wellness is not None else None
        tie_break = choice.wellness.tie_break if choice.wellness is not None else None
        if choice.row >= 0:
            i = choice.row
            why = f"fastest in tier '{labels[choice.tier]}'"
            outcome = choice.wellness or _NO_OUTCOME
            if outcome.tie_break is not None:
                why = (
                    f"least loaded ({fleet.load_s[i] / 3600:.1f} h this shift) within the "
                    f"{format_minutes(self._fairness_margin())} fairness margin"
                )
            if outcome.override is not None:
                why = (
                    f"sent despite its {outcome.override} hold: priority call and no other team "
                    "can go"
                )
            rows.append(
                Alternative(
                    fleet.team_ids[i],
                    fleet.kind_of(i),
                    float(s.eta_s[i]),
                    Verdict.CHOSEN,
                    why + self._penalty_note(float(s.penalty_s[i])),
                )
            )
        contenders = np.flatnonzero(s.ok)
        contenders = contenders[contenders != choice.row]
        for j in _smallest(contenders, s.score, k):
            tier_j = int(s.tier[j])
            penalty = self._penalty_note(float(s.penalty_s[j]))
            if held[j] and overridden is None:
                verdict, detail = Verdict.HELD, self._hold_note(int(j), int(held[j]), fleet, now_s)
            elif (
                choice.row >= 0
                and tier_j == choice.tier
                and tie_break is not None
                and s.eta_s[j] <= choice.eta_s
            ):
                verdict, detail = (
                    Verdict.MORE_LOADED,
                    f"faster, but carried {fleet.load_s[j] / 3600:.1f} h this shift vs "
                    f"{fleet.load_s[choice.row] / 3600:.1f} h",
                )
            elif choice.row < 0:
                verdict, detail = Verdict.HELD, "held back"
            elif tier_j == choice.tier and (
                note := self.policy.rank_note(fleet, int(j), choice.row, zone, call_type, now_s)
            ):
                verdict, detail = Verdict.LOWER_PREFERENCE, note
            elif tier_j == choice.tier:
                verdict, detail = (
                    Verdict.SLOWER,
                    f"ETA {format_minutes(s.eta_s[j])} vs {format_minutes(choice.eta_s)}{penalty}",
                )
            else:
                verdict, detail = (
                    Verdict.LOWER_PREFERENCE,
                    f"tier '{labels[tier_j]}' ranks below '{labels[choice.tier]}'",
                )
            rows.append(
                Alternative(fleet.team_ids[j], fleet.kind_of(j), float(s.eta_s[j]), verdict, detail)
            )
        excluded = np.flatnonzero(~s.ok)
        for j in _smallest(excluded, s.eta_s, k):
            verdict, detail = self._exclusion(int(j), s, fleet, risk)
            rows.append(
                Alternative(fleet.team_ids[j], fleet.kind_of(j), float(s.eta_s[j]), verdict, detail)
            )
        return tuple(rows)

    def _fairness_margin(self) -> float:
        w = self.wellness
        return 0.0 if w is None or w.fairness_margin_s is None else w.fairness_margin_s

    def _hold_note(self, j: int, rule: int, fleet: Fleet, now_s: float) -> str:
        w = self.wellness
        assert w is not None
        return w.hold_rules[rule - 1].note(now_s, fleet, j)

    def _penalty_note(self, penalty_s: float) -> str:
        return f" (+{format_minutes(penalty_s)} for no CIT certification)" if penalty_s > 0 else ""

    def _exclusion(self, j: int, s: Scores, fleet: Fleet, risk: RiskLevel) -> tuple[Verdict, str]:
        kind = fleet.kind_of(j)
        if not s.eligible[j]:
            fits_uncertified = any(kind in tier.kinds for tier in self.rules.tiers[risk])
            why = (
                f"{risk.value}-risk calls need a CIT-certified {kind.value}"
                if fits_uncertified
                else f"{kind.value} teams may not take {risk.value}-risk calls"
            )
            return Verdict.INELIGIBLE, why
        if not fleet.on_duty[j]:
            return Verdict.OFF_DUTY, "off shift"
        if not fleet.dispatchable[j]:
            return Verdict.BUSY, "committed to another call"
        return (
            Verdict.TOO_FAR,
            f"ETA {format_minutes(s.eta_s[j])} exceeds the "
            f"{format_minutes(self.rules.max_travel_s)} limit",
        )

    def assign(
        self,
        calls: Sequence[Call],
        teams: Sequence[Team] | Fleet,
        *,
        reserve: int = 0,
        solver: str = "auto",
        specialist_only: bool = False,
    ) -> Assignment:
        """Best joint assignment of pending calls to teams, priority weighted.

        See `dispatch.match.assign.assign`; this is a shortcut with this matcher's rules.
        """
        from dispatch.match.assign import assign

        return assign(
            self,
            calls,
            self.fleet(teams),
            reserve=reserve,
            solver=solver,
            specialist_only=specialist_only,
        )


_FAIRNESS = WellnessOutcome(tie_break="fairness")
_NO_OUTCOME = WellnessOutcome()


def _smallest(candidates: npt.NDArray[np.intp], key: FloatArray, k: int) -> list[int]:
    """Up to ``k`` of ``candidates`` with the smallest ``key``, ties by index."""
    if len(candidates) == 0 or k <= 0:
        return []
    values = key[candidates]
    if len(candidates) > 4 * k + 64:
        # Narrow down in linear time, keeping *every* candidate tied with the k-th smallest:
        # a partition alone would drop an arbitrary one of several equal keys.
        keep = values <= np.partition(values, k - 1)[k - 1]
        candidates, values = candidates[keep], values[keep]
    # ``candidates`` ascend, so a stable sort on the key breaks ties by index.
    order = np.argsort(values, kind="stable")[:k]
    return candidates[order].tolist()  # type: ignore[no-any-return]


def _reason_on_lists(is_specialist: list[bool], free: list[bool], fleet: Fleet) -> ReasonCode:
    """`Matcher._reason_from` on a small fleet's lists (``free``: the dispatchable column).

    Every call that finds nobody free comes here; three numpy reductions on a column of ten
    cost more than the comparisons (1.4 against 0.8 us). The property test holding
    `Matcher.best` to the full decision checks that the two give the same reason.
    """
    if True not in is_specialist:
        return ReasonCode.INELIGIBLE
    if True in map(bool.__and__, is_specialist, free):
        return ReasonCode.TOO_FAR
    if True in map(bool.__and__, is_specialist, fleet.on_duty.tolist()):
        return ReasonCode.ALL_BUSY
    return ReasonCode.OFF_SHIFT
