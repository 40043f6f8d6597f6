"""NENA EIDO intake (`dispatch.live.eido`): sample documents, errors, tables, priorities."""

from __future__ import annotations

import copy
import json
import pickle
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.errors import InputError
from dispatch.live.eido import (
    EidoCall,
    EidoError,
    IncidentType,
    IncidentTypeTable,
    parse_eido,
    pidf_lo_position,
    priority_from_common,
)
from dispatch.model import RISK_LEVELS, Call

DATA = Path(__file__).parent / "data" / "eido"
CDT = timezone(timedelta(hours=-5))
GML = 'xmlns:gml="http://www.opengis.net/gml"'


def sample(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return document


def point(lat: float | str, lon: float | str) -> str:
    return (
        f'<presence xmlns="urn:ietf:params:xml:ns:pidf" {GML}><gml:Point>'
        f"<gml:pos>{lat} {lon}</gml:pos></gml:Point></presence>"
    )


def minimal(**incident: Any) -> dict[str, Any]:
    """The smallest EIDO that parses: an id, an incident with a timestamp and code, a point."""
    return {
        "$id": "urn:emergency:uid:incidentid:1:psap.example.org",
        "incidentComponent": {
            "lastUpdateTimeStamp": "2025-01-01T00:00:00Z",
            "incidentTypeCommonRegistryText": "EDP",
            **incident,
        },
        "locationComponent": [{"locationByValue": point(38.6, -90.2)}],
    }


def error_of(document: Any, table: IncidentTypeTable | None = None) -> EidoError:
    with pytest.raises(EidoError) as info:
        parse_eido(document, table)
    return info.value


# --- the samples ------------------------------------------------------------------------------


def test_well_formed_sample() -> None:
    call = parse_eido(sample("well_formed.json"))
    assert call == EidoCall(
        call_id="urn:emergency:uid:incidentid:a1f0000001:psap.example.org",
        received_at=datetime(2025, 3, 14, 9, 26, 30, tzinfo=CDT),
        lat=38.627003,
        lon=-90.199402,
        call_type="suicidal",
        priority=2,  # common priority 8
        risk="high",
        flags=("weapon",),  # "Subject has access to a firearm"
        incident_code="SUICTHRT",
    )
    assert call.received_at.utcoffset() == timedelta(hours=-5)


def test_broken_pidf_sample_is_read_tolerantly() -> None:
    document = sample("broken_pidf.json")
    pidf = document["locationComponent"][0]["locationByValue"]
    with pytest.raises(ET.ParseError):
        ET.fromstring(pidf)  # really not well-formed: the fallback scanner is what reads it
    call = parse_eido(document)
    assert (call.lat, call.lon) == (38.581201, -90.262455)
    assert call.received_at == datetime(2025, 3, 14, 16, 1, 5, 250000, tzinfo=UTC)
    assert (call.call_type, call.risk, call.priority, call.flags) == (
        "mental_health",
        "standard",
        2,  # no priority number: the table's priority for EDP
        (),
    )
    assert call.incident_code == "EDP"


def test_missing_position_sample() -> None:
    error = error_of(sample("missing_position.json"))
    assert (error.component, error.index, error.field) == (
        "locationComponent",
        1,
        "locationByValue",
    )
    message = str(error)
    assert message.startswith("locationComponent[1].locationByValue: missing")
    assert "locationByReferenceUrl" in message  # the CurrentIncident entry is tried first
    assert "[0] locationByValue: no gml:pos position found" in message
    assert "\n" not in message


def test_code_list_sample_takes_the_first_known_code() -> None:
    call = parse_eido(sample("code_list.json"))
    assert call.incident_code == "MTLV"  # FIGHT comes first but the table does not know it
    assert (call.call_type, call.risk, call.priority) == ("mental_health", "high", 1)
    assert call.flags == ("violence", "weapon")  # MTLV's own flag, and WEAPON in the list
    assert (call.lat, call.lon) == (38.65532, -90.294871)


def test_circle_sample_skips_staging() -> None:
    call = parse_eido(sample("circle.json"))
    assert (call.lat, call.lon) == (38.60893, -90.23217)  # not the Staging point first
    assert call.incident_code == "OD"  # "od" normalised
    assert (call.call_type, call.risk, call.priority) == ("substance_use", "standard", 1)
    assert call.received_at == datetime(2025, 3, 15, 2, 14, 30, tzinfo=CDT)


def test_samples_make_valid_calls() -> None:
    for name in ("well_formed.json", "broken_pidf.json", "code_list.json", "circle.json"):
        eido = parse_eido(sample(name))
        call = Call(
            eido.call_id,
            eido.lat,
            eido.lon,
            call_type=eido.call_type,
            priority=eido.priority,
            risk=eido.risk,  # type: ignore[arg-type]  # Call converts a risk value
            flags=frozenset(eido.flags),
        )
        assert call.risk.value == eido.risk


# --- wrappers and tolerance -------------------------------------------------------------------


def test_json_text_and_bytes() -> None:
    document = sample("well_formed.json")
    expected = parse_eido(document)
    assert parse_eido(json.dumps(document)) == expected
    assert parse_eido(json.dumps(document).encode()) == expected


@pytest.mark.parametrize(
    "wrap",
    [
        lambda e: {"eido": e},
        lambda e: {"requestForService": {"requestId": "r1", "eido": e}},
        lambda e: {"event": {"subscriptionId": "s", "transactionId": "t", "notification": [e]}},
    ],
    ids=["eido", "requestForService", "event"],
)
def test_wrappers(wrap: Any) -> None:
    document = sample("circle.json")
    assert parse_eido(wrap(document)) == parse_eido(document)


def test_event_with_two_eidos_is_refused() -> None:
    e = sample("circle.json")
    error = error_of({"event": {"notification": [e, e]}})
    assert (error.component, error.field) == ("event", "notification")
    assert "one at a time" in str(error)


def test_extra_members_are_ignored_and_input_is_not_changed() -> None:
    document = minimal(somethingNew={"x": [1, 2]})
    document["vendorExtension"] = {"a": 1}
    before = copy.deepcopy(document)
    assert parse_eido(document).call_type == "mental_health"
    assert document == before


def test_location_information_component_name_and_single_entry() -> None:
    document = minimal()
    entries = document.pop("locationComponent")
    document["locationInformationComponent"] = entries[0]  # one object, not a list
    call = parse_eido(document)
    assert (call.lat, call.lon) == (38.6, -90.2)


def test_incident_component_id_when_the_eido_has_none() -> None:
    document = minimal()
    del document["$id"]
    document["incidentComponent"]["$id"] = "urn:emergency:uid:eidodatacomponent:9:psap.example.org"
    assert parse_eido(document).call_id == "urn:emergency:uid:eidodatacomponent:9:psap.example.org"


def test_eido_timestamp_when_the_incident_has_none() -> None:
    document = minimal()
    del document["incidentComponent"]["lastUpdateTimeStamp"]
    document["lastUpdateTimeStamp"] = "2025-06-01T12:00:00+02:00"
    received = parse_eido(document).received_at
    assert received == datetime(2025, 6, 1, 10, 0, tzinfo=UTC)


def test_location_order_prefers_current_incident() -> None:
    document = minimal()
    document["locationComponent"] = [
        {"locationTypeDescriptionRegistryText": "Caller", "locationByValue": point(1, 1)},
        {"locationTypeDescriptionRegistryText": "InitialIncident", "locationByValue": point(2, 2)},
        {"locationTypeDescriptionRegistryText": "CurrentIncident", "locationByValue": point(3, 3)},
        {"locationTypeDescriptionRegistryText": "UnitLocation", "locationByValue": point(4, 4)},
    ]
    assert parse_eido(document).lat == 3
    del document["locationComponent"][2]
    assert parse_eido(document).lat == 2
    del document["locationComponent"][1]
    assert parse_eido(document).lat == 1
    del document["locationComponent"][0]
    error = error_of(document)
    assert (error.component, error.field) == (
        "locationComponent",
        "locationTypeDescriptionRegistryText",
    )


# --- PIDF-LO ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pidf", "expected"),
    [
        (point(38.5, -90.25), (38.5, -90.25)),
        ("<gml:Point><gml:pos>38.5 -90.25</gml:pos></gml:Point>", (38.5, -90.25)),  # no xmlns
        ("<Point><pos>\n\t38.5\n -90.25 \n</pos></Point>", (38.5, -90.25)),  # no prefix
        ("<gml:Point><gml:pos>38.5 -90.25 152.4</gml:pos></gml:Point>", (38.5, -90.25)),  # 3D
        ("<gml:Point><gml:pos>38.5,-90.25</gml:pos></gml:Point>", (38.5, -90.25)),
        ("<x:Point><x:pos srsDimension='2'>38.5 -90.25</x:pos>", (38.5, -90.25)),  # unclosed
        ("<gml:Point><gml:pos>38.5 -90.25", (38.5, -90.25)),  # cut off
        (f"<a {GML}><gml:pos>38.5 -90.25</gml:pos></a>", (38.5, -90.25)),  # no shape at all
        ("<p>&nbsp;<gml:pos>38.5 -90.25</gml:pos></p>", (38.5, -90.25)),  # unknown entity
        (
            '<!DOCTYPE p [<!ENTITY e "x">]><p><gml:Point><gml:pos>38.5 -90.25</gml:pos>'
            "</gml:Point></p>",
            (38.5, -90.25),
        ),
        (
            f'<p {GML} xmlns:gs="http://www.opengis.net/pidflo/1.0"><gs:Ellipse>'
            "<gml:pos>38.5 -90.25</gml:pos><gs:semiMajorAxis>10</gs:semiMajorAxis>"
            "</gs:Ellipse></p>",
            (38.5, -90.25),
        ),
        (  # a polygon's vertices are skipped, the point after it is read
            f"<p {GML}><gml:Polygon><gml:exterior><gml:LinearRing><gml:pos>1 1</gml:pos>"
            "<gml:pos>1 2</gml:pos><gml:pos>2 2</gml:pos></gml:LinearRing></gml:exterior>"
            "</gml:Polygon><gml:Point><gml:pos>38.5 -90.25</gml:pos></gml:Point></p>",
            (38.5, -90.25),
        ),
        (  # the same, not well-formed
            "<gml:Polygon><gml:exterior><gml:LinearRing><gml:pos>1 1</gml:pos>"
            "</gml:LinearRing></gml:exterior></gml:Polygon><gml:Point><gml:pos>38.5 -90.25",
            (38.5, -90.25),
        ),
        ("<gml:Point><gml:pos>-90 180</gml:pos></gml:Point>", (-90.0, 180.0)),
        ("<gml:Point><gml:pos>+9.5e1 -1.8E2</gml:pos></gml:Point>", None),  # 95: out of range
    ],
)
def test_pidf_lo_position(pidf: str, expected: tuple[float, float] | None) -> None:
    if expected is None:
        with pytest.raises(ValueError, match=re.escape("latitude 95.0 is outside")):
            pidf_lo_position(pidf)
    else:
        assert pidf_lo_position(pidf) == expected


@pytest.mark.parametrize(
    ("pidf", "message"),
    [
        ("<presence/>", "no gml:pos position found"),
        ("not xml at all", "no gml:pos position found"),
        (
            f"<p {GML}><gml:Polygon><gml:exterior><gml:LinearRing><gml:pos>1 1</gml:pos>"
            "</gml:LinearRing></gml:exterior></gml:Polygon></p>",
            "a Polygon is not read",
        ),
        (point("38.5", ""), "is not 'latitude longitude'"),
        (point("north", "west"), "is not 'latitude longitude'"),
        (point("nan", "1"), "is not 'latitude longitude'"),
        (point("1_0", "1"), "is not 'latitude longitude'"),
        (point(-90.5, 0), "latitude -90.5 is outside -90..90 (latitude and longitude swapped?)"),
        (point(0, 180.01), "longitude 180.01 is outside -180..180"),
    ],
)
def test_pidf_lo_position_errors(pidf: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        pidf_lo_position(pidf)


@given(
    lat=st.floats(min_value=-90, max_value=90, allow_nan=False),
    lon=st.floats(min_value=-180, max_value=180, allow_nan=False),
    prefix=st.sampled_from(["gml:", "", "g:"]),
    shape=st.sampled_from(["Point", "Circle"]),
    declared=st.booleans(),
)
def test_position_round_trips(
    lat: float, lon: float, prefix: str, shape: str, declared: bool
) -> None:
    ns = f' xmlns:{prefix[:-1]}="http://www.opengis.net/gml"' if prefix and declared else ""
    radius = "<gs:radius>5</gs:radius>" if shape == "Circle" else ""
    pidf = (
        f'<presence xmlns="urn:ietf:params:xml:ns:pidf"{ns}><{prefix}{shape}>'
        f"<{prefix}pos>{lat!r} {lon!r}</{prefix}pos>{radius}</{prefix}{shape}></presence>"
    )
    document = minimal()
    document["locationComponent"][0]["locationByValue"] = pidf
    call = parse_eido(document)
    assert (call.lat, call.lon) == (lat, lon)  # repr round-trips floats exactly


# --- errors -----------------------------------------------------------------------------------


def _without(path: str) -> dict[str, Any]:
    document = minimal()
    *parents, last = path.split(".")
    target: Any = document
    for part in parents:
        target = target[part]
    del target[last]
    return document


def _with(path: str, value: Any) -> dict[str, Any]:
    document = minimal()
    *parents, last = path.split(".")
    target: Any = document
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value
    return document


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ([minimal()], ("document", "")),
        ("{not json", ("document", "")),
        (None, ("document", "")),
        ({}, ("EIDO", "incidentComponent")),
        (_with("incidentComponent", "EDP"), ("EIDO", "incidentComponent")),
        (_with("incidentComponent", []), ("EIDO", "incidentComponent")),
        (_without("$id"), ("EIDO", "$id")),
        (_with("$id", "  "), ("EIDO", "$id")),
        (_with("$id", 42), ("EIDO", "$id")),
        (
            _without("incidentComponent.lastUpdateTimeStamp"),
            ("incidentComponent", "lastUpdateTimeStamp"),
        ),
        (
            _with("incidentComponent.lastUpdateTimeStamp", "yesterday"),
            ("incidentComponent", "lastUpdateTimeStamp"),
        ),
        (
            _with("incidentComponent.lastUpdateTimeStamp", "2025-01-01T10:00:00"),
            ("incidentComponent", "lastUpdateTimeStamp"),
        ),
        (
            _with("incidentComponent.lastUpdateTimeStamp", 1735725600),
            ("incidentComponent", "lastUpdateTimeStamp"),
        ),
        (
            _without("incidentComponent.incidentTypeCommonRegistryText"),
            ("incidentComponent", "incidentTypeCommonRegistryText"),
        ),
        (
            _with("incidentComponent.incidentTypeCommonRegistryText", ""),
            ("incidentComponent", "incidentTypeCommonRegistryText"),
        ),
        (
            _with("incidentComponent.incidentTypeCommonRegistryText", ["EDP", 3]),
            ("incidentComponent", "incidentTypeCommonRegistryText"),
        ),
        (
            _with("incidentComponent.incidentTypeCommonRegistryText", "FSTRU"),
            ("incidentComponent", "incidentTypeCommonRegistryText"),
        ),
        (
            _with("incidentComponent.incidentCommonPriorityNumber", 11),
            ("incidentComponent", "incidentCommonPriorityNumber"),
        ),
        (
            _with("incidentComponent.incidentCommonPriorityNumber", -1),
            ("incidentComponent", "incidentCommonPriorityNumber"),
        ),
        (
            _with("incidentComponent.incidentCommonPriorityNumber", 7.5),
            ("incidentComponent", "incidentCommonPriorityNumber"),
        ),
        (
            _with("incidentComponent.incidentCommonPriorityNumber", "7"),
            ("incidentComponent", "incidentCommonPriorityNumber"),
        ),
        (
            _with("incidentComponent.incidentCommonPriorityNumber", True),
            ("incidentComponent", "incidentCommonPriorityNumber"),
        ),
        (_without("locationComponent"), ("EIDO", "locationComponent")),
        (_with("locationComponent", []), ("EIDO", "locationComponent")),
        (_with("locationComponent.0", "38.6 -90.2"), ("locationComponent", "")),
        (_with("locationComponent.0", {}), ("locationComponent", "locationByValue")),
        (
            _with("locationComponent.0.locationByValue", {"lat": 1}),
            ("locationComponent", "locationByValue"),
        ),
        (
            _with("locationComponent.0.locationByValue", point(91, 0)),
            ("locationComponent", "locationByValue"),
        ),
    ],
)
def test_errors_name_component_and_field(document: Any, where: tuple[str, str]) -> None:
    error = error_of(document)
    assert (error.component, error.field) == where
    message = str(error)
    assert message.startswith(error.where + ": ")
    assert error.component in message
    assert error.field in message
    assert "\n" not in message
    assert isinstance(error, ValueError)


def test_error_messages() -> None:
    assert str(error_of([1])) == "document: expected a JSON object (an EIDO), got a list"
    assert str(error_of({})) == (
        "EIDO.incidentComponent: missing; the incident type is read from it"
    )
    naive = _with("incidentComponent.lastUpdateTimeStamp", "2025-01-01T10:00:00")
    assert str(error_of(naive)) == (
        "incidentComponent.lastUpdateTimeStamp: '2025-01-01T10:00:00' has no UTC offset "
        "(add Z or +hh:mm)"
    )
    bad = _with("locationComponent.0.locationByValue", "<presence/>")
    assert str(error_of(bad)) == "locationComponent[0].locationByValue: no gml:pos position found"
    unknown = str(error_of(_with("incidentComponent.incidentTypeCommonRegistryText", "FSTRU")))
    assert unknown.startswith("incidentComponent.incidentTypeCommonRegistryText: FSTRU is not ")
    assert "[default]" in unknown
    priority = str(error_of(_with("incidentComponent.incidentCommonPriorityNumber", 11)))
    assert priority == (
        "incidentComponent.incidentCommonPriorityNumber: expected an integer 0..10, got 11"
    )


def test_error_pickles() -> None:
    error = EidoError("locationComponent", "locationByValue", "no position", index=2)
    again = pickle.loads(pickle.dumps(error))
    assert (again.component, again.field, again.index, str(again)) == (
        "locationComponent",
        "locationByValue",
        2,
        "locationComponent[2].locationByValue: no position",
    )


# --- priority ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "priority"),
    [(0, 4), (2, 4), (3, 3), (5, 3), (6, 2), (8, 2), (9, 1), (10, 1)],
)
def test_priority_boundaries(number: int, priority: int) -> None:
    assert priority_from_common(number) == priority
    document = minimal(incidentCommonPriorityNumber=number)
    assert parse_eido(document).priority == priority


def test_priority_mapping_is_monotone_and_onto() -> None:
    priorities = [priority_from_common(n) for n in range(11)]
    assert priorities == sorted(priorities, reverse=True)
    assert set(priorities) == {1, 2, 3, 4}


@pytest.mark.parametrize("number", [-1, 11, 7.0, "7", None, True])
def test_priority_rejects(number: Any) -> None:
    with pytest.raises(ValueError, match=re.escape("expected an integer 0..10")):
        priority_from_common(number)


def test_priority_defaults() -> None:
    assert parse_eido(minimal(incidentTypeCommonRegistryText="WELFARE")).priority == 3
    assert parse_eido(minimal(incidentCommonPriorityNumber=None)).priority == 2  # EDP: 2
    table = IncidentTypeTable.from_dict(
        {"codes": {"EDP": {"call_type": "mental_health", "risk": "low"}}}, inherit=False
    )
    assert parse_eido(minimal(), table).priority == 2  # no priority anywhere


# --- the tables -------------------------------------------------------------------------------


def test_bundled_table() -> None:
    table = IncidentTypeTable.bundled()
    assert table is IncidentTypeTable.bundled()
    assert table.default is None
    summary = {
        code: (entry.call_type, entry.risk, entry.priority) for code, entry in table.codes.items()
    }
    assert summary == {
        "EDP": ("mental_health", "standard", 2),
        "MNTL": ("mental_health", "low", 3),
        "MTLV": ("mental_health", "high", 1),
        "SUICIDE": ("suicidal", "high", 1),
        "SUICTHRT": ("suicidal", "high", 1),
        "OD": ("substance_use", "standard", 1),
        "INTOX": ("substance_use", "low", 3),
        "WELFARE": ("welfare_check", "low", 3),
    }
    assert table.codes["MTLV"].flags == ("violence",)
    assert "WEAPON" in table.flag_rules["weapon"].codes
    assert "firearm" in table.flag_rules["weapon"].caution_words
    assert table.lookup(" welfare ") == table.codes["WELFARE"]
    assert table.lookup("WELCHK") is None


def test_bundled_call_types_are_the_projects() -> None:
    log = (
        Path(__file__).parents[1] / "dispatch" / "data" / "stlouis" / "calls_2025.csv"
    ).read_text()
    known = {line.split(",")[4] for line in log.splitlines()[1:]}
    table = IncidentTypeTable.bundled()
    assert {entry.call_type for entry in table.codes.values()} == known
    assert {entry.risk for entry in table.codes.values()} <= set(RISK_LEVELS)


def test_override_file_extends_the_bundled_table(tmp_path: Path) -> None:
    path = tmp_path / "local.toml"
    path.write_text(
        """
[codes]
EDP = { call_type = "mental_health", risk = "high", priority = 1 }
SCRM = { call_type = "welfare_check", risk = "standard", description = "Person Screaming" }

[default]
call_type = "mental_health"
risk = "standard"
priority = 3
""",
        encoding="utf-8",
    )
    table = IncidentTypeTable.from_file(path)
    assert table.source == str(path)
    assert table.lookup("EDP") == IncidentType("EDP", "mental_health", "high", 1)
    assert table.lookup("SCRM") == IncidentType(
        "SCRM", "welfare_check", "standard", None, (), "Person Screaming"
    )
    assert table.lookup("SUICTHRT") == IncidentTypeTable.bundled().lookup("SUICTHRT")
    assert table.flag_rules == IncidentTypeTable.bundled().flag_rules

    call = parse_eido(minimal(), table)
    assert (call.risk, call.priority) == ("high", 1)
    fire = parse_eido(minimal(incidentTypeCommonRegistryText=["FSTRU", "ODOR"]), table)
    assert (fire.incident_code, fire.call_type, fire.risk, fire.priority) == (
        "FSTRU",  # the first code, when the default decides
        "mental_health",
        "standard",
        3,
    )
    known_later = parse_eido(minimal(incidentTypeCommonRegistryText=["FSTRU", "SCRM"]), table)
    assert known_later.incident_code == "SCRM"  # a known code beats the default


def test_override_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "only.toml"
    path.write_text(
        """
inherit = false
[codes.BH1]
call_type = "mental_health"
risk = "low"
flags = ["use_of_force", "use_of_force"]
[flags.weapon]
caution_words = ["Machete"]
""",
        encoding="utf-8",
    )
    table = IncidentTypeTable.from_file(path)
    assert set(table.codes) == {"BH1"}
    assert table.codes["BH1"].flags == ("use_of_force",)
    error = error_of(minimal(), table)  # EDP is not in this table
    assert error.field == "incidentTypeCommonRegistryText"
    assert "(known: BH1)" in str(error)
    document = minimal(incidentTypeCommonRegistryText="bh1")
    document["cautionComponent"] = [{"cautionTypeInternalText": "has a MACHETE"}]
    assert parse_eido(document, table).flags == ("use_of_force", "weapon")
    document["incidentComponent"]["incidentTypeCommonRegistryText"] = ["BH1", "WEAPON"]
    del document["cautionComponent"]
    assert parse_eido(document, table).flags == ("use_of_force",)  # no weapon codes here


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[codes\n", "not valid TOML"),
        ("colour = 1", "unknown key(s) colour"),
        ("inherit = 'no'", "inherit: expected true or false"),
        ("codes = 3", "codes: expected a table"),
        ("[codes]\nEDP = 3", "codes.EDP: expected a table with call_type and risk"),
        ("[codes.EDP]\nrisk = 'low'", "codes.EDP.call_type: expected a call type name"),
        (
            "[codes.EDP]\ncall_type = 'x'\nrisk = 'elevated'",
            "codes.EDP.risk: 'elevated' is not a risk level; expected one of low, standard, high",
        ),
        (
            "[codes.EDP]\ncall_type = 'x'\nrisk = 'low'\npriority = 5",
            "codes.EDP.priority: expected 1..4",
        ),
        ("[codes.EDP]\ncall_type = 'x'\nrisk = 'low'\npriority = true", "codes.EDP.priority"),
        ("[codes.EDP]\ncall_type = 'x'\nrisk = 'low'\nflags = 'weapon'", "codes.EDP.flags"),
        (
            "[codes.EDP]\ncall_type = 'x'\nrisk = 'low'\nlevel = 1",
            "codes.EDP: unknown key(s) level",
        ),
        ("[codes]\nedp = { call_type = 'x', risk = 'low' }\nEDP = 1", "given twice"),
        ("[default]\ncall_type = 'x'", "default.risk"),
        ("[flags]\nweapon = ['WEAPON']", "flags.weapon: expected a table"),
        ("[flags.weapon]\ncodes = 'WEAPON'", "flags.weapon.codes: expected a list"),
        ("[flags.weapon]\nwords = []", "flags.weapon: unknown key(s) words"),
    ],
)
def test_table_file_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        IncidentTypeTable.from_file(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_table_file_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        IncidentTypeTable.from_file(tmp_path / "nope.toml")


# --- flags ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caution", "flags"),
    [
        ({"cautionTypeCommonRegistryText": "Weapon"}, ("weapon",)),
        ({"cautionTypeCommonSubRegistryText": ["Violent", "Firearms"]}, ("weapon",)),
        ({"cautionTypeInternalText": "ARMED - knife seen"}, ("weapon",)),
        ({"cautionTypeInternalText": "Dog on premises"}, ()),
        ({"cautionTypeInternalText": "gunnery range nearby"}, ()),  # whole words only
        ("weapon", ()),  # not an object: ignored
    ],
)
def test_weapon_from_cautions(caution: Any, flags: tuple[str, ...]) -> None:
    document = minimal()
    document["cautionComponent"] = [caution]
    assert parse_eido(document).flags == flags


def test_no_weapon_indication_no_flags() -> None:
    assert parse_eido(minimal()).flags == ()


def test_eido_call_is_frozen() -> None:
    call = parse_eido(minimal())
    with pytest.raises(AttributeError):
        call.lat = 0.0  # type: ignore[misc]
