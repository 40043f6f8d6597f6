"""`dispatch.plan` names the planning contract of DESIGN.md and loads its modules on demand."""

from __future__ import annotations

import subprocess
import sys

import pytest

import dispatch.plan

CONTRACT = {  # DESIGN.md, "Planning"
    "erlang_b",
    "erlang_c",
    "service_level",
    "mean_wait_s",
    "servers_needed",
    "site_posts",
}


def test_the_design_names_are_public() -> None:
    assert set(dispatch.plan.__all__) >= CONTRACT


@pytest.mark.parametrize("name", dispatch.plan.__all__)
def test_every_public_name_resolves_to_its_module(name: str) -> None:
    value = getattr(dispatch.plan, name)
    assert value.__module__.startswith("dispatch.plan.")
    assert name in dir(dispatch.plan)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = dispatch.plan.no_such_thing  # type: ignore[attr-defined]


def test_importing_the_package_loads_no_solver_and_no_pandas() -> None:
    code = "import sys, dispatch.plan; print('pandas' in sys.modules, 'ortools' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
