"""Unit statuses as a CAD system reports them, mapped onto the dispatch session's states.

The service accepts the project's own names (``en_route``) and the NENA EIDO unit-status
vocabulary: a primary status (``Available``, ``ConditionallyAvailable``, ``NotAvailable``),
optionally with a secondary one after a slash (``NotAvailable/EnRoute``), or the secondary
alone (``EnRoute``). Matching ignores case, spaces, hyphens and underscores.

======================================  ===================  ==========================
reported                                 shown as             session state
======================================  ===================  ==========================
Available, AvailableInQuarters           ``available``        available
ConditionallyAvailable, Returning        ``returning``        returning (dispatchable)
Dispatched, Assigned                     ``dispatched``       dispatched
EnRoute, Responding                      ``en_route``         dispatched
OnScene, Arrived                         ``on_scene``         dispatched
Transporting                             ``transporting``     dispatched
AtHospital, AtDestination                ``at_hospital``      dispatched
Break, MealBreak                         ``on_break``         on break
OutOfService, NotAvailable               ``out_of_service``   out of service
OffDuty, LoggedOff                       ``off_duty``         off duty
======================================  ===================  ==========================

Which transitions are refused is the session's rule (`dispatch.dispatcher.status_problem`):
an off-duty unit must log on (report available) first, and a unit on a call must clear before
it goes out of service or on a break.
"""

from __future__ import annotations

from typing import NamedTuple

from dispatch.model import TeamStatus


class Reported(NamedTuple):
    """A reported status: its label in the service and the session state it means."""

    label: str
    state: TeamStatus


_LABELS: dict[str, TeamStatus] = {
    "available": TeamStatus.AVAILABLE,
    "returning": TeamStatus.RETURNING,
    "dispatched": TeamStatus.DISPATCHED,
    "en_route": TeamStatus.EN_ROUTE,
    "on_scene": TeamStatus.ON_SCENE,
    "transporting": TeamStatus.TRANSPORTING,
    # at the hospital the unit is still committed to its call (hand-off)
    "at_hospital": TeamStatus.TRANSPORTING,
    "on_break": TeamStatus.ON_BREAK,
    "out_of_service": TeamStatus.OUT_OF_SERVICE,
    "off_duty": TeamStatus.OFF_DUTY,
}

_SYNONYMS: dict[str, str] = {
    "available": "available",
    "availableinquarters": "available",
    "inquarters": "available",
    "conditionallyavailable": "returning",
    "returning": "returning",
    "availableonradio": "returning",
    "dispatched": "dispatched",
    "assigned": "dispatched",
    "enroute": "en_route",
    "responding": "en_route",
    "onscene": "on_scene",
    "arrived": "on_scene",
    "transporting": "transporting",
    "athospital": "at_hospital",
    "atdestination": "at_hospital",
    "break": "on_break",
    "onbreak": "on_break",
    "mealbreak": "on_break",
    "outofservice": "out_of_service",
    "notavailable": "out_of_service",
    "offduty": "off_duty",
    "loggedoff": "off_duty",
    "logoff": "off_duty",
}

STATUS_LABELS: tuple[str, ...] = tuple(_LABELS)
"""Every label the service shows, in lifecycle order."""


def _key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch not in " -_")


def parse_status(text: str) -> Reported | None:
    """The status a CAD reported, or None when it is not in the vocabulary.

    Examples
    --------
    >>> parse_status("NotAvailable/EnRoute")
    Reported(label='en_route', state=<TeamStatus.EN_ROUTE: 'en_route'>)
    >>> parse_status("on_scene").label, parse_status("Available").label
    ('on_scene', 'available')
    >>> parse_status("teleporting") is None
    True
    """
    primary, _, secondary = text.partition("/")
    word = _key(secondary) if secondary.strip() else _key(primary)
    label = _SYNONYMS.get(word)
    if label is None:
        return None
    return Reported(label, _LABELS[label])


def shown(state: TeamStatus, reported: str | None) -> str:
    """The label to show for a unit in session ``state`` whose last report was ``reported``.

    A unit on a call shows the finer status the CAD reported last (``on_scene``); otherwise the
    session's own state is shown, since the session moves units (a break starts, a shift
    ends, a returning unit reaches its station) without a report.
    """
    if state is TeamStatus.DISPATCHED and reported is not None and _LABELS[reported].committed:
        return reported
    return state.value
