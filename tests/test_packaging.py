"""The package as users get it: declared dependencies, the lock, data inside the wheel, extras.

- Every third-party module that ``dispatch`` imports at run time is declared in
  ``pyproject.toml``: a module-level import in the core list, an import inside a function in the
  core list or in the extra that guards it (whose error names that extra).
- ``requirements.lock`` pins every requirement of ``pyproject.toml`` inside its range.
- The built wheel carries every bundled data file and example scenario.
- Without an extra, its commands say in one line which extra to install.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dispatch"
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements.lock"
OAKLAND = ROOT / "tests" / "data" / "West-Oakland.osm.bz2"
BASE_SCENARIO = ROOT / "tests" / "data" / "scenarios" / "base" / "scenario.toml"

#: Extras that only developers install (tools; the benchmarks' baselines and data); nothing in
#: ``dispatch/`` may need them at run time.
DEV_EXTRAS = frozenset({"dev", "bench"})


@dataclass(frozen=True)
class Import:
    """A third-party import found in a module."""

    module: str  # top-level import name, e.g. "scipy"
    where: str  # "dispatch/travel.py:348"
    in_function: bool


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def third_party_imports(source: str, name: str) -> list[Import]:
    """Imports of modules outside the standard library and ``dispatch``, skipping type-only ones.

    An import counts as module-level unless a function body encloses it (class bodies and
    ``try`` blocks at the top run at import time too); imports under ``if TYPE_CHECKING:`` never
    run and are skipped.
    """
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child, in_function)
            return
        inner = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        for module in modules:
            top = module.split(".")[0]
            if top not in sys.stdlib_module_names and top not in {"__future__", "dispatch"}:
                found.append(Import(top, f"{name}:{getattr(node, 'lineno', 0)}", in_function))
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(ast.parse(source, filename=name), False)
    return found


def declared() -> tuple[set[str], dict[str, set[str]]]:
    """Core requirement names and, per extra, its requirement names (canonical)."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    core = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    extras = {
        extra: {canonicalize_name(Requirement(r).name) for r in requirements}
        for extra, requirements in project["optional-dependencies"].items()
    }
    return core, extras


def package_modules() -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in sorted(PACKAGE.rglob("*.py"))}


# A module of the live service that imports this first may import the web stack at module level:
# without the extra, the guard raises an error that names it (tested below).
_GUARD = "import dispatch.live.web_stack"
GUARDED_EXTRAS = ("service", "postgres")
WEB_STACK = ["fastapi", "uvicorn", "sqlalchemy", "alembic", "starlette"]


def dependency_problems(modules: dict[Path, str]) -> list[str]:
    """What is wrong with the imports of ``modules`` against pyproject.toml, one line each."""
    core, extras = declared()
    runtime_extras = {name: dists for name, dists in extras.items() if name not in DEV_EXTRAS}
    distributions = packages_distributions()
    problems: list[str] = []
    for path, source in modules.items():
        name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
        for found in third_party_imports(source, name):
            dists = {canonicalize_name(d) for d in distributions.get(found.module, [])}
            if not dists:
                problems.append(f"{found.where}: import {found.module}: no installed distribution")
                continue
            if dists & core:
                continue
            if _GUARD in source and any(dists & extras[e] for e in GUARDED_EXTRAS):
                continue
            if not found.in_function:
                names = ", ".join(sorted(dists))
                problems.append(
                    f"{found.where}: module-level import {found.module} ({names}) "
                    "is not a core requirement"
                )
                continue
            guarding = sorted(extra for extra, names in runtime_extras.items() if dists & names)
            if not guarding:
                problems.append(
                    f"{found.where}: import {found.module} ({', '.join(sorted(dists))}) is "
                    "declared neither in the core list nor in a run-time extra"
                )
            elif not any(f"coresponder-dispatch[{extra}]" in source for extra in guarding):
                problems.append(
                    f"{found.where}: import {found.module} needs the extra {guarding[0]!r}, "
                    f"but the module never names pip install 'coresponder-dispatch[{guarding[0]}]'"
                )
    return problems


def test_every_runtime_import_is_declared_in_pyproject() -> None:
    assert dependency_problems(package_modules()) == []


def test_every_runtime_requirement_is_imported_somewhere() -> None:
    core, extras = declared()
    distributions = packages_distributions()
    imported: set[str] = set()
    for path, source in package_modules().items():
        for found in third_party_imports(source, path.name):
            imported |= {canonicalize_name(d) for d in distributions.get(found.module, [])}
    runtime = core | set().union(*(names for e, names in extras.items() if e not in DEV_EXTRAS))
    runtime.discard("coresponder-dispatch")  # an extra that includes another
    assert sorted(runtime - imported) == []


def test_the_import_check_flags_undeclared_and_misplaced_imports() -> None:
    fake = Path("fake.py")
    module_level_extra = "import osmnx\n"
    assert any(
        "module-level import osmnx" in line
        for line in dependency_problems({fake: module_level_extra})
    )
    dev_only = "def f():\n    import pytest\n"
    assert any("neither in the core list" in line for line in dependency_problems({fake: dev_only}))
    unnamed_extra = "def f():\n    import osmnx\n"
    assert any(
        "needs the extra 'osm'" in line for line in dependency_problems({fake: unnamed_extra})
    )
    named = "HINT = \"pip install 'coresponder-dispatch[osm]'\"\ndef f():\n    import osmnx\n"
    assert dependency_problems({fake: named}) == []
    type_only = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import osmnx\n"
    assert dependency_problems({fake: type_only}) == []
    assert third_party_imports("import click\n", "x.py") == [Import("click", "x.py:1", False)]


# --------------------------------------------------------------------------------------------
# the lock


def locked_versions() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith((" ", "#")):
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", line
            pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def test_the_lock_pins_every_requirement_within_its_range() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    requirements = [*project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        requirements += extra
    pins = locked_versions()
    problems = []
    for text in requirements:
        requirement = Requirement(text)
        if canonicalize_name(requirement.name) == canonicalize_name(project["name"]):
            continue  # an extra that includes another extra
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(f"{text}: locked {pinned}")
    assert problems == []
    assert "uv" in pins and "pip" in pins  # the tools that install and regenerate it


def test_the_lock_says_how_to_regenerate_it() -> None:
    head = LOCK.read_text(encoding="utf-8").splitlines()[:2]
    assert head[1].strip() == "#    make lock"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "uv pip compile" in makefile and "-r $(LOCK)" in makefile


# --------------------------------------------------------------------------------------------
# the wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("coresponder_dispatch-*.whl")
    return built


def test_the_wheel_carries_every_data_file_and_example_scenario(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    bundled = [
        path.relative_to(ROOT).as_posix()
        for folder in (PACKAGE / "data", PACKAGE / "scenarios")
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    assert len(bundled) >= 18  # 6 scenarios, Denver (3 files), St. Louis (9 files)
    assert sorted(set(bundled) - names) == []
    assert "dispatch/__main__.py" in names and "dispatch/py.typed" in names


def test_the_wheel_declares_the_console_script_and_no_click(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    (entry_points,) = [n for n in archive.namelist() if n.endswith("entry_points.txt")]
    assert "dispatch = dispatch.cli:run" in archive.read(entry_points).decode()
    (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    requires = [
        line.split(":", 1)[1].strip()
        for line in archive.read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    core = [r for r in requires if "extra ==" not in r]
    assert not any(Requirement(r).name == "click" for r in core)
    assert any(Requirement(r).name == "typer" for r in core)


# --------------------------------------------------------------------------------------------
# missing extras: one line naming the extra, never an ImportError traceback


def run_without(modules: list[str], code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter where ``modules`` cannot be imported."""
    block = "".join(f"sys.modules[{m!r}] = None\n" for m in modules)
    return subprocess.run(
        [sys.executable, "-c", f"import sys\n{block}{code}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_names_the_extra(result: subprocess.CompletedProcess[str], extra: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"pip install 'coresponder-dispatch[{extra}]'" in lines[0]


def test_every_module_imports_without_the_extras(tmp_path: Path) -> None:
    code = (
        "import importlib, pkgutil, dispatch\n"
        "for info in pkgutil.walk_packages(dispatch.__path__, 'dispatch.'):\n"
        "    importlib.import_module(info.name)\n"
        "print('imported')\n"
    )
    result = run_without(["osmnx", "distributed", "dask"], code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"


def test_without_the_service_extra_only_the_web_modules_refuse_and_name_it(
    tmp_path: Path,
) -> None:
    code = (
        "import importlib, pkgutil, dispatch\n"
        "from dispatch.live import MissingServiceExtraError\n"
        "for info in pkgutil.walk_packages(dispatch.__path__, 'dispatch.'):\n"
        "    try:\n"
        "        importlib.import_module(info.name)\n"
        "    except MissingServiceExtraError as error:\n"
        "        print(info.name, error)\n"
    )
    result = run_without(WEB_STACK, code, tmp_path)
    assert result.returncode == 0, result.stderr
    refused = dict(line.split(" ", 1) for line in result.stdout.strip().splitlines())
    guarded = sorted(
        f"dispatch.{path.relative_to(PACKAGE).with_suffix('').as_posix().replace('/', '.')}"
        for path, source in package_modules().items()
        if (_GUARD in source or path.name == "web_stack.py") and "migrations" not in path.parts
    )
    assert sorted(refused) == guarded and "dispatch.live.app" in guarded
    assert all("pip install 'coresponder-dispatch[service]'" in m for m in refused.values())


def test_serve_without_the_service_extra_names_it(tmp_path: Path) -> None:
    scenario = PACKAGE / "scenarios" / "stlouis_cru.toml"
    code = f"from dispatch.cli import main\nsys.exit(main(['serve', {str(scenario)!r}]))\n"
    assert_names_the_extra(run_without(WEB_STACK, code, tmp_path), "service")
    assert not (tmp_path / "dispatch-live.db").exists()


def test_network_import_without_the_osm_extra_names_it(tmp_path: Path) -> None:
    argv = ["network", "import", str(OAKLAND), "--out", str(tmp_path / "net.graphml")]
    code = f"from dispatch.cli import main\nsys.exit(main({argv!r}))\n"
    assert_names_the_extra(run_without(["osmnx"], code, tmp_path), "osm")
    assert not (tmp_path / "net.graphml").exists()


def test_sweep_on_a_cluster_without_the_distributed_extra_names_it(tmp_path: Path) -> None:
    argv = [
        "sweep",
        str(BASE_SCENARIO),
        "--out",
        str(tmp_path / "sweep"),
        "--replications",
        "1",
        "--scheduler",
        "tcp://127.0.0.1:9",
    ]
    code = f"from dispatch.cli import main\nsys.exit(main({argv!r}))\n"
    assert_names_the_extra(run_without(["distributed", "dask"], code, tmp_path), "distributed")


def console_script() -> Path:
    script = Path(sys.executable).parent / "dispatch"
    assert script.is_file(), f"the dispatch console script is not installed beside {sys.executable}"
    return script


def test_the_installed_command_names_a_missing_extra(tmp_path: Path) -> None:
    # Shadow the extra's module on PYTHONPATH with one that fails to import as a missing one does.
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    for module in ("osmnx", "distributed"):
        (shadow / f"{module}.py").write_text(
            f"raise ModuleNotFoundError(\"No module named '{module}'\", name={module!r})\n",
            encoding="utf-8",
        )
    env = {**os.environ, "PYTHONPATH": str(shadow)}
    osm = subprocess.run(
        [str(console_script()), "network", "import", str(OAKLAND), "--out", "net.graphml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert_names_the_extra(osm, "osm")
    sweep = subprocess.run(
        [
            str(console_script()),
            "sweep",
            str(BASE_SCENARIO),
            "--out",
            "sweep",
            "--replications",
            "1",
            "--scheduler",
            "tcp://127.0.0.1:9",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert_names_the_extra(sweep, "distributed")
