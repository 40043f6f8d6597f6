"""The matching core: eligibility rules, scoring, assignment and explanations.

Pure and importable alone by a CAD integration: no SimPy, no file I/O (except `load_rules`),
no clock, no global state.
"""

from __future__ import annotations

from dispatch.match.assign import Assignment, assign
from dispatch.match.explain import Alternative, Recommendation, Verdict
from dispatch.match.fleet import Fleet
from dispatch.match.matcher import Choice, Matcher
from dispatch.match.rules import CitRule, RuleSet, Tier, default_rules, load_rules, rules_from_dict

__all__ = [
    "Alternative",
    "Assignment",
    "Choice",
    "CitRule",
    "Fleet",
    "Matcher",
    "Recommendation",
    "RuleSet",
    "Tier",
    "Verdict",
    "assign",
    "default_rules",
    "load_rules",
    "rules_from_dict",
]
