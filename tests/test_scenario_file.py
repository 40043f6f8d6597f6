"""Scenario files (TOML): loading, validation errors that name file and key, ``extends``, paths."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dispatch.errors import DispatchError, InputError
from dispatch.model import Shift, TeamKind
from dispatch.scenario_file import load_scenario
from dispatch.travel import StraightLineTimes

DATA = Path(__file__).parent / "data" / "scenarios"
BASE = DATA / "base" / "scenario.toml"
VARIANT = DATA / "variants" / "shorter_wait.toml"
BASE_TEXT = BASE.read_text(encoding="utf-8")


def write(tmp_path: Path, text: str, name: str = "scenario.toml") -> Path:
    """Write a scenario next to a copy of the base call log (``calls.csv``)."""
    shutil.copy(DATA / "base" / "calls.csv", tmp_path / "calls.csv")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def edited(old: str, new: str) -> str:
    assert old in BASE_TEXT, old
    return BASE_TEXT.replace(old, new, 1)


def load_error(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert str(path) in message, f"the error does not name the file: {message}"
    return message


# -- a valid file ----------------------------------------------------------------------------------
def test_valid_file_loads_into_a_resolved_scenario():
    sc = load_scenario(BASE)
    assert (sc.name, sc.seed, sc.replications, sc.timezone) == (
        "test base",
        3,
        2,
        "America/Chicago",
    )
    assert sc.source == BASE
    assert isinstance(sc.travel, StraightLineTimes)
    assert (sc.travel.speed_kph, sc.travel.circuity) == (36.0, 1.25)
    assert len(sc.calls) == 40
    assert str(sc.calls["received_at"].dt.tz) == "America/Chicago"
    assert [s.site_id for s in sc.stations] == ["hq", "south"]
    assert [f.site_id for f in sc.facilities] == ["psc"]
    day = Shift(8.0, 9.0)
    evening = Shift(16.5, 8.5, frozenset(range(5)))
    teams = {t.team_id: t for t in sc.teams}
    assert list(teams) == ["CR-day-1", "CR-day-2", "CR-eve", "clinician", "cit"]  # count = 2
    assert teams["CR-day-2"].kind is TeamKind.CO_RESPONDER
    assert teams["CR-day-2"].cit and teams["CR-day-2"].station_id == "hq"
    assert teams["CR-day-2"].shifts == (day,)
    assert not teams["CR-eve"].cit and teams["CR-eve"].shifts == (evening,)
    assert teams["clinician"].shifts == (day, evening)
    assert teams["cit"].shifts == ()  # no shift: around the clock
    # durations are minutes unless unit = "s"
    service = sc.service
    assert (service.processing.kind, service.processing.a) == ("fixed", 60.0)
    assert (service.turnout.kind, service.turnout.a) == ("fixed", 90.0)
    assert service.on_scene["welfare_check"].mean_s == 25 * 60.0
    assert service.on_scene["default"].quantile([0.5])[0] == pytest.approx(40 * 60.0)
    assert service.on_scene["default"].quantile([0.95])[0] == pytest.approx(120 * 60.0)
    assert service.transport_share == 0.4
    policy = sc.policy
    assert policy.fallback_after_min == 8.0 and policy.fallback == "pool"
    assert (policy.fallback_response.a, policy.fallback_response.b) == (360.0, 1080.0)
    assert policy.target_response_min == 15.0


def test_never_fall_back_means_no_fallback_timer(tmp_path: Path):
    path = write(tmp_path, edited("fallback_after_min = 8", "never_fall_back = true"))
    assert load_scenario(path).policy.fallback_after_min is None


# -- errors name the file and the key path ------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('name = "test base"', 'name = "test base"\ncolour = "red"', "colour"),
        ("fallback_after_min = 8", "fallback_afer_min = 8", "policy.fallback_afer_min"),
        ("circuity = 1.25", "circuity = 1.25\nspeed_mph = 20", "network.speed_mph"),
        ('shift = "day"', 'shfit = "day"', "teams.0.shfit"),
        (
            '{ dist = "fixed", value = 1 }',
            '{ dist = "fixed", vaule = 1 }',
            "service.processing.vaule",
        ),
        ('start = "08:00"', 'start = "08:00"\nbreak = 30', "shifts.day.break"),
    ],
)
def test_unknown_key_is_an_error_naming_file_and_key_path(tmp_path: Path, old, new, key):
    message = load_error(write(tmp_path, edited(old, new)))
    assert f"{key}: unknown key" in message


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("replications = 2", 'replications = "two"', "replications"),
        ("speed_kph = 36", 'speed_kph = "fast"', "network.speed_kph"),
        ("count = 2", 'count = "two"', "teams.0.count"),
        ("hours = 9", "hours = [9]", "shifts.day.hours"),
        ("transport_share = 0.4", "transport_share = 1.5", "service.transport_share"),
        ('kind = "clinician"', 'kind = "social_worker"', "teams.2.kind"),
    ],
)
def test_wrong_type_or_value_is_an_error_naming_the_key(tmp_path: Path, old, new, key):
    message = load_error(write(tmp_path, edited(old, new)))
    assert f"{key}:" in message


@pytest.mark.parametrize("clock", ["25:00", "24:00", "08:60", "8am", "08:00:00"])
def test_bad_shift_time_is_an_error(tmp_path: Path, clock: str):
    message = load_error(write(tmp_path, edited('start = "08:00"', f'start = "{clock}"')))
    assert "shifts.day.start" in message
    assert clock in message


def test_team_naming_a_missing_station_is_an_error(tmp_path: Path):
    text = edited('station = "south"\nshift = "evening"', 'station = "north"\nshift = "evening"')
    message = load_error(write(tmp_path, text))
    assert "CR-eve" in message and "'north'" in message and "does not exist" in message
    assert "hq" in message  # lists the stations there are


def test_team_naming_an_undefined_shift_is_an_error(tmp_path: Path):
    message = load_error(
        write(tmp_path, edited('shift = ["day", "evening"]', 'shift = ["day", "night"]'))
    )
    assert "clinician" in message and "'night'" in message and "not defined" in message


def test_unknown_time_zone_is_an_error(tmp_path: Path):
    message = load_error(write(tmp_path, edited('"America/Chicago"', '"America/Springfield"')))
    assert "timezone" in message and "America/Springfield" in message


def test_missing_file_and_invalid_toml_are_errors(tmp_path: Path):
    load_error(tmp_path / "nowhere.toml")
    message = load_error(write(tmp_path, BASE_TEXT + "\n[policy\n"))
    assert "TOML" in message


def test_transports_in_the_log_need_a_facility_even_with_transport_share_zero(tmp_path: Path):
    # The log marks some calls as transported: without a facility they could not be replayed.
    text = edited("transport_share = 0.4", "transport_share = 0.0")
    start = text.index("[[facilities]]")
    text = text[:start] + text[text.index("[[teams]]") :]
    message = load_error(write(tmp_path, text))
    assert "facilities" in message


def test_input_errors_are_dispatch_errors():
    assert issubclass(InputError, DispatchError)


# -- extends --------------------------------------------------------------------------------------
def test_extends_overrides_one_value_and_keeps_the_rest():
    base, variant = load_scenario(BASE), load_scenario(VARIANT)
    assert variant.policy.fallback_after_min == 3.0
    assert base.policy.fallback_after_min == 8.0
    assert variant.name == "test variant: fall back after 3 min"
    assert variant.teams == base.teams
    assert variant.stations == base.stations and variant.facilities == base.facilities
    assert variant.service == base.service
    assert (variant.seed, variant.replications, variant.timezone) == (3, 2, "America/Chicago")
    assert variant.policy.fallback_response == base.policy.fallback_response
    assert variant.calls.equals(base.calls)


def test_extends_replaces_lists_and_merges_tables(tmp_path: Path):
    child = write(
        tmp_path,
        f'extends = "{BASE.as_posix()}"\nname = "one team"\n\n[network]\nspeed_kph = 50\n\n'
        '[[teams]]\nid = "solo"\nkind = "co_responder"\nstation = "hq"\n',
        name="child.toml",
    )
    sc = load_scenario(child)
    assert [t.team_id for t in sc.teams] == ["solo"]  # lists are replaced, not appended
    assert (sc.travel.speed_kph, sc.travel.circuity) == (50.0, 1.25)  # tables merge by key


def test_circular_extends_is_an_error(tmp_path: Path):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text('extends = "b.toml"\nname = "a"\n', encoding="utf-8")
    b.write_text('extends = "a.toml"\nname = "b"\n', encoding="utf-8")
    message = load_error(a)
    assert "circular" in message and "a.toml" in message and "b.toml" in message
    itself = tmp_path / "self.toml"
    itself.write_text('extends = "self.toml"\nname = "self"\n', encoding="utf-8")
    assert "circular" in load_error(itself)


def test_extends_naming_a_missing_file_is_an_error(tmp_path: Path):
    child = write(tmp_path, 'extends = "missing.toml"\nname = "orphan"\n', name="child.toml")
    with pytest.raises(InputError, match=r"missing\.toml"):
        load_scenario(child)


# -- paths are relative to the file that names them ---------------------------------------------
def test_paths_are_relative_to_the_file_not_the_working_directory(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # the variant lives in another directory than the base, whose calls.path is "calls.csv"
    assert len(load_scenario(VARIANT).calls) == 40
    # a relative path to the scenario itself is read from the working directory
    shutil.copytree(DATA, tmp_path / "copy")
    assert len(load_scenario(Path("copy/variants/shorter_wait.toml")).calls) == 40


def test_a_child_path_is_relative_to_the_child(tmp_path: Path):
    (tmp_path / "logs").mkdir()
    lines = (DATA / "base" / "calls.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "logs" / "few.csv").write_text("\n".join(lines[:11]) + "\n", encoding="utf-8")
    (tmp_path / "scenarios").mkdir()
    child = tmp_path / "scenarios" / "child.toml"
    child.write_text(
        f'extends = "{BASE.as_posix()}"\nname = "ten calls"\n\n[calls]\npath = "../logs/few.csv"\n',
        encoding="utf-8",
    )
    assert len(load_scenario(child).calls) == 10


def test_overrides_merge_over_the_file():
    sc = load_scenario(BASE, overrides={"policy": {"fallback_after_min": 1.5}, "seed": 9})
    assert sc.policy.fallback_after_min == 1.5 and sc.seed == 9


def test_a_road_network_takes_its_cache_budget_from_the_file(tmp_path: Path):
    denver = Path(__file__).parent.parent / "scenarios" / "denver_downtown.toml"
    child = tmp_path / "child.toml"
    child.write_text(f'extends = "{denver.as_posix()}"\n\n[network]\ncache_mb = 64\n')
    default = load_scenario(denver).travel.cache_rows
    small = load_scenario(child).travel.cache_rows
    assert default is not None and small is not None
    assert small == pytest.approx(default / 4, rel=0.01)  # 256 MiB by default
    child.write_text(f'extends = "{denver.as_posix()}"\n\n[network]\ncache_mb = 0\n')
    with pytest.raises(InputError, match=r"network\.cache_mb"):
        load_scenario(child)
