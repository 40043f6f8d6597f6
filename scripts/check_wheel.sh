#!/usr/bin/env bash
# The package as a user gets it: build the wheel, install it without extras into a fresh virtual
# environment (versions from requirements.lock), and from an empty folder run the commands a new
# user runs, including their mistakes. Each check must exit as expected and never print a
# traceback. Ends with "wheel: N passed, M failed"; exits non-zero when any check failed.
#
#   scripts/check_wheel.sh            # builds with .venv/bin/python (make installs it)
#   PYTHON=... BASE_PYTHON=... scripts/check_wheel.sh
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"  # has the locked build tools
BASE_PYTHON="${BASE_PYTHON:-$(command -v python3.11 || command -v python3)}"
LOCK="$ROOT/requirements.lock"
OAKLAND="$ROOT/tests/data/West-Oakland.osm.bz2"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/dispatch-wheel.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0

# check NAME EXPECTED_STATUS PATTERN COMMAND...: run COMMAND in the empty folder; it must exit
# with EXPECTED_STATUS, print no traceback and, when PATTERN is not empty, print PATTERN.
check() {
    local name="$1" expected="$2" pattern="$3"
    shift 3
    local out="$WORK/last.out" status
    (cd "$WORK/empty" && "$@") >"$out" 2>&1
    status=$?
    local why=""
    if [[ "$status" != "$expected" ]]; then
        why="exit status $status, expected $expected"
    elif grep -q "Traceback" "$out"; then
        why="printed a traceback"
    elif [[ -n "$pattern" ]] && ! grep -qF -- "$pattern" "$out"; then
        why="did not print '$pattern'"
    fi
    if [[ -z "$why" ]]; then
        passed=$((passed + 1))
        echo "ok    $name"
    else
        failed=$((failed + 1))
        echo "FAIL  $name: $why"
        sed 's/^/      | /' "$out" | tail -n 25
    fi
}

summary() {
    echo "wheel: $passed passed, $failed failed"
    [[ "$failed" == 0 ]]
}

echo "== building the wheel"
if ! "$PYTHON" -m build --wheel --no-isolation --outdir "$WORK/dist" "$ROOT" >"$WORK/build.log" 2>&1; then
    tail -n 30 "$WORK/build.log"
    failed=$((failed + 1))
    summary
    exit 1
fi
WHEEL="$(ls "$WORK"/dist/coresponder_dispatch-*.whl)"
echo "built $(basename "$WHEEL")"

echo "== installing it without extras into a fresh venv, versions from the lock"
"$BASE_PYTHON" -m venv "$WORK/venv"
VENV_BIN="$WORK/venv/bin"
mkdir "$WORK/empty"
check "pip from the lock" 0 "" "$VENV_BIN/python" -m pip install --quiet -c "$LOCK" pip
check "install the wheel" 0 "" "$VENV_BIN/python" -m pip install --quiet -c "$LOCK" "$WHEEL"
if [[ ! -x "$VENV_BIN/dispatch" ]]; then
    echo "FAIL  no dispatch command after the install"
    failed=$((failed + 1))
    summary
    exit 1
fi
export PATH="$VENV_BIN:$PATH"
unset PYTHONPATH

echo "== from an empty folder"
check "the package comes from the venv" 0 "$WORK/venv/" \
    python -c "import dispatch; print(dispatch.__file__)"
check "no click installed (typer brings its own)" 0 "click: absent" python -c \
    "import importlib.util as u; print('click:', 'absent' if u.find_spec('click') is None else 'present')"
check "dispatch --help" 0 "simulate" dispatch --help
check "python -m dispatch --help" 0 "simulate" python -m dispatch --help
check "dispatch --version" 0 "dispatch $("$VENV_BIN/python" -c \
    'from importlib.metadata import version; print(version("coresponder-dispatch"))')" \
    dispatch --version
check "bundled Denver network" 0 "482 1342" python -c \
    "from dispatch.networks import denver_network as d; n = d(); print(n.n_places, n.n_edges)"
check "bundled St. Louis data" 0 "6947" python -c \
    "from dispatch import datasets; import pandas as pd; print(len(pd.read_csv(datasets.stlouis().calls)))"
check "dispatch demo" 0 "Joint assignment" dispatch demo --out demo
check "the demo wrote its report" 0 "" test -s "$WORK/empty/demo/report.html"
check "dispatch init" 0 "stlouis_cru.toml" dispatch init mine
check "dispatch simulate on an initialised scenario" 0 "results:" \
    dispatch simulate mine/scenarios/stlouis_cru.toml --out cru --replications 2
check "the copy's results" 0 "" test -s "$WORK/empty/cru/summary.json"
check "dispatch simulate on 2 worker processes" 0 "results:" \
    dispatch simulate mine/scenarios/stlouis_cru.toml --out cru2 --replications 2 --workers 2
check "the same results on 2 workers" 0 "identical" python -c \
    "import json; a, b = (json.load(open(f + '/summary.json')) for f in ('cru', 'cru2')); print('identical' if a == b else 'different')"
check "dispatch simulate the Denver copy" 0 "results:" \
    dispatch simulate mine/scenarios/denver_downtown.toml --out denver --replications 1

echo "== user mistakes: status 2, a few lines, no traceback"
check "init over existing files" 2 "--force" dispatch init mine
check "init --force" 0 "overwrote" dispatch init mine --force
check "no command" 2 "Usage" dispatch
check "missing argument" 2 "Missing argument" dispatch simulate
check "unknown command" 2 "No such command" dispatch frobnicate
check "unknown option" 2 "No such option" dispatch simulate mine/scenarios/stlouis_cru.toml --out x --bogus
check "value of the wrong type" 2 "--replications" \
    dispatch simulate mine/scenarios/stlouis_cru.toml --out x --replications abc
check "missing scenario file" 2 "not found" dispatch simulate missing.toml --out x
check "missing call log" 2 "missing.csv" dispatch data check missing.csv
check "unreadable call log (a folder)" 2 "directory" dispatch data check mine
check "output under a file" 2 "error:" \
    dispatch simulate mine/scenarios/stlouis_cru.toml --out mine/scenarios/stlouis_cru.toml/out
check "osm extra missing" 2 "pip install 'coresponder-dispatch[osm]'" \
    dispatch network import "$OAKLAND" --out net.graphml
check "distributed extra missing" 2 "pip install 'coresponder-dispatch[distributed]'" \
    dispatch sweep mine/scenarios/stlouis_cru.toml --out sweep --replications 1 \
    --scheduler tcp://127.0.0.1:9
check "service extra missing (serve)" 2 "pip install 'coresponder-dispatch[service]'" \
    dispatch serve mine/scenarios/stlouis_cru.toml
check "service extra missing (keys)" 2 "pip install 'coresponder-dispatch[service]'" \
    dispatch keys create --role admin

echo "== the live service from the wheel with its extra"
check "install the service extra" 0 "" "$VENV_BIN/python" -m pip install --quiet -c "$LOCK" \
    "$WHEEL[service]"
check "serve, a call, a bad call, audit replay" 0 "live smoke: ok" \
    python "$ROOT/scripts/live_smoke.py" mine/scenarios/stlouis_cru.toml

summary
