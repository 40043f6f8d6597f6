"""The dotted-key language of sweeps: read keys and values, set them in a raw scenario table.

A key is a path into the scenario file: ``policy.fallback_after_min`` (a key of a table),
``teams.CRU-day.count`` (an element of a list by its ``id``), ``teams.0.count`` (by position,
0-based), ``teams[CRU.day].count`` (an id with dots), ``shifts.day.start`` (an entry of a table
of tables). Values on the command line are TOML scalars, or text.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from pathlib import Path
from typing import Any

from dispatch.sweep.errors import SweepError

#: Keys a sweep may not vary, and why.
FROZEN_KEYS = {
    "seed": "varying 'seed' would break common random numbers; use more replications instead",
    "replications": "set replications with --replications or [sweep].replications",
    "sweep": "the [sweep] table cannot vary itself",
    "extends": "'extends' cannot be varied; make a scenario file per base instead",
}
#: Keys whose value is a file path, relative to the scenario file (``"default"`` is not a path).
PATH_VALUES = frozenset(
    {
        ("network", "path"),
        ("network", "nodes"),
        ("calls", "path"),
        ("calls", "synthetic", "profile"),
        ("policy", "rules"),
        ("policy", "districts", "path"),
    }
)

_TOKEN = re.compile(r"\[([^\]]+)\]|([^.\[\]]+)")
_RANGE = re.compile(r"^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*(?::\s*(\d+)\s*)?$")


def parse_key(key: str) -> list[str]:
    """Split a dotted key into its parts.

    Examples
    --------
    >>> parse_key("teams.CRU-day.count")
    ['teams', 'CRU-day', 'count']
    >>> parse_key("teams[a.b].count")
    ['teams', 'a.b', 'count']
    """
    key = key.strip()
    tokens: list[str] = []
    position = 0
    while position < len(key):
        match = _TOKEN.match(key, position)
        if match is None:
            raise SweepError(f"sweep key {key!r}: cannot read it at {key[position:]!r}")
        tokens.append((match.group(1) or match.group(2)).strip())
        position = match.end()
        if position < len(key):
            if key[position] == ".":
                position += 1
                if position == len(key) or key[position] == ".":
                    raise SweepError(f"sweep key {key!r}: empty part")
            elif key[position] != "[":
                raise SweepError(f"sweep key {key!r}: cannot read it at {key[position:]!r}")
    if not tokens or any(not t for t in tokens):
        raise SweepError(f"sweep key {key!r}: empty part")
    if tokens[0] in FROZEN_KEYS:
        raise SweepError(f"sweep key {key!r}: {FROZEN_KEYS[tokens[0]]}")
    return tokens


def parse_value(text: str) -> Any:
    """One command-line value: TOML numbers and booleans as such, anything else as text.

    Examples
    --------
    >>> [parse_value(v) for v in ["4", "2.5", "true", "09:00", '"x"', "day"]]
    [4, 2.5, True, '09:00', 'x', 'day']
    """
    text = text.strip()
    if not text:
        raise SweepError("empty value in a --vary list")
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    if isinstance(value, (bool, int, float, str)):
        return value
    return text


def parse_vary(option: str) -> tuple[str, list[Any]]:
    """``"KEY=V1,V2,..."`` (or ``"KEY=A..B"``, ``"KEY=A..B:STEP"``, integers, inclusive).

    Examples
    --------
    >>> parse_vary("teams.CRU-day.count=2..8:2")
    ('teams.CRU-day.count', [2, 4, 6, 8])
    >>> parse_vary("policy.fallback_after_min=5,10")
    ('policy.fallback_after_min', [5, 10])
    """
    key, sep, values = option.partition("=")
    if not sep or not key.strip():
        raise SweepError(f"--vary {option!r}: expected KEY=V1,V2,... (e.g. teams.0.count=2,4,6)")
    parse_key(key)
    ranged = _RANGE.match(values)
    if ranged:
        start, stop = int(ranged.group(1)), int(ranged.group(2))
        step = int(ranged.group(3) or 1)
        if step < 1 or stop < start:
            raise SweepError(f"--vary {option!r}: a range A..B:STEP needs A <= B and STEP >= 1")
        return key.strip(), list(range(start, stop + 1, step))
    items = [parse_value(v) for v in values.split(",")]
    if not items:
        raise SweepError(f"--vary {option!r}: no values")
    return key.strip(), items


def set_value(data: dict[str, Any], key: str, tokens: list[str], value: Any, base: Path) -> None:
    """Set ``value`` at ``tokens`` in the raw scenario table (in place).

    A path value (see `PATH_VALUES`) is made absolute against ``base``, the scenario's folder.
    """
    if tuple(tokens) in PATH_VALUES and isinstance(value, str) and value != "default":
        value = str((base / value).resolve())
    node: Any = data
    for depth, token in enumerate(tokens):
        last = depth == len(tokens) - 1
        where = ".".join(tokens[:depth])
        if isinstance(node, dict):
            if last:
                node[token] = copy.deepcopy(value)
                return
            if token not in node:
                if tokens[depth + 1].isdigit():
                    missing = ".".join(tokens[: depth + 1])
                    raise SweepError(f"sweep key {key!r}: the scenario has no list {missing!r}")
                node[token] = {}
            node = node[token]
        elif isinstance(node, list):
            index = _element(node, token, key, where)
            if last:
                node[index] = copy.deepcopy(value)
                return
            node = node[index]
        else:
            raise SweepError(
                f"sweep key {key!r}: {where!r} is a single value ({node!r}), not a table or a list"
            )


def address(data: dict[str, Any], key: str, tokens: list[str]) -> tuple[str | int, ...]:
    """The key with list elements as positions.

    ``teams.CRU-day.count`` -> ``("teams", 0, "count")``; also checks that every list element
    it names exists, so two keys naming the same value can be told apart.
    """
    out: list[str | int] = []
    node: Any = data
    for depth, token in enumerate(tokens):
        if isinstance(node, list):
            index = _element(node, token, key, ".".join(tokens[:depth]))
            out.append(index)
            node = node[index]
        else:
            out.append(token)
            node = node.get(token) if isinstance(node, dict) else None
    return tuple(out)


def _element(items: list[Any], token: str, key: str, where: str) -> int:
    if token.isdigit():
        index = int(token)
        if index >= len(items):
            raise SweepError(
                f"sweep key {key!r}: {where!r} has {len(items)} element(s), "
                f"so index {index} does not exist (indices start at 0)"
            )
        return index
    ids = [item.get("id") for item in items if isinstance(item, dict)]
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("id") == token:
            return index
    known = ", ".join(str(i) for i in ids if i is not None) or "none"
    raise SweepError(f"sweep key {key!r}: no element of {where!r} has id {token!r} (ids: {known})")


def override(modified: dict[str, Any], tokens: list[str]) -> dict[str, Any]:
    """The smallest override that reproduces ``modified`` at ``tokens``.

    Tables key by key; a whole list where the path crosses one (a list is replaced, never
    merged).
    """
    out: dict[str, Any] = {}
    target = out
    node: Any = modified
    for depth, token in enumerate(tokens):
        child = node[token]
        if depth == len(tokens) - 1 or not isinstance(child, dict):
            target[token] = copy.deepcopy(child)
            break
        target[token] = {}
        target = target[token]
        node = child
    return out


def canonical(value: Any) -> str:
    """Compact JSON with sorted keys: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def show(value: Any) -> str:
    """A value as a label shows it: text as is, anything else as JSON.

    Examples
    --------
    >>> [show(v) for v in ["09:00", 3, True, 0.5]]
    ['09:00', '3', 'true', '0.5']
    """
    return value if isinstance(value, str) else json.dumps(value, default=str)
