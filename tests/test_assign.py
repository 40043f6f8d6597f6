"""Joint assignment of pending calls, as a specification.

A team never gets two calls, a call never gets a team that may not go, and the joint answer is
never worse than dispatching one call at a time (greedy) under the same objective. Runs on the
`city` street grid (conftest), whose whole-second edge times keep every cost exact.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.errors import InputError
from dispatch.match import CitRule, Fleet, Matcher, RuleSet, default_rules
from dispatch.match.assign import assign, cost_model, greedy, greedy_order
from dispatch.model import Call, RiskLevel, Team, TeamKind, TeamStatus
from dispatch.travel import TravelTimes

N_NODES = 36
PROPERTY = settings(max_examples=100, deadline=None)


# -- strategies ------------------------------------------------------------------------------


@st.composite
def teams_st(draw: st.DrawFn, max_size: int = 10) -> list[tuple[str, TeamKind, bool, str, int]]:
    """``(id, kind, cit, status, node)`` of 1..max_size teams; most are available."""
    n = draw(st.integers(1, max_size))
    out = []
    for i in range(n):
        kind = draw(st.sampled_from([TeamKind.CO_RESPONDER, *TeamKind]))
        cit = {TeamKind.CLINICIAN: False, TeamKind.CIT_OFFICER: True}.get(kind)
        if cit is None:
            cit = draw(st.booleans())
        status = draw(
            st.sampled_from([TeamStatus.AVAILABLE] * 3 + [TeamStatus.RETURNING, *TeamStatus])
        )
        out.append((f"T{i:02d}", kind, cit, status, draw(st.integers(0, N_NODES - 1))))
    return out


@st.composite
def calls_st(
    draw: st.DrawFn, max_size: int = 8
) -> list[tuple[str, int, RiskLevel, frozenset[str], int, float]]:
    """``(id, node, risk, flags, priority, received_s)`` of 1..max_size calls."""
    n = draw(st.integers(1, max_size))
    return [
        (
            f"C{i:02d}",
            draw(st.integers(0, N_NODES - 1)),
            draw(st.sampled_from(RiskLevel)),
            draw(st.frozensets(st.sampled_from(["weapon", "suicidal"]), max_size=1)),
            draw(st.integers(1, 4)),
            float(draw(st.integers(0, 5))),
        )
        for i in range(n)
    ]


rule_sets = st.builds(
    lambda max_travel_s: replace(default_rules(), max_travel_s=float(max_travel_s)),
    st.integers(150, 1500),
)


def build(city, drawn_teams, drawn_calls):
    teams = [
        Team(tid, kind, *city.coords[node], cit=cit, status=status)
        for tid, kind, cit, status, node in drawn_teams
    ]
    calls = [
        Call(cid, *city.coords[node], risk=risk, flags=flags, priority=p, received_s=t)
        for cid, node, risk, flags, p, t in drawn_calls
    ]
    node_of_team = {d[0]: d[4] for d in drawn_teams}
    node_of_call = {d[0]: d[1] for d in drawn_calls}
    return teams, calls, node_of_team, node_of_call


def may_go(rules: RuleSet, call: Call, team: Team, eta: float) -> bool:
    """Written from the rules' definition: dispatchable, fits a tier, within reach."""
    risk = RiskLevel.HIGH if call.flags & rules.escalate_flags else call.risk
    fits = any(
        team.kind in tier.kinds and (tier.cit is not CitRule.REQUIRED or team.cit)
        for tier in rules.tiers[risk]
    )
    return team.status.dispatchable and fits and eta <= rules.max_travel_s


def check_valid(city, rules, result, teams, calls, node_of_team, node_of_call) -> None:
    by_id = {t.team_id: t for t in teams}
    call_by_id = {c.call_id: c for c in calls}
    served = [call_id for call_id, _ in result.pairs]
    used = [team_id for _, team_id in result.pairs]
    assert len(set(used)) == len(used), "a team got two calls"
    assert sorted(served + list(result.unassigned)) == sorted(call_by_id)
    assert served == [c.call_id for c in calls if c.call_id in set(served)]  # input order
    for call_id, team_id in result.pairs:
        eta = city.eta(node_of_team[team_id], node_of_call[call_id])
        assert may_go(rules, call_by_id[call_id], by_id[team_id], eta), (call_id, team_id)
        assert result.eta_s[call_id] == eta


# -- properties ------------------------------------------------------------------------------


@given(rules=rule_sets, drawn_teams=teams_st(), drawn_calls=calls_st())
@PROPERTY
def test_assignment_is_valid_and_never_worse_than_greedy(city, rules, drawn_teams, drawn_calls):
    teams, calls, node_of_team, node_of_call = build(city, drawn_teams, drawn_calls)
    matcher = Matcher(city.travel, rules)
    result = matcher.assign(calls, teams)
    assert result.solver == "scipy"
    check_valid(city, rules, result, teams, calls, node_of_team, node_of_call)
    fleet = Fleet.from_teams(teams, city.travel)
    model = cost_model(matcher, calls, fleet)
    greedy_cost = model.total(greedy(model, greedy_order(calls)))
    assert result.cost <= greedy_cost * (1 + 1e-6)
    # The greedy answer is a valid one: a team it uses is used once.
    used = [j for j in greedy(model, greedy_order(calls)) if j >= 0]
    assert len(set(used)) == len(used)


@given(
    rules=rule_sets, drawn_teams=teams_st(), drawn_calls=calls_st(), specialist_only=st.booleans()
)
@PROPERTY
def test_cost_matrix_is_the_matchers_scores_times_priority_weight(
    city, rules, drawn_teams, drawn_calls, specialist_only
):
    teams, calls, _, _ = build(city, drawn_teams, drawn_calls)
    matcher = Matcher(city.travel, rules)
    fleet = Fleet.from_teams(teams, city.travel)
    model = cost_model(matcher, calls, fleet, specialist_only=specialist_only)
    assert model.cost.shape == model.eta_s.shape == (len(calls), len(teams))
    for i, call in enumerate(calls):
        risk = rules.effective_risk(call.risk, call.flags)
        s = matcher.scores(matcher.place_of(call), risk, fleet, specialist_only=specialist_only)
        weight = rules.priority_weights[call.priority]
        np.testing.assert_array_equal(model.cost[i], weight * s.score)
        np.testing.assert_array_equal(model.eta_s[i], s.eta_s)
        assert model.unserved[i] > np.max(
            model.cost[i], initial=0.0, where=np.isfinite(model.cost[i])
        )
    assert model.priority.tolist() == [c.priority for c in calls]


@given(rules=rule_sets, drawn_teams=teams_st(), drawn_calls=calls_st())
@PROPERTY
def test_greedy_is_the_matcher_one_call_at_a_time(city, rules, drawn_teams, drawn_calls):
    teams, calls, _, _ = build(city, drawn_teams, drawn_calls)
    matcher = Matcher(city.travel, rules)
    fleet = Fleet.from_teams(teams, city.travel)
    model = cost_model(matcher, calls, fleet)
    team_of_call = greedy(model, greedy_order(calls))
    for i in greedy_order(calls):
        rec = matcher.recommend(calls[i], fleet, explain=False)
        j = team_of_call[i]
        assert rec.team_id == (fleet.team_ids[j] if j >= 0 else None)
        if rec.team_id is not None:
            fleet.set_state(rec.team_id, dispatchable=False)


@given(
    rules=rule_sets,
    drawn_teams=teams_st(max_size=5),
    drawn_calls=calls_st(max_size=4),
)
@PROPERTY
def test_assignment_is_optimal_against_brute_force(city, rules, drawn_teams, drawn_calls):
    teams, calls, _, _ = build(city, drawn_teams, drawn_calls)
    matcher = Matcher(city.travel, rules)
    fleet = Fleet.from_teams(teams, city.travel)
    model = cost_model(matcher, calls, fleet)
    options = [-1, *range(len(fleet))]
    best = min(
        model.total(choice)
        for choice in itertools.product(options, repeat=len(calls))
        if len([j for j in choice if j >= 0]) == len({j for j in choice if j >= 0})
    )
    assert matcher.assign(calls, fleet).cost == pytest.approx(best, rel=1e-9)


@given(rules=rule_sets, drawn_teams=teams_st(), drawn_calls=calls_st())
@settings(max_examples=60, deadline=None)
def test_scipy_and_cpsat_reach_the_same_optimum(city, rules, drawn_teams, drawn_calls):
    teams, calls, node_of_team, node_of_call = build(city, drawn_teams, drawn_calls)
    matcher = Matcher(city.travel, rules)
    by_scipy = matcher.assign(calls, teams, solver="scipy")
    by_cpsat = matcher.assign(calls, teams, solver="cpsat")
    assert by_cpsat.solver == "cpsat"
    check_valid(city, rules, by_cpsat, teams, calls, node_of_team, node_of_call)
    # CP-SAT works on costs rounded to 0.01 s after weighting: at most 0.005 off per call.
    tolerance = 0.01 * len(calls) + 1e-9
    assert by_cpsat.cost == pytest.approx(by_scipy.cost, abs=tolerance)


@given(
    rules=rule_sets,
    drawn_teams=teams_st(),
    drawn_calls=calls_st(),
    reserve=st.integers(1, 3),
)
@settings(max_examples=60, deadline=None)
def test_reserve_keeps_co_responders_free_for_priority_1(
    city, rules, drawn_teams, drawn_calls, reserve
):
    teams, calls, node_of_team, node_of_call = build(city, drawn_teams, drawn_calls)
    matcher = Matcher(city.travel, rules)
    result = matcher.assign(calls, teams, reserve=reserve)
    assert result.solver == "cpsat"
    check_valid(city, rules, result, teams, calls, node_of_team, node_of_call)
    kind = {t.team_id: t.kind for t in teams}
    priority = {c.call_id: c.priority for c in calls}
    free_co = sum(t.kind is TeamKind.CO_RESPONDER and t.status.dispatchable for t in teams)
    taken = sum(
        kind[team_id] is TeamKind.CO_RESPONDER and priority[call_id] > 1
        for call_id, team_id in result.pairs
    )
    assert taken <= max(0, free_co - reserve)
    # A side constraint can only cost more than the unconstrained optimum.
    assert result.cost >= matcher.assign(calls, teams).cost - 0.01 * len(calls)


@given(rules=rule_sets, drawn_teams=teams_st(), drawn_calls=calls_st(), data=st.data())
@settings(max_examples=60, deadline=None)
def test_same_input_same_answer(city, rules, drawn_teams, drawn_calls, data):
    teams, calls, _, _ = build(city, drawn_teams, drawn_calls)
    matcher = Matcher(city.travel, rules)
    first = matcher.assign(calls, teams)
    assert matcher.assign(calls, teams) == first
    assert matcher.assign(calls, data.draw(st.permutations(teams))) == first
    assert matcher.assign(calls, teams, solver="cpsat") == matcher.assign(
        calls, teams, solver="cpsat"
    )


@given(rules=rule_sets, drawn_teams=teams_st(), drawn_calls=calls_st())
@settings(max_examples=60, deadline=None)
def test_specialist_only_never_sends_a_fallback(city, rules, drawn_teams, drawn_calls):
    teams, calls, _, _ = build(city, drawn_teams, drawn_calls)
    matcher = Matcher(city.travel, rules)
    fleet = Fleet.from_teams(teams, city.travel)
    result = matcher.assign(calls, fleet, specialist_only=True)
    call_by_id = {c.call_id: c for c in calls}
    for call_id, team_id in result.pairs:
        call = call_by_id[call_id]
        rec = matcher.recommend(call, [t for t in teams if t.team_id == team_id])
        assert rec.specialist, (call_id, team_id)


# -- pinned cases ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crossroads() -> TravelTimes:
    """Two teams at X and Y, two calls at A and B, with pinned times.

    X->A 100 s, Y->A 130 s, X->B 100 s, Y->B 1000 s; the way back from A and B is slow (5000 s),
    so no detour beats a direct road, and every place reaches every other.
    """
    G = nx.DiGraph()
    for name, (lat, lon) in {
        "X": (39.70, -105.00),
        "Y": (39.71, -105.00),
        "A": (39.70, -104.99),
        "B": (39.71, -104.99),
    }.items():
        G.add_node(name, y=lat, x=lon)
    for u, v, seconds in [("X", "A", 100), ("Y", "A", 130), ("X", "B", 100), ("Y", "B", 1000)]:
        G.add_edge(u, v, travel_time=float(seconds))
        G.add_edge(v, u, travel_time=5000.0)
    return TravelTimes.from_graph(G)


def crossroads_case() -> tuple[list[Call], list[Team]]:
    calls = [
        Call("A", 39.70, -104.99, priority=1),  # weight 8: dispatched first by greedy
        Call("B", 39.71, -104.99, priority=2),  # weight 4
    ]
    teams = [
        Team("X", TeamKind.CO_RESPONDER, 39.70, -105.00, cit=True),
        Team("Y", TeamKind.CO_RESPONDER, 39.71, -105.00, cit=True),
    ]
    return calls, teams


def test_joint_assignment_beats_greedy_on_a_pinned_case(crossroads):
    calls, teams = crossroads_case()
    matcher = Matcher(crossroads)
    fleet = Fleet.from_teams(teams, crossroads)
    model = cost_model(matcher, calls, fleet)
    greedy_choice = greedy(model, greedy_order(calls))
    assert [fleet.team_ids[j] for j in greedy_choice] == ["X", "Y"]
    assert model.total(greedy_choice) == 8 * 100 + 4 * 1000
    for solver in ("scipy", "cpsat"):
        result = matcher.assign(calls, teams, solver=solver)
        assert result.pairs == (("A", "Y"), ("B", "X"))
        assert result.eta_s == {"A": 130.0, "B": 100.0}
        assert result.cost == 8 * 130 + 4 * 100
        assert result.unassigned == ()


def test_reserve_holds_back_the_last_co_responder(crossroads):
    calls, teams = crossroads_case()
    calls = [replace(calls[0], priority=3), calls[1]]
    result = Matcher(crossroads).assign(calls, teams, reserve=1)
    # One of the two co-responders may go to a call below priority 1: the priority-2 call B
    # gets it, from X, the nearer team.
    assert result.pairs == (("B", "X"),)
    assert result.unassigned == ("A",)
    urgent = Matcher(crossroads).assign([replace(c, priority=1) for c in calls], teams, reserve=2)
    assert len(urgent.pairs) == 2  # priority-1 calls may take reserved teams


def test_unserved_calls_when_teams_run_out(crossroads):
    calls, teams = crossroads_case()
    result = Matcher(crossroads).assign(calls, teams[:1])
    assert result.pairs == (("A", "X"),)  # the higher-priority call is served
    assert result.unassigned == ("B",)


def test_no_calls_no_pairs(city):
    result = Matcher(city.travel).assign([], [Team("T", TeamKind.PATROL, *city.coords[0])])
    assert (result.pairs, result.unassigned, result.cost) == ((), (), 0.0)
    assert Matcher(city.travel).assign([], [], solver="cpsat").pairs == ()


def test_no_teams_leaves_every_call_unserved(city):
    calls = [Call("C1", *city.coords[0]), Call("C2", *city.coords[5])]
    result = Matcher(city.travel).assign(calls, [])
    assert result.unassigned == ("C1", "C2") and result.pairs == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"solver": "glpk"}, "unknown solver"),
        ({"reserve": -1}, "reserve"),
        ({"solver": "scipy", "reserve": 1}, "needs solver 'cpsat'"),
    ],
)
def test_bad_assign_arguments(city, kwargs, message):
    calls = [Call("C1", *city.coords[0])]
    with pytest.raises(InputError, match=message):
        Matcher(city.travel).assign(calls, [], **kwargs)


def test_duplicate_call_ids(city):
    calls = [Call("C1", *city.coords[0]), Call("C1", *city.coords[1])]
    with pytest.raises(InputError, match="duplicate call id 'C1'"):
        assign(Matcher(city.travel), calls, Fleet.from_teams([], city.travel))
