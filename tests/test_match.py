"""The matcher, as a specification: who may go, who is sent, and why the others are not.

Properties run on random fleets and calls on the small `city` street grid (conftest), whose
whole-second edge times make every ETA exact and every tie a real tie. The reference answers
below are written straight from the rules' definition, without the matcher's arrays.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.errors import InputError, OutsideNetworkError
from dispatch.match import CitRule, Fleet, Matcher, RuleSet, Verdict, default_rules, load_rules
from dispatch.match.rules import TIER_GAP_S
from dispatch.model import Call, ReasonCode, RiskLevel, Team, TeamKind, TeamStatus
from dispatch.travel import TravelTimes

N_NODES = 36
FLAGS = ("weapon", "violence", "suicidal", "juvenile")
EXCLUDED = {Verdict.INELIGIBLE, Verdict.OFF_DUTY, Verdict.BUSY, Verdict.TOO_FAR}
CONTENDING = {Verdict.SLOWER, Verdict.LOWER_PREFERENCE}


# -- strategies ------------------------------------------------------------------------------


@st.composite
def teams_at_nodes(
    draw: st.DrawFn, min_size: int = 1, max_size: int = 12
) -> list[tuple[str, TeamKind, bool, TeamStatus, int]]:
    """Teams of random id, kind, CIT, status and node: ``(id, kind, cit, status, node)``."""
    ids = draw(
        st.lists(
            st.text("ABCXYZ0123", min_size=1, max_size=3),
            unique=True,
            min_size=min_size,
            max_size=max_size,
        )
    )
    out = []
    for team_id in ids:
        kind = draw(st.sampled_from(TeamKind))
        if kind is TeamKind.CLINICIAN:
            cit = False
        elif kind is TeamKind.CIT_OFFICER:
            cit = True
        else:
            cit = draw(st.booleans())
        status = draw(st.one_of(st.just(TeamStatus.AVAILABLE), st.sampled_from(TeamStatus)))
        node = draw(st.integers(0, N_NODES - 1))
        out.append((team_id, kind, cit, status, node))
    return out


calls_at_nodes = st.tuples(
    st.integers(0, N_NODES - 1),
    st.sampled_from(RiskLevel),
    st.frozensets(st.sampled_from(FLAGS), max_size=2),
    st.integers(1, 4),
)

rule_sets = st.builds(
    lambda max_travel_s, penalty_s: replace(
        default_rules(), max_travel_s=float(max_travel_s), non_cit_penalty_s=float(penalty_s)
    ),
    st.integers(150, 1500),
    st.integers(0, 300),
)


def make_teams(city, drawn) -> list[Team]:
    return [
        Team(team_id, kind, *city.coords[node], cit=cit, status=status)
        for team_id, kind, cit, status, node in drawn
    ]


def make_call(city, drawn, call_id: str = "C1") -> Call:
    node, risk, flags, priority = drawn
    return Call(call_id, *city.coords[node], risk=risk, flags=flags, priority=priority)


# -- reference rules, written out --------------------------------------------------------------


def effective_risk(rules: RuleSet, call: Call) -> RiskLevel:
    return RiskLevel.HIGH if call.flags & rules.escalate_flags else call.risk


def first_tier(rules: RuleSet, risk: RiskLevel, team: Team) -> int | None:
    """Index of the first tier the team fits, or None when it may not answer ``risk``."""
    for t, tier in enumerate(rules.tiers[risk]):
        if team.kind in tier.kinds and (tier.cit is not CitRule.REQUIRED or team.cit):
            return t
    return None


def penalty(rules: RuleSet, risk: RiskLevel, team: Team) -> float:
    t = first_tier(rules, risk, team)
    tier = rules.tiers[risk][t]
    return rules.non_cit_penalty_s if tier.cit is CitRule.PREFERRED and not team.cit else 0.0


def is_specialist(rules: RuleSet, risk: RiskLevel, team: Team) -> bool:
    t = first_tier(rules, risk, team)
    return t is not None and rules.tiers[risk][t].specialist


def may_go(rules: RuleSet, risk: RiskLevel, team: Team, eta: float) -> bool:
    return (
        team.status.dispatchable
        and first_tier(rules, risk, team) is not None
        and eta <= rules.max_travel_s
    )


def reference_choice(rules, risk, teams, etas) -> Team | None:
    """Best tier first, then ETA plus CIT penalty, then team id."""
    candidates = [
        (first_tier(rules, risk, t), etas[t.team_id] + penalty(rules, risk, t), t.team_id, t)
        for t in teams
        if may_go(rules, risk, t, etas[t.team_id])
    ]
    return min(candidates, key=lambda c: c[:3])[3] if candidates else None


def reference_reason(rules, risk, teams) -> ReasonCode:
    """The most hopeful state any specialist-eligible team is in."""
    specialists = [t for t in teams if is_specialist(rules, risk, t)]
    if not specialists:
        return ReasonCode.INELIGIBLE
    if any(t.status.dispatchable for t in specialists):
        return ReasonCode.TOO_FAR
    if any(t.on_duty for t in specialists):
        return ReasonCode.ALL_BUSY
    return ReasonCode.OFF_SHIFT


def situation(city, rules, drawn_teams, drawn_call):
    teams = make_teams(city, drawn_teams)
    call = make_call(city, drawn_call)
    node_of = {d[0]: d[4] for d in drawn_teams}
    etas = {t.team_id: city.eta(node_of[t.team_id], drawn_call[0]) for t in teams}
    return teams, call, etas


PROPERTY = settings(max_examples=120, deadline=None)


# -- properties --------------------------------------------------------------------------------


@given(rules=rule_sets, drawn_teams=teams_at_nodes(), drawn_call=calls_at_nodes)
@PROPERTY
def test_recommended_team_may_go(city, rules, drawn_teams, drawn_call):
    teams, call, etas = situation(city, rules, drawn_teams, drawn_call)
    rec = Matcher(city.travel, rules).recommend(call, teams)
    risk = effective_risk(rules, call)
    assert rec.risk is risk
    if rec.team_id is None:
        assert rec.eta_s is None and rec.tier is None and not rec.specialist
        assert not any(may_go(rules, risk, t, etas[t.team_id]) for t in teams)
        return
    team = next(t for t in teams if t.team_id == rec.team_id)
    assert team.on_duty
    assert team.status in (TeamStatus.AVAILABLE, TeamStatus.RETURNING)
    assert first_tier(rules, risk, team) is not None
    assert rec.eta_s <= rules.max_travel_s
    assert rec.tier == rules.tiers[risk][first_tier(rules, risk, team)].label()


@given(rules=rule_sets, drawn_teams=teams_at_nodes(), drawn_call=calls_at_nodes)
@PROPERTY
def test_eta_is_the_networkx_shortest_path_time(city, rules, drawn_teams, drawn_call):
    teams, call, etas = situation(city, rules, drawn_teams, drawn_call)
    rec = Matcher(city.travel, rules).recommend(call, teams)
    if rec.team_id is not None:
        assert rec.eta_s == etas[rec.team_id]
    for alternative in rec.alternatives:
        assert alternative.eta_s == etas[alternative.team_id]


@given(rules=rule_sets, drawn_teams=teams_at_nodes(), drawn_call=calls_at_nodes)
@PROPERTY
def test_choice_is_best_tier_then_fastest_then_team_id(city, rules, drawn_teams, drawn_call):
    teams, call, etas = situation(city, rules, drawn_teams, drawn_call)
    rec = Matcher(city.travel, rules).recommend(call, teams)
    expected = reference_choice(rules, effective_risk(rules, call), teams, etas)
    assert rec.team_id == (expected.team_id if expected else None)


@given(rules=rule_sets, drawn_teams=teams_at_nodes(), drawn_call=calls_at_nodes)
@PROPERTY
def test_a_specialist_is_sent_whenever_one_can_go(city, rules, drawn_teams, drawn_call):
    teams, call, etas = situation(city, rules, drawn_teams, drawn_call)
    rec = Matcher(city.travel, rules).recommend(call, teams)
    risk = effective_risk(rules, call)
    if any(
        is_specialist(rules, risk, t) and may_go(rules, risk, t, etas[t.team_id]) for t in teams
    ):
        assert rec.specialist
        assert rec.reason is None
        assert is_specialist(rules, risk, next(t for t in teams if t.team_id == rec.team_id))
    else:
        assert not rec.specialist
        assert rec.reason is reference_reason(rules, risk, teams)


@given(
    rules=rule_sets,
    drawn_teams=teams_at_nodes(),
    drawn_call=calls_at_nodes,
    data=st.data(),
)
@PROPERTY
def test_same_input_same_answer_in_any_team_order(city, rules, drawn_teams, drawn_call, data):
    teams, call, _ = situation(city, rules, drawn_teams, drawn_call)
    matcher = Matcher(city.travel, rules)
    first = matcher.recommend(call, teams)
    assert matcher.recommend(call, teams) == first
    assert Matcher(city.travel, rules).recommend(call, list(teams)) == first
    shuffled = data.draw(st.permutations(teams))
    again = matcher.recommend(call, shuffled)
    assert (again.team_id, again.eta_s, again.reason) == (first.team_id, first.eta_s, first.reason)
    assert again == first  # alternatives too: ties break on team id, not input order


@given(rules=rule_sets, drawn_teams=teams_at_nodes(), drawn_call=calls_at_nodes)
@PROPERTY
def test_explanation_lists_the_chosen_team_first_and_true_verdicts(
    city, rules, drawn_teams, drawn_call
):
    teams, call, etas = situation(city, rules, drawn_teams, drawn_call)
    matcher = Matcher(city.travel, rules, alternatives=3)
    rec = matcher.recommend(call, teams)
    risk = effective_risk(rules, call)
    by_id = {t.team_id: t for t in teams}
    rows = rec.alternatives
    assert len({a.team_id for a in rows}) == len(rows)
    if rec.team_id is not None:
        assert rows[0].team_id == rec.team_id and rows[0].verdict is Verdict.CHOSEN
        assert rows[0].eta_s == rec.eta_s
        rows = rows[1:]
    assert all(a.verdict is not Verdict.CHOSEN for a in rows)
    contenders = [a for a in rows if a.verdict in CONTENDING]
    excluded = [a for a in rows if a.verdict in EXCLUDED]
    assert len(contenders) + len(excluded) == len(rows)
    assert len(contenders) <= 3 and len(excluded) <= 3
    chosen_tier = first_tier(rules, risk, by_id[rec.team_id]) if rec.team_id else None
    for a in contenders:
        team = by_id[a.team_id]
        assert a.kind is team.kind
        assert may_go(rules, risk, team, etas[a.team_id])
        same_tier = first_tier(rules, risk, team) == chosen_tier
        assert a.verdict is (Verdict.SLOWER if same_tier else Verdict.LOWER_PREFERENCE)
    for a in excluded:
        team = by_id[a.team_id]
        assert a.kind is team.kind
        if first_tier(rules, risk, team) is None:
            assert a.verdict is Verdict.INELIGIBLE
        elif not team.on_duty:
            assert a.verdict is Verdict.OFF_DUTY
        elif not team.status.dispatchable:
            assert a.verdict is Verdict.BUSY
        else:
            assert a.verdict is Verdict.TOO_FAR
            assert etas[a.team_id] > rules.max_travel_s
    # Listed contenders are the best of those that could go (by tier, ETA + penalty, id).
    could_go = sorted(
        (
            (first_tier(rules, risk, t), etas[t.team_id] + penalty(rules, risk, t), t.team_id)
            for t in teams
            if may_go(rules, risk, t, etas[t.team_id]) and t.team_id != rec.team_id
        ),
    )
    assert [a.team_id for a in contenders] == [c[2] for c in could_go[:3]]
    # The explanation reads: a header naming the chosen team, one line per alternative.
    text = rec.explain()
    assert text.count("\n") == len(rec.alternatives)
    assert (rec.team_id or "no team can go") in text.splitlines()[0]


@given(rules=rule_sets, drawn_teams=teams_at_nodes(), drawn_call=calls_at_nodes)
@PROPERTY
def test_explain_false_gives_the_same_choice_without_alternatives(
    city, rules, drawn_teams, drawn_call
):
    teams, call, _ = situation(city, rules, drawn_teams, drawn_call)
    matcher = Matcher(city.travel, rules)
    full = matcher.recommend(call, teams)
    bare = matcher.recommend(call, teams, explain=False)
    assert bare.alternatives == ()
    assert replace(full, alternatives=()) == bare
    fleet = Fleet.from_teams(teams, city.travel)
    choice = matcher.best(city.travel.snap(call.lat, call.lon), bare.risk, fleet)
    assert (fleet.team_ids[choice.row] if choice.row >= 0 else None) == bare.team_id
    assert choice.reason == bare.reason


# -- reason codes on pinned cases --------------------------------------------------------------


def far_node(city, call_node: int, at_least_s: float) -> int:
    """A node whose trip to ``call_node`` takes at least ``at_least_s`` but has a path."""
    return next(n for n in range(N_NODES) if at_least_s <= city.eta(n, call_node) < math.inf)


def team(city, team_id, kind, node, **kwargs) -> Team:
    cit = kwargs.pop("cit", kind is TeamKind.CIT_OFFICER)
    return Team(team_id, kind, *city.coords[node], cit=cit, **kwargs)


def test_reason_ineligible_when_no_team_of_an_allowed_kind_exists(city):
    call = Call("C1", *city.coords[14], risk=RiskLevel.HIGH)
    rec = Matcher(city.travel).recommend(call, [team(city, "M1", TeamKind.CLINICIAN, 14)])
    assert (rec.team_id, rec.reason, rec.specialist) == (None, ReasonCode.INELIGIBLE, False)
    assert rec.alternatives[0].verdict is Verdict.INELIGIBLE
    assert "may not take high-risk calls" in rec.alternatives[0].detail


def test_reason_ineligible_with_a_fallback_sent(city):
    call = Call("C1", *city.coords[14])
    rec = Matcher(city.travel).recommend(call, [team(city, "P1", TeamKind.PATROL, 15)])
    assert (rec.team_id, rec.reason, rec.specialist) == ("P1", ReasonCode.INELIGIBLE, False)
    assert rec.tier == "patrol"


def test_weapon_flag_makes_a_call_high_risk_and_uncertified_co_responders_ineligible(city):
    call = Call("C1", *city.coords[14], risk=RiskLevel.LOW, flags=frozenset({"weapon"}))
    teams = [
        team(city, "CR1", TeamKind.CO_RESPONDER, 14, cit=False),
        team(city, "M1", TeamKind.CLINICIAN, 14),
        team(city, "CIT1", TeamKind.CIT_OFFICER, 15),
    ]
    rec = Matcher(city.travel).recommend(call, teams)
    assert rec.risk is RiskLevel.HIGH
    assert (rec.team_id, rec.reason) == ("CIT1", ReasonCode.INELIGIBLE)
    verdicts = {a.team_id: (a.verdict, a.detail) for a in rec.alternatives}
    assert verdicts["CR1"] == (
        Verdict.INELIGIBLE,
        "high-risk calls need a CIT-certified co_responder",
    )
    assert verdicts["M1"][0] is Verdict.INELIGIBLE


def test_reason_off_shift(city):
    call = Call("C1", *city.coords[14])
    teams = [
        team(city, "CR1", TeamKind.CO_RESPONDER, 14, status=TeamStatus.OFF_DUTY),
        team(city, "P1", TeamKind.PATROL, 20),
    ]
    rec = Matcher(city.travel).recommend(call, teams)
    assert (rec.team_id, rec.reason) == ("P1", ReasonCode.OFF_SHIFT)
    assert rec.alternatives[1].verdict is Verdict.OFF_DUTY


def test_reason_all_busy_beats_off_shift(city):
    call = Call("C1", *city.coords[14])
    teams = [
        team(city, "CR1", TeamKind.CO_RESPONDER, 14, status=TeamStatus.ON_SCENE),
        team(city, "CR2", TeamKind.CO_RESPONDER, 14, status=TeamStatus.OFF_DUTY),
        team(city, "CR3", TeamKind.CO_RESPONDER, 14, status=TeamStatus.EN_ROUTE),
    ]
    rec = Matcher(city.travel).recommend(call, teams)
    assert (rec.team_id, rec.reason) == (None, ReasonCode.ALL_BUSY)
    assert {a.team_id: a.verdict for a in rec.alternatives} == {
        "CR1": Verdict.BUSY,
        "CR2": Verdict.OFF_DUTY,
        "CR3": Verdict.BUSY,
    }


def test_reason_too_far_beats_all_busy(city):
    rules = replace(default_rules(), max_travel_s=200.0)
    far = far_node(city, 14, 400.0)
    call = Call("C1", *city.coords[14])
    teams = [
        team(city, "CR1", TeamKind.CO_RESPONDER, far, cit=True),
        team(city, "CR2", TeamKind.CO_RESPONDER, 14, status=TeamStatus.TRANSPORTING),
        team(city, "P1", TeamKind.PATROL, 14),
    ]
    rec = Matcher(city.travel, rules).recommend(call, teams)
    assert (rec.team_id, rec.reason, rec.eta_s) == ("P1", ReasonCode.TOO_FAR, 0.0)
    too_far = next(a for a in rec.alternatives if a.team_id == "CR1")
    assert too_far.verdict is Verdict.TOO_FAR and "exceeds the 3.3 min limit" in too_far.detail


def test_unreachable_team_is_too_far(city):
    short = TravelTimes.from_graph(city.G, cutoff_s=60.0)  # searches stop after a minute
    far = far_node(city, 14, 300.0)
    rec = Matcher(short).recommend(
        Call("C1", *city.coords[14]), [team(city, "CR1", TeamKind.CO_RESPONDER, far)]
    )
    assert (rec.team_id, rec.reason) == (None, ReasonCode.TOO_FAR)
    assert rec.alternatives[0].eta_s == math.inf
    assert "unreachable" in rec.explain()


def test_returning_team_may_be_sent_and_cit_penalty_decides(city):
    far = far_node(city, 14, 200.0)
    eta_far = city.eta(far, 14)
    call = Call("C1", *city.coords[14])
    teams = [
        team(city, "CR-near", TeamKind.CO_RESPONDER, 14, cit=False, status="returning"),
        team(city, "CR-far", TeamKind.CO_RESPONDER, far, cit=True),
    ]
    small = replace(default_rules(), non_cit_penalty_s=eta_far - 1)
    large = replace(default_rules(), non_cit_penalty_s=eta_far + 1)
    assert Matcher(city.travel, small).recommend(call, teams).team_id == "CR-near"
    rec = Matcher(city.travel, large).recommend(call, teams)
    assert rec.team_id == "CR-far"
    assert rec.alternatives[1].verdict is Verdict.SLOWER
    assert "for no CIT certification" in rec.alternatives[1].detail


def test_fleet_state_updates_change_the_answer(city):
    teams = [team(city, "A", TeamKind.CO_RESPONDER, 14), team(city, "B", TeamKind.CO_RESPONDER, 0)]
    fleet = Fleet.from_teams(teams, city.travel)
    matcher = Matcher(city.travel)
    call = Call("C1", *city.coords[14])
    assert matcher.recommend(call, fleet).team_id == "A"
    fleet.set_state("A", dispatchable=False)
    assert matcher.recommend(call, fleet).team_id == "B"
    fleet.set_state("A", place=14, dispatchable=True)
    fleet.set_state("B", place=14)
    assert matcher.recommend(call, fleet).team_id == "A"  # tie on ETA: lower id
    fleet.set_state("A", on_duty=False, dispatchable=True)  # off duty is never dispatchable
    assert not fleet.dispatchable[fleet.index["A"]]
    assert matcher.recommend(call, fleet).team_id == "B"
    with pytest.raises(InputError, match="unknown team id"):
        fleet.set_state("Z", dispatchable=False)


def test_specialist_only_never_sends_a_fallback(city):
    fleet = Fleet.from_teams([team(city, "P1", TeamKind.PATROL, 14)], city.travel)
    matcher = Matcher(city.travel)
    assert matcher.best(14, RiskLevel.STANDARD, fleet).row == 0
    choice = matcher.best(14, RiskLevel.STANDARD, fleet, specialist_only=True)
    assert (choice.row, choice.reason) == (-1, ReasonCode.INELIGIBLE)


# -- bad input ---------------------------------------------------------------------------------


def test_unknown_team_kind_is_an_input_error():
    with pytest.raises(InputError, match="unknown team kind 'dog'"):
        Team("T1", "dog", 39.7, -105.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "cit", "message"),
    [
        (TeamKind.CIT_OFFICER, False, "must be CIT certified"),
        (TeamKind.CLINICIAN, True, "no officer"),
    ],
)
def test_cit_flag_must_fit_the_kind(kind, cit, message):
    with pytest.raises(InputError, match=message):
        Team("T1", kind, 39.7, -105.0, cit=cit)


def test_swapped_latitude_and_longitude_is_an_input_error():
    with pytest.raises(InputError, match="swapped"):
        Call("C1", -105.0, 39.7)
    with pytest.raises(InputError, match="swapped"):
        Team("T1", TeamKind.PATROL, -105.0, 39.7)


def test_call_outside_the_network(city):
    team_list = [team(city, "A", TeamKind.CO_RESPONDER, 14)]
    with pytest.raises(OutsideNetworkError, match="km from the nearest road node"):
        Matcher(city.travel).recommend(Call("C1", 40.5, -105.0), team_list)


def test_empty_fleet_gives_no_team_and_reason_ineligible(city):
    rec = Matcher(city.travel).recommend(Call("C1", *city.coords[3]), [])
    assert (rec.team_id, rec.eta_s, rec.reason, rec.alternatives) == (
        None,
        None,
        ReasonCode.INELIGIBLE,
        (),
    )
    assert "no team can go" in rec.explain()


def test_duplicate_team_ids_are_an_input_error(city):
    teams = [team(city, "A", TeamKind.CO_RESPONDER, 1), team(city, "A", TeamKind.PATROL, 2)]
    with pytest.raises(InputError, match="duplicate team id 'A'"):
        Matcher(city.travel).recommend(Call("C1", *city.coords[3]), teams)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"priority": 0}, "priority"),
        ({"risk": "extreme"}, "unknown risk"),
        ({"call_id": ""}, "call_id"),
        ({"lat": float("nan")}, "latitude"),
    ],
)
def test_bad_calls_are_input_errors(kwargs, message):
    fields = {"call_id": "C1", "lat": 39.7, "lon": -105.0, **kwargs}
    with pytest.raises(InputError, match=message):
        Call(**fields)


# -- rules from TOML -----------------------------------------------------------------------------

STRICT = """
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


def test_rules_from_toml_change_the_choice(tmp_path, city):
    path = tmp_path / "strict.toml"
    path.write_text(STRICT, encoding="utf-8")
    rules = load_rules(path)
    assert rules.name == "strict" and rules.max_travel_s == 1800.0
    far = far_node(city, 14, 200.0)
    call = Call("C1", *city.coords[14])
    teams = [
        team(city, "CR-near", TeamKind.CO_RESPONDER, 14, cit=False),
        team(city, "CR-far", TeamKind.CO_RESPONDER, far, cit=True),
    ]
    assert Matcher(city.travel).recommend(call, teams).team_id == "CR-near"
    strict = Matcher(city.travel, rules).recommend(call, teams)
    assert strict.team_id == "CR-far"
    near = next(a for a in strict.alternatives if a.team_id == "CR-near")
    assert near.verdict is Verdict.INELIGIBLE


def test_rules_from_toml_can_let_clinicians_take_standard_calls(tmp_path, city):
    path = tmp_path / "clinician-first.toml"
    path.write_text(
        STRICT.replace(
            '[[risk.standard]]\nkinds = ["co_responder"]\ncit = "required"',
            '[[risk.standard]]\nkinds = ["clinician"]\nname = "mobile crisis"',
        ),
        encoding="utf-8",
    )
    far = far_node(city, 14, 200.0)
    teams = [
        team(city, "CR1", TeamKind.CO_RESPONDER, 14, cit=True),
        team(city, "M1", TeamKind.CLINICIAN, far),
    ]
    call = Call("C1", *city.coords[14])
    assert Matcher(city.travel).recommend(call, teams).team_id == "CR1"
    rec = Matcher(city.travel, load_rules(path)).recommend(call, teams)
    assert (rec.team_id, rec.tier, rec.specialist) == ("M1", "mobile crisis", True)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: "max_travel_minutes = 10\n" + s, "unknown key"),
        (lambda s: s.replace('cit = "required"', 'cit = "required"\ncolour = "red"', 1), "unknown"),
        (lambda s: s.replace("max_travel_s = 1800", 'max_travel_s = "fast"'), "max_travel_s"),
        (lambda s: s.replace("max_travel_s = 1800", "max_travel_s = -5"), "max_travel_s"),
        (lambda s: s.replace("max_travel_s = 1800", "max_travel_s = 2e6"), "max_travel_s"),
        (lambda s: "non_cit_penalty_s = -1\n" + s, "non_cit_penalty_s"),
        (lambda s: 'escalate_flags = "weapon"\n' + s, "escalate_flags"),
        (lambda s: "priority_weights = {1 = 8, 2 = 4}\n" + s, "priority_weights"),
        (lambda s: 'priority_weights = {1 = 8, 2 = 4, 3 = "x", 4 = 1}\n' + s, "priority_weights"),
        (lambda s: s.replace('cit = "required"', 'cit = "sometimes"', 1), "'cit'"),
        (lambda s: s.replace('kinds = ["patrol"]', 'kinds = ["dog"]'), "unknown team kind"),
        (lambda s: s.replace('kinds = ["patrol"]', 'kinds = "patrol"'), "'kinds'"),
        (lambda s: s.replace("specialist = false", 'specialist = "no"'), "'specialist'"),
        (lambda s: s.replace("[[risk.high]]", "[[risk.extreme]]"), "unknown risk"),
        (lambda s: s.replace("[[risk.low]]", "[[risk.lowish]]"), "risk"),
        (lambda s: s.split("[[risk.high]]")[0], "risk"),
        (lambda s: s + "[[[", "not valid TOML"),
    ],
)
def test_bad_rule_files_are_input_errors_naming_the_file(tmp_path, edit, message):
    path = tmp_path / "rules.toml"
    path.write_text(edit(STRICT), encoding="utf-8")
    with pytest.raises(InputError, match=message) as error:
        load_rules(path)
    assert str(path) in str(error.value)


def test_missing_rule_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_rules(tmp_path / "nope.toml")


def test_default_rules_follow_the_design():
    rules = default_rules()
    tiers = {
        risk: [(t.kinds, t.cit, t.specialist) for t in rules.tiers[risk]] for risk in RiskLevel
    }
    co, clin = TeamKind.CO_RESPONDER, TeamKind.CLINICIAN
    assert tiers[RiskLevel.HIGH][0] == ((co,), CitRule.REQUIRED, True)
    assert tiers[RiskLevel.STANDARD][0] == ((co,), CitRule.PREFERRED, True)
    assert tiers[RiskLevel.LOW][0] == ((clin, co), CitRule.ANY, True)
    for risk in RiskLevel:
        assert [k for k, _, s in tiers[risk][1:] if not s] == [
            (TeamKind.CIT_OFFICER,),
            (TeamKind.PATROL,),
        ]
    assert rules.max_travel_s + rules.non_cit_penalty_s < TIER_GAP_S


def test_alternatives_with_equal_etas_are_listed_by_team_id(city):
    # Twenty teams on two corners, alternating: equal ETAs in each group, so among equals the
    # lower team id is listed first, whatever the input order.
    def layout(status: TeamStatus, prefix: str) -> list[Team]:
        return [
            team(
                city,
                f"{prefix}{k:02d}",
                TeamKind.CO_RESPONDER,
                14 if k % 2 else 15,
                cit=True,
                status=status,
            )
            for k in range(20)
        ]

    call = Call("C1", *city.coords[14])
    busy = Matcher(city.travel, alternatives=3).recommend(call, layout(TeamStatus.ON_SCENE, "B"))
    assert [a.team_id for a in busy.alternatives] == ["B01", "B03", "B05"]
    free = layout(TeamStatus.AVAILABLE, "T")
    rec = Matcher(city.travel, alternatives=3).recommend(call, free[::-1])
    assert [(a.team_id, a.verdict) for a in rec.alternatives] == [
        ("T01", Verdict.CHOSEN),
        ("T03", Verdict.SLOWER),
        ("T05", Verdict.SLOWER),
        ("T07", Verdict.SLOWER),
    ]
