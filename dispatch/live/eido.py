"""NENA EIDO (NENA-STA-021) JSON intake: one EIDO document becomes one call.

``POST /v1/calls/eido`` hands the parsed JSON to `parse_eido`, which returns an `EidoCall` with
the same fields as a ``POST /v1/calls`` body. This module is pure: the standard library, TOML
and `dispatch.model`; no web stack.

Which standard
--------------
The field names follow the NENA EIDO JSON schema as published by NENA in the GitHub repository
``NENA911/EIDO-JSON`` (``Schema/openapi.yaml``, EIDO structure ``eidoVersion`` "1.0", read at
its NENA-STA-021.1.1 draft of June 2025) and the standard text in the same repository
(``Documentation/NENA-STA-021.1b EIDO JSON_2022.docx``, NENA-STA-021.1a-2022). Read are:

=====================  ==================================================================
EidoCall field         EIDO member
=====================  ==================================================================
``call_id``            the EIDO's own ``$id``: "In this data component, the identifier
                       ($id) is the Incident Tracking Identifier" (STA-021, Emergency
                       Incident Data Object data component). When the EIDO has no ``$id``,
                       ``incidentComponent.$id`` (the incident data component's id, which
                       the standard keeps the same in every EIDO for the incident).
``received_at``        ``incidentComponent.lastUpdateTimeStamp`` (the incident has no
                       creation timestamp; every data component carries this one in its
                       prologue), else the EIDO's own ``lastUpdateTimeStamp``. It must
                       carry a UTC offset.
``lat``, ``lon``       ``gml:pos`` of a ``gml:Point`` (or the centre of a ``gs:Circle``,
                       ``Ellipse``, ``ArcBand``, ``Sphere`` or ``Ellipsoid``) in the PIDF-LO
                       string ``locationByValue`` of a ``locationComponent`` entry
                       (``LocationInformationType``). ``locationInformationComponent`` is
                       read as another name of the same list.
``incident_code``,     ``incidentComponent.incidentTypeCommonRegistryText``: an APCO ANS
``call_type``,         2.103.2-2019 Common Incident Type code (STA-021 Table 3-2, the
``risk``               "EIDO-IncidentType-Common" registry), looked up in an
                       `IncidentTypeTable`.
``priority``           ``incidentComponent.incidentCommonPriorityNumber``, 0 (lowest) to
                       10 (highest), mapped onto 1..4 by `priority_from_common`.
``flags``              ``cautionComponent`` entries (``CautionType``, new in the 1.1
                       draft) whose ``cautionTypeCommonRegistryText``,
                       ``cautionTypeCommonSubRegistryText`` or ``cautionTypeInternalText``
                       has a weapon word, and weapon incident codes (``WEAPON``,
                       ``NCRASLTWF`` "Assault with Weapon", ...) among the incident's
                       codes; both lists live in the table's ``[flags.weapon]``.
=====================  ==================================================================

Choices where the standard leaves room:

- **Location.** Entries whose ``locationTypeDescriptionRegistryText`` (STA-021 Table 3-8) is
  ``CurrentIncident`` come first, then ``InitialIncident``, then the rest in document order;
  ``Staging``, ``UnitLocation`` and ``TowerLocation`` entries are never used, because they are
  not where the incident is. The first entry with a position wins. The schema offers no plain
  latitude/longitude member, so PIDF-LO is the only form read; ``locationByReferenceUrl`` is not
  dereferenced (a pure parser makes no requests). A ``gml:Polygon`` is not reduced to a point.
  The first two numbers of ``gml:pos`` are latitude and longitude (EPSG 4326 and 4979 order, as
  RFC 5491 prescribes for PIDF-LO); ``srsName`` is not checked.
- **Broken PIDF-LO.** Real PIDF-LO is often not well-formed (undeclared ``gml:`` prefix,
  unclosed tags, a bare ``&``). The string is parsed with `xml.etree.ElementTree`, ignoring
  namespaces; when that fails, or the string declares a DTD (never expanded), a tag scanner
  reads the first ``<…:pos>`` inside a point or circle shape (or outside any shape, when the
  document has none).
- **Incident type.** The schema makes ``incidentTypeCommonRegistryText`` one string; a list of
  codes is accepted too, and the first code the table knows is used. A code no table entry
  knows is an error unless the table has a ``[default]`` entry.
- **Wrappers.** The document may be the EIDO itself, ``{"eido": EIDO}``, an NENA-STA-024
  request such as ``{"requestForService": {"eido": EIDO}}``, or an STA-024 event
  ``{"event": {"notification": [EIDO]}}`` with exactly one EIDO. A JSON text (``str`` or
  ``bytes``) is decoded first. Members not listed here are ignored.

Every problem is an `EidoError` that names the data component and member at fault.
"""

from __future__ import annotations

import functools
import json
import math
import re
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dispatch.errors import InputError
from dispatch.model import RISK_LEVELS, RiskLevel

__all__ = [
    "EidoCall",
    "EidoError",
    "FlagRule",
    "IncidentType",
    "IncidentTypeTable",
    "parse_eido",
    "pidf_lo_position",
    "priority_from_common",
]

#: The bundled incident type table, inside this package.
BUNDLED_TABLE = "incident_types.toml"

#: Location types tried first, in this order (STA-021 Table 3-8); the rest keep document order.
PREFERRED_LOCATION_TYPES = ("CurrentIncident", "InitialIncident")
#: Location types that are never the incident's place.
IGNORED_LOCATION_TYPES = frozenset({"Staging", "UnitLocation", "TowerLocation"})

#: Largest PIDF-LO string read, in characters.
MAX_PIDF_CHARS = 1_000_000

_LOCATION_KEYS = ("locationComponent", "locationInformationComponent")
_EIDO_KEYS = frozenset({"eidoVersion", "incidentComponent", "$id", *_LOCATION_KEYS})


class EidoError(ValueError):
    """An EIDO document that cannot become a call.

    Parameters
    ----------
    component
        The data component at fault, e.g. ``"locationComponent"``; ``"EIDO"`` for the
        Emergency Incident Data Object itself, ``"document"`` for what was posted.
    field
        The member of that component, e.g. ``"locationByValue"``; ``""`` for the whole
        component.
    message
        What is wrong, in words a CAD administrator can act on.
    index
        Position of the entry in the component's list, when it is a list.

    Examples
    --------
    >>> str(EidoError("locationComponent", "locationByValue", "no gml:pos found", index=0))
    'locationComponent[0].locationByValue: no gml:pos found'
    """

    def __init__(
        self, component: str, field: str, message: str, *, index: int | None = None
    ) -> None:
        self.component = component
        self.field = field
        self.index = index
        self.message = message
        super().__init__(f"{self.where}: {message}")

    @property
    def where(self) -> str:
        """``component[index].field``, the path of the member at fault."""
        name = self.component if self.index is None else f"{self.component}[{self.index}]"
        return f"{name}.{self.field}" if self.field else name

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (self.component, self.field, self.message, self.index))


def _rebuild_error(component: str, field: str, message: str, index: int | None) -> EidoError:
    return EidoError(component, field, message, index=index)


@dataclass(frozen=True)
class EidoCall:
    """The call an EIDO describes, in the terms of ``POST /v1/calls``.

    Parameters
    ----------
    call_id
        The Incident Tracking Identifier (the EIDO's ``$id``), else the incident component's
        ``$id``.
    received_at
        ``incidentComponent.lastUpdateTimeStamp`` (else the EIDO's), timezone-aware.
    lat, lon
        WGS84 degrees from the PIDF-LO ``gml:pos``.
    call_type
        The project's call type for the incident code, e.g. ``"suicidal"``.
    priority
        1 (highest) to 4.
    risk
        A `dispatch.model.RiskLevel` value: ``"low"``, ``"standard"`` or ``"high"``.
    flags
        Sorted flag names, e.g. ``("weapon",)``; ``()`` when none apply.
    incident_code
        The APCO common incident type code that decided the call type, upper case.
    """

    call_id: str
    received_at: datetime
    lat: float
    lon: float
    call_type: str
    priority: int
    risk: str
    flags: tuple[str, ...]
    incident_code: str


@dataclass(frozen=True)
class IncidentType:
    """What the project makes of one APCO common incident type code.

    Parameters
    ----------
    code
        The code, upper case (``""`` for a table's default entry).
    call_type
        The project's call type, e.g. ``"mental_health"``.
    risk
        A `dispatch.model.RiskLevel` value.
    priority
        Priority 1..4 used when the EIDO has no ``incidentCommonPriorityNumber``; None to
        fall back to 2.
    flags
        Flags every call of this type carries, e.g. ``("violence",)``.
    description
        The registry's literal description, for people reading the table.
    """

    code: str
    call_type: str
    risk: str
    priority: int | None = None
    flags: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class FlagRule:
    """When an EIDO earns a flag.

    Parameters
    ----------
    codes
        Incident type codes that set the flag when any of the incident's codes is one of them.
    caution_words
        Lower-case words that set the flag when one appears, as a whole word, in the type text
        of a ``cautionComponent`` entry.
    """

    codes: frozenset[str] = frozenset()
    caution_words: frozenset[str] = frozenset()


@dataclass(frozen=True)
class IncidentTypeTable:
    """APCO ANS 2.103 common incident type code -> call type, risk and default priority.

    The TOML format (the bundled ``dispatch/live/incident_types.toml`` shows every part)::

        [codes]
        EDP = { call_type = "mental_health", risk = "standard", priority = 2 }
        MTLV = { call_type = "mental_health", risk = "high", priority = 1, flags = ["violence"] }

        [default]        # optional: used for every code the table does not know
        call_type = "mental_health"
        risk = "standard"

        [flags.weapon]   # optional, one table per flag
        codes = ["WEAPON"]
        caution_words = ["weapon", "firearm"]

    ``priority``, ``flags`` and ``description`` are optional in an entry. A file read with
    `from_file` extends the bundled table: its codes replace or add entries, its ``[default]``
    and each of its ``[flags.NAME]`` tables replace the bundled ones. With ``inherit = false``
    at the top, the file is the whole table. The bundled table has no default, so an unknown
    code is an error until a deployment's file sets one.

    Parameters
    ----------
    codes
        Entries by upper-case code.
    default
        The entry for codes not in ``codes``, or None.
    flag_rules
        Flag name -> `FlagRule`.
    source
        Where the table came from, for messages.

    Examples
    --------
    >>> table = IncidentTypeTable.bundled()
    >>> table.lookup("suictHRT")
    IncidentType(code='SUICTHRT', call_type='suicidal', risk='high', priority=1, flags=(), \
description='Attempt Or Threatening Suicide')
    >>> table.lookup("FSTRU") is None
    True
    """

    codes: Mapping[str, IncidentType]
    default: IncidentType | None = None
    flag_rules: Mapping[str, FlagRule] = field(default_factory=dict)
    source: str = "<table>"

    @classmethod
    def bundled(cls) -> IncidentTypeTable:
        """The table shipped in the package (``dispatch/live/incident_types.toml``)."""
        return _bundled_table()

    @classmethod
    def from_file(cls, path: str | Path) -> IncidentTypeTable:
        """Read a table file over the bundled one (or alone, with ``inherit = false``).

        Raises
        ------
        dispatch.errors.InputError
            The file is missing, not TOML, or an entry is wrong; the message names the file
            and the key (e.g. ``codes.EDP.risk``).
        """
        path = Path(path)
        if not path.is_file():
            raise InputError("file not found", source=str(path))
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise InputError(f"not valid TOML ({error})", source=str(path)) from None
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, source: str = "<table>", inherit: bool | None = None
    ) -> IncidentTypeTable:
        """Build a table from parsed TOML, over the bundled one like `from_file`.

        ``inherit``, when given, overrides the data's own ``inherit`` key (default true).
        """
        unknown = set(data) - {"codes", "default", "flags", "inherit"}
        if unknown:
            raise InputError(f"unknown key(s) {', '.join(sorted(unknown))}", source=source)
        wanted = data.get("inherit", True) if inherit is None else inherit
        if not isinstance(wanted, bool):
            raise InputError(f"inherit: expected true or false, got {wanted!r}", source=source)
        codes_data = data.get("codes", {})
        if not isinstance(codes_data, Mapping):
            raise InputError("codes: expected a table of code = { ... }", source=source)
        codes = {}
        for raw_code, entry in codes_data.items():
            code = _normal_code(raw_code)
            if not code:
                raise InputError(f"codes: empty code {raw_code!r}", source=source)
            if code in codes:
                raise InputError(f"codes.{raw_code}: code {code} given twice", source=source)
            codes[code] = _entry(entry, code, f"codes.{raw_code}", source)
        default = None
        if "default" in data:
            default = _entry(data["default"], "", "default", source)
        rules = _flag_rules(data.get("flags", {}), source)
        if wanted:
            base = _bundled_table()
            codes = {**base.codes, **codes}
            default = default if default is not None else base.default
            rules = {**base.flag_rules, **rules}
        return cls(MappingProxyType(codes), default, MappingProxyType(rules), source)

    def lookup(self, code: str) -> IncidentType | None:
        """The entry for ``code`` (case and surrounding space ignored); None when unknown.

        The ``[default]`` entry is not consulted: see `default`.
        """
        return self.codes.get(_normal_code(code))


@functools.cache
def _bundled_table() -> IncidentTypeTable:
    text = resources.files(__package__ or "dispatch.live").joinpath(BUNDLED_TABLE)
    data = tomllib.loads(text.read_text(encoding="utf-8"))
    return IncidentTypeTable.from_dict(data, source=f"dispatch/live/{BUNDLED_TABLE}", inherit=False)


def _normal_code(code: str) -> str:
    return code.strip().upper()


def _entry(entry: Any, code: str, key: str, source: str) -> IncidentType:
    if not isinstance(entry, Mapping):
        raise InputError(f"{key}: expected a table with call_type and risk", source=source)
    unknown = set(entry) - {"call_type", "risk", "priority", "flags", "description"}
    if unknown:
        raise InputError(f"{key}: unknown key(s) {', '.join(sorted(unknown))}", source=source)
    call_type = entry.get("call_type")
    if not isinstance(call_type, str) or not call_type.strip():
        raise InputError(f"{key}.call_type: expected a call type name", source=source)
    risk = entry.get("risk")
    if risk not in RISK_LEVELS:
        raise InputError(
            f"{key}.risk: {risk!r} is not a risk level; expected one of {', '.join(RISK_LEVELS)}",
            source=source,
        )
    priority = entry.get("priority")
    if priority is not None and (type(priority) is not int or not 1 <= priority <= 4):
        raise InputError(f"{key}.priority: expected 1..4, got {priority!r}", source=source)
    flags = entry.get("flags", [])
    if not _is_str_list(flags):
        raise InputError(f"{key}.flags: expected a list of flag names", source=source)
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise InputError(f"{key}.description: expected text", source=source)
    return IncidentType(
        code,
        call_type.strip(),
        RiskLevel(risk).value,
        priority,
        tuple(sorted({f.strip() for f in flags})),
        description,
    )


def _flag_rules(data: Any, source: str) -> dict[str, FlagRule]:
    if not isinstance(data, Mapping):
        raise InputError("flags: expected [flags.NAME] tables", source=source)
    rules = {}
    for name, rule in data.items():
        key = f"flags.{name}"
        if not name.strip():
            raise InputError("flags: empty flag name", source=source)
        if not isinstance(rule, Mapping):
            raise InputError(f"{key}: expected a table with codes and caution_words", source=source)
        unknown = set(rule) - {"codes", "caution_words"}
        if unknown:
            raise InputError(f"{key}: unknown key(s) {', '.join(sorted(unknown))}", source=source)
        codes = rule.get("codes", [])
        words = rule.get("caution_words", [])
        if not _is_str_list(codes):
            raise InputError(f"{key}.codes: expected a list of codes", source=source)
        if not _is_str_list(words):
            raise InputError(f"{key}.caution_words: expected a list of words", source=source)
        rules[name.strip()] = FlagRule(
            frozenset(_normal_code(c) for c in codes),
            frozenset(w.strip().lower() for w in words),
        )
    return rules


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def priority_from_common(number: int) -> int:
    """Map ``incidentCommonPriorityNumber`` (0 lowest .. 10 highest) onto priority 1..4.

    9-10 -> 1, 6-8 -> 2, 3-5 -> 3, 0-2 -> 4: the top two common levels are the project's
    most urgent, and the remaining nine split into three bands of three.

    Raises
    ------
    ValueError
        ``number`` is not an integer in 0..10.

    Examples
    --------
    >>> [priority_from_common(n) for n in range(11)]
    [4, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1]
    """
    if type(number) is not int or not 0 <= number <= 10:
        raise ValueError(f"expected an integer 0..10, got {number!r}")
    if number >= 9:
        return 1
    if number >= 6:
        return 2
    if number >= 3:
        return 3
    return 4


# --- PIDF-LO --------------------------------------------------------------------------------

#: GML/GeoShape shapes whose ``pos`` is the place (a point, or a shape's centre).
_POINT_SHAPES = frozenset({"point", "circle", "ellipse", "arcband", "sphere", "ellipsoid"})
#: Shapes whose ``pos`` elements are vertices, not the place.
_VERTEX_SHAPES = frozenset({"polygon", "linearring", "exterior", "interior", "prism"})
_TAG = re.compile(r"<(/?)(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)\b[^<>]*?(/?)>")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_DTD = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def pidf_lo_position(pidf: str) -> tuple[float, float]:
    """Read ``(lat, lon)`` from the ``gml:pos`` of a point or circle in a PIDF-LO string.

    Namespaces are ignored. The first ``pos`` inside a point-like shape (or outside any shape)
    is read; ``pos`` elements of a polygon are vertices and skipped. A string that is not
    well-formed XML, or declares a DTD, is read by a tag scanner with the same rule. The first
    two numbers of the ``pos`` text are latitude and longitude.

    Raises
    ------
    ValueError
        No position, or one that is not two numbers in range; the message says which.

    Examples
    --------
    >>> pidf_lo_position('<gml:Point><gml:pos>38.627 -90.1994</gml:pos></gml:Point>')
    (38.627, -90.1994)
    """
    if len(pidf) > MAX_PIDF_CHARS:
        raise ValueError(f"PIDF-LO of {len(pidf)} characters is longer than {MAX_PIDF_CHARS}")
    texts = None if _DTD.search(pidf) else _xml_positions(pidf)
    if texts is None:
        texts = _scanned_positions(pidf)
    if not texts:
        if re.search(r"<(?:[\w.-]+:)?(?:Polygon|posList)\b", pidf):
            raise ValueError("no gml:pos of a Point or Circle found (a Polygon is not read)")
        raise ValueError("no gml:pos position found")
    return _coordinates(texts[0])


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()


def _xml_positions(pidf: str) -> list[str] | None:
    """``pos`` texts in document order, or None when ``pidf`` is not well-formed XML."""
    try:
        root = ET.fromstring(pidf)
    except (ET.ParseError, ValueError):
        return None
    found = []
    stack: list[tuple[ET.Element, str | None]] = [(root, None)]  # element, innermost shape
    while stack:
        element, shape = stack.pop()
        name = _local(element.tag) if isinstance(element.tag, str) else ""
        if name == "pos":
            if shape is None or shape in _POINT_SHAPES:
                found.append(element.text or "")
            continue
        if name in _POINT_SHAPES or name in _VERTEX_SHAPES:
            shape = name
        stack.extend((child, shape) for child in reversed(element))
    return found


def _scanned_positions(pidf: str) -> list[str]:
    """``pos`` texts by a scan of the tags, for PIDF-LO that is not well-formed."""
    found = []
    shapes: list[str] = []  # open shapes, innermost last
    for match in _TAG.finditer(pidf):
        closing, name, empty = match.group(1), match.group(2).lower(), match.group(3)
        if name in _POINT_SHAPES or name in _VERTEX_SHAPES:
            if closing:
                if name in shapes:
                    del shapes[len(shapes) - 1 - shapes[::-1].index(name) :]
            elif not empty:
                shapes.append(name)
        elif name == "pos" and not closing and not empty:
            if shapes and shapes[-1] in _VERTEX_SHAPES:
                continue
            end = pidf.find("<", match.end())
            found.append(pidf[match.end() : end if end >= 0 else len(pidf)])
    return found


def _coordinates(text: str) -> tuple[float, float]:
    parts = [p for p in re.split(r"[\s,]+", text.strip()) if p]
    shown = " ".join(parts)[:60]
    if len(parts) < 2 or not all(_NUMBER.fullmatch(p) for p in parts[:2]):
        raise ValueError(f"gml:pos {shown!r} is not 'latitude longitude'")
    lat, lon = float(parts[0]), float(parts[1])
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        hint = " (latitude and longitude swapped?)" if -180.0 <= lat <= 180.0 else ""
        raise ValueError(f"gml:pos latitude {lat!r} is outside -90..90{hint}")
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise ValueError(f"gml:pos longitude {lon!r} is outside -180..180")
    return lat, lon


# --- the EIDO -------------------------------------------------------------------------------


def parse_eido(document: Any, table: IncidentTypeTable | None = None) -> EidoCall:
    """Turn one NENA-STA-021 EIDO into the call it reports.

    Parameters
    ----------
    document
        The EIDO as parsed JSON (a dict), JSON text, or one of the wrappers in the module
        notes.
    table
        Incident type table; the bundled one when None.

    Raises
    ------
    EidoError
        Anything that keeps the document from being a call; ``component`` and ``field`` name
        the member at fault.

    Examples
    --------
    >>> pidf = ('<presence xmlns="urn:ietf:params:xml:ns:pidf" '
    ...         'xmlns:gml="http://www.opengis.net/gml"><gml:Point>'
    ...         '<gml:pos>38.6270 -90.1994</gml:pos></gml:Point></presence>')
    >>> call = parse_eido({
    ...     "$id": "urn:emergency:uid:incidentid:7f3a:psap.example.org",
    ...     "incidentComponent": {
    ...         "lastUpdateTimeStamp": "2025-03-01T14:05:00-06:00",
    ...         "incidentTypeCommonRegistryText": "SUICTHRT",
    ...         "incidentCommonPriorityNumber": 7,
    ...     },
    ...     "locationComponent": [{"locationByValue": pidf}],
    ... })
    >>> call.call_id, call.call_type, call.risk, call.priority, call.lat, call.lon
    ('urn:emergency:uid:incidentid:7f3a:psap.example.org', 'suicidal', 'high', 2, 38.627, -90.1994)
    >>> call.received_at.isoformat()
    '2025-03-01T14:05:00-06:00'
    """
    table = IncidentTypeTable.bundled() if table is None else table
    eido = _unwrap(document)
    incident = _incident(eido)
    call_id = _call_id(eido, incident)
    received_at = _received_at(eido, incident)
    codes = _codes(incident)
    code, entry = _incident_type(codes, table)
    priority = _priority(incident, entry)
    lat, lon = _location(eido)
    flags = set(entry.flags) | _flags(eido, codes, table)
    return EidoCall(
        call_id=call_id,
        received_at=received_at,
        lat=lat,
        lon=lon,
        call_type=entry.call_type,
        priority=priority,
        risk=entry.risk,
        flags=tuple(sorted(flags)),
        incident_code=code,
    )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    names = {dict: "an object", list: "a list", str: "text", bool: "a boolean", int: "a number"}
    return names.get(type(value), "a number" if type(value) is float else type(value).__name__)


def _unwrap(document: Any) -> Mapping[str, Any]:
    if isinstance(document, bytes | bytearray | str):
        try:
            document = json.loads(document)
        except (ValueError, RecursionError) as error:
            raise EidoError("document", "", f"not valid JSON ({error})") from None
    if not isinstance(document, Mapping):
        raise EidoError("document", "", f"expected a JSON object (an EIDO), got {_kind(document)}")
    if _EIDO_KEYS & set(document):
        return document
    inner = document.get("eido")
    if isinstance(inner, Mapping):
        return inner
    event = document.get("event")
    if isinstance(event, Mapping) and "notification" in event:
        notification = event["notification"]
        if not isinstance(notification, list) or not notification:
            raise EidoError("event", "notification", "expected a list holding one EIDO")
        if len(notification) > 1:
            raise EidoError(
                "event",
                "notification",
                f"holds {len(notification)} EIDOs; post them one at a time",
            )
        if not isinstance(notification[0], Mapping):
            raise EidoError(
                "event", "notification", f"expected an EIDO object, got {_kind(notification[0])}"
            )
        return notification[0]
    if len(document) == 1:  # an STA-024 request: {"requestForService": {"eido": EIDO}}
        (request,) = document.values()
        inner = request.get("eido") if isinstance(request, Mapping) else None
        if isinstance(inner, Mapping):
            return inner
    return document


def _incident(eido: Mapping[str, Any]) -> Mapping[str, Any]:
    incident = eido.get("incidentComponent")
    if isinstance(incident, list):  # the schema has one; a list of them takes the first
        incident = incident[0] if incident else None
    if incident is None:
        raise EidoError("EIDO", "incidentComponent", "missing; the incident type is read from it")
    if not isinstance(incident, Mapping):
        raise EidoError("EIDO", "incidentComponent", f"expected an object, got {_kind(incident)}")
    return incident


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _call_id(eido: Mapping[str, Any], incident: Mapping[str, Any]) -> str:
    for component, value in (("EIDO", eido.get("$id")), ("incidentComponent", incident.get("$id"))):
        if value is not None and not isinstance(value, str):
            raise EidoError(component, "$id", f"expected text, got {_kind(value)}")
        text = _text(value)
        if text:
            return text
    raise EidoError(
        "EIDO",
        "$id",
        "missing; the Incident Tracking Identifier is the call's id (and the "
        "incidentComponent has no $id either)",
    )


def _received_at(eido: Mapping[str, Any], incident: Mapping[str, Any]) -> datetime:
    key = "lastUpdateTimeStamp"
    if key in incident:
        component, value = "incidentComponent", incident[key]
    elif key in eido:
        component, value = "EIDO", eido[key]
    else:
        raise EidoError("incidentComponent", key, "missing (and the EIDO has none either)")
    if not isinstance(value, str):
        raise EidoError(component, key, f"expected an ISO 8601 date-time, got {_kind(value)}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise EidoError(component, key, f"{value!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise EidoError(component, key, f"{value!r} has no UTC offset (add Z or +hh:mm)")
    return moment


def _codes(incident: Mapping[str, Any]) -> list[str]:
    key = "incidentTypeCommonRegistryText"
    value = incident.get(key)
    if value is None:
        raise EidoError("incidentComponent", key, "missing; the call type is read from it")
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in values):
        raise EidoError(
            "incidentComponent", key, "expected an incident type code or a list of them"
        )
    codes = [_normal_code(v) for v in values if v.strip()]
    if not codes:
        raise EidoError("incidentComponent", key, "empty; expected an APCO incident type code")
    return codes


def _incident_type(codes: Sequence[str], table: IncidentTypeTable) -> tuple[str, IncidentType]:
    for code in codes:
        entry = table.lookup(code)
        if entry is not None:
            return code, entry
    if table.default is not None:
        return codes[0], table.default
    known = ", ".join(sorted(table.codes)) or "none"
    shown = codes[0] if len(codes) == 1 else "none of " + ", ".join(codes)
    raise EidoError(
        "incidentComponent",
        "incidentTypeCommonRegistryText",
        f"{shown} is not a code of the incident type table {table.source} (known: {known}); "
        "map it, or set a [default] entry, in a table file",
    )


def _priority(incident: Mapping[str, Any], entry: IncidentType) -> int:
    key = "incidentCommonPriorityNumber"
    value = incident.get(key)
    if value is None:
        return entry.priority if entry.priority is not None else 2
    try:
        return priority_from_common(value)
    except ValueError as error:
        raise EidoError("incidentComponent", key, str(error)) from None


def _location_entries(eido: Mapping[str, Any]) -> tuple[str, list[Any]]:
    for key in _LOCATION_KEYS:
        if key in eido:
            value = eido[key]
            entries = value if isinstance(value, list) else [value]
            if not entries:
                raise EidoError("EIDO", key, "empty; the call's position is read from it")
            return key, entries
    raise EidoError("EIDO", "locationComponent", "missing; the call's position is read from it")


def _location(eido: Mapping[str, Any]) -> tuple[float, float]:
    component, entries = _location_entries(eido)
    order = []
    for i, entry in enumerate(entries):
        kind = (
            entry.get("locationTypeDescriptionRegistryText") if isinstance(entry, Mapping) else None
        )
        kind = kind.strip() if isinstance(kind, str) else None
        if kind in IGNORED_LOCATION_TYPES:
            continue
        rank = (
            PREFERRED_LOCATION_TYPES.index(kind)
            if kind in PREFERRED_LOCATION_TYPES
            else len(PREFERRED_LOCATION_TYPES)
        )
        order.append((rank, i))
    if not order:
        raise EidoError(
            component,
            "locationTypeDescriptionRegistryText",
            f"every entry is {' or '.join(sorted(IGNORED_LOCATION_TYPES))}, "
            "none the incident's place",
        )
    errors = []
    for _, i in sorted(order):
        try:
            return _entry_position(entries[i], component, i)
        except EidoError as error:
            errors.append(error)
    first, *others = errors
    if others:
        rest = "; ".join(f"[{e.index}] {e.field or 'entry'}: {e.message}" for e in others)
        raise EidoError(
            first.component,
            first.field,
            f"{first.message}; no other entry has a position either ({rest})",
            index=first.index,
        )
    raise first


def _entry_position(entry: Any, component: str, i: int) -> tuple[float, float]:
    key = "locationByValue"
    if not isinstance(entry, Mapping):
        raise EidoError(component, "", f"expected an object, got {_kind(entry)}", index=i)
    pidf = entry.get(key)
    if pidf is None:
        reason = "missing"
        if entry.get("locationByReferenceUrl"):
            reason += " (only locationByReferenceUrl, which is not dereferenced)"
        raise EidoError(component, key, reason, index=i)
    if not isinstance(pidf, str):
        raise EidoError(component, key, f"expected PIDF-LO XML text, got {_kind(pidf)}", index=i)
    try:
        return pidf_lo_position(pidf)
    except ValueError as error:
        raise EidoError(component, key, str(error), index=i) from None


def _words(value: Any) -> Iterator[str]:
    values = value if isinstance(value, list) else [value]
    for v in values:
        if isinstance(v, str):
            yield from re.findall(r"[a-z0-9]+", v.lower())


def _flags(eido: Mapping[str, Any], codes: Sequence[str], table: IncidentTypeTable) -> set[str]:
    cautions = eido.get("cautionComponent")
    texts: set[str] = set()
    for caution in cautions if isinstance(cautions, list) else [cautions]:
        if isinstance(caution, Mapping):
            for key in (
                "cautionTypeCommonRegistryText",
                "cautionTypeCommonSubRegistryText",
                "cautionTypeInternalText",
            ):
                texts.update(_words(caution.get(key)))
    return {
        name
        for name, rule in table.flag_rules.items()
        if rule.codes.intersection(codes) or rule.caution_words & texts
    }
