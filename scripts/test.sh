#!/usr/bin/env bash
# Install simlab with its test tools into .venv and run every check: lint, unit tests, notebooks.
#
#   bash scripts/test.sh           # everything
#   bash scripts/test.sh --quick   # ruff and the unit tests only: no notebooks, no browser, no
#                                  # check marked slow, 100 property scenarios instead of 500
#
# Steps: ruff check; lint-imports (the code's layers, no import cycles); pytest tests (unit,
# statistical and property tests, spread over the CPUs with pytest-xdist, one test file per worker
# at a time); pytest --nbval, in strict mode with the
# sanitizer tests/nbval_sanitize.cfg, on the solution notebooks (and the capstone lesson), one
# notebook per worker; the browser test (tests/browser). nbval and the browser test run in the
# background, beside the lint and the unit tests. Each notebook is executed once per run: the
# browser test runs every lesson in JupyterLab, nbval every solution, and
# tests/test_lessons_match_solutions.py checks that each lesson's stored outputs are its
# solution's. Every step runs even if an earlier one
# fails; the exit status is non-zero if any failed. The browser test needs
# Debian's chromium: installed with apt-get when running as root (waiting up to
# SIMLAB_APT_LOCK_TIMEOUT seconds, default 120, for another apt run to finish), otherwise install
# it yourself. The chromium step is judged by whether chromium is there when the browser test
# runs, not by apt's exit code. The run writes Python's bytecode caches (PYTHONDONTWRITEBYTECODE is
# unset for it): its processes import simlab and pytest's rewritten tests dozens of times.
set -euo pipefail
unset PYTHONDONTWRITEBYTECODE
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SIMLAB_ROOT"

TOOLS_EXTRAS="test,dev"
QUICK=0
for arg in "$@"; do
    case "$arg" in
    --quick) QUICK=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$arg' (options: --quick)" ;;
    esac
done
START=$SECONDS
declare -a NAMES=() STATES=() TIMES=()

record() { NAMES+=("$1"); STATES+=("$2"); TIMES+=("$3"); }

# run_step NAME COMMAND...: run, time and record a step. Exit code 5 (pytest: nothing collected)
# counts as "empty" when ALLOW_EMPTY=1.
run_step() {
    local name="$1" t0=$SECONDS rc=0
    shift
    say "$name: $*"
    "$@" </dev/null || rc=$?
    record_outcome "$name" "$rc" $((SECONDS - t0)) ""
}

# record_outcome NAME EXIT_CODE SECONDS SUFFIX: record a finished step by its exit code.
record_outcome() {
    if [ "$2" = 0 ]; then
        record "$1" "passed$4" "$3"
    elif [ "$2" = 5 ] && [ "${ALLOW_EMPTY:-0}" = 1 ]; then
        record "$1" "passed (nothing to collect)" "$3"
    else
        record "$1" "FAILED (exit $2)" "$3"
    fi
}

# start_background NAME COMMAND...: start a step in the background, its output kept for later.
# finish_background NAME: wait for it, print its output, record its result and its time (from
# its start to its end).
declare -A BG_PID=() BG_OUT=() BG_T0=()
start_background() {
    local name="$1" out
    shift
    out="$(mktemp)"
    say "$name (in the background): $*"
    BG_OUT[$name]="$out"
    BG_T0[$name]=$SECONDS
    (
        rc=0
        t0=$SECONDS
        "$@" </dev/null >"$out" 2>&1 || rc=$?
        echo "$rc $((SECONDS - t0))" >"$out.rc"
    ) &
    BG_PID[$name]=$!
}
finish_background() {
    local name="$1" out rc took
    out="${BG_OUT[$name]}"
    wait "${BG_PID[$name]}" || true
    say "$name output:"
    cat "$out"
    read -r rc took 2>/dev/null <"$out.rc" || { rc=1; took=$((SECONDS - BG_T0[$name])); }
    rm -f "$out" "$out.rc"
    record_outcome "$name" "$rc" "$took" " (in the background)"
}

# -- install -----------------------------------------------------------------------------------
t0=$SECONDS
ensure_venv "$TOOLS_EXTRAS"
missing=()
for tool in ruff lint-imports pytest; do
    [ -x "$VENV/bin/$tool" ] || missing+=("$tool")
done
# Found, not imported: importing them all would take about 10 s (otter alone about 6 s).
# shellcheck disable=SC2207
missing+=($("$VPY" -c 'import importlib.util as u, sys
print(*[m for m in sys.argv[1:] if u.find_spec(m) is None])' \
    nbval hypothesis yaml otter playwright voila distributed pyarrow 2>/dev/null || echo python))
if [ ${#missing[@]} -gt 0 ]; then
    record "install (.venv)" "FAILED (missing: ${missing[*]})" $((SECONDS - t0))
    warn "not installed: ${missing[*]}; pyproject.toml's [test] and [dev] extras must provide them"
else
    record "install (.venv)" "passed" $((SECONDS - t0))
fi

chromium_present() { command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; }

t0=$SECONDS
chromium_how=""
if [ "$QUICK" = 1 ]; then
    chromium_how="not needed (--quick)"
elif chromium_present; then
    chromium_how="present"
elif apt_install chromium; then
    chromium_how="installed"
elif is_root; then
    warn "apt-get install chromium failed; the browser test will tell whether chromium is there"
    chromium_how="apt-get failed"
else
    warn "chromium is not installed and this user cannot install it; the browser test cannot run"
fi
chromium_t=$((SECONDS - t0))

# -- checks --------------------------------------------------------------------------------------
# The browser test and nbval run in the background, beside the lint and the unit tests: each
# waits on kernels, JupyterLab or chromium part of the time, and the three together keep both
# cores busy until the end (one after the other they left a core idle at each one's tail). Their
# outputs are printed, and their results recorded, when the unit tests are done.
if [ "$QUICK" != 1 ]; then
    start_background "browser test" "$VPY" -m pytest tests/browser -q
fi

if [ -x "$VENV/bin/ruff" ]; then
    lint_dirs=()
    for d in simlab tests benchmarks; do [ -d "$d" ] && lint_dirs+=("$d"); done
    run_step "ruff check" "$VENV/bin/ruff" check "${lint_dirs[@]}"
else
    record "ruff check" "FAILED (ruff not installed)" 0
fi
# The layers and no import cycles: the import-linter contracts in pyproject.toml.
if [ -x "$VENV/bin/lint-imports" ]; then
    run_step "import layers (lint-imports)" "$VENV/bin/lint-imports" --no-cache
else
    record "import layers (lint-imports)" "FAILED (import-linter not installed)" 0
fi

# pytest-xdist spreads the unit tests over the CPUs, one test file per worker at a time (so a
# file's module-scoped fixtures are built once), and the notebooks one notebook per worker.
# The unit tests get one worker more than there are cores: the grading tests' worker mostly waits
# for notebook kernels and cell timeouts, and the other workers keep the cores busy meanwhile.
xdist=() unit_xdist=()
if cpus="$("$VPY" -c 'import os, xdist; print(os.cpu_count() or 1)' 2>/dev/null)"; then
    xdist=(-n auto --dist loadfile)
    unit_xdist=(-n "$((cpus + 1))" --dist loadfile)
fi
if [ "$QUICK" = 1 ]; then
    SIMLAB_SCENARIOS="${SIMLAB_SCENARIOS:-100}" run_step "unit tests" "$VPY" -m pytest tests \
        --ignore=tests/browser -m "not slow" -q "${xdist[@]}"
    record "browser test" "skipped (--quick)" 0
    record "notebooks (nbval)" "skipped (--quick)" 0
else
    has_notebooks=0
    if find notebooks -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' 2>/dev/null | grep -q .; then
        has_notebooks=1
        # Each notebook is executed once per run: the lessons in the browser test, the solutions
        # here. The capstone lesson too: its leaderboard ranks the student's own policy, so its
        # outputs are not its solution's (tests/test_lessons_match_solutions.py).
        start_background "notebooks (nbval)" "$VPY" -m pytest --nbval --nbval-current-env \
            --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=120 -q \
            "${xdist[@]}" notebooks/solutions/ notebooks/09b_keep_alive_policy.ipynb
    fi

    run_step "unit tests" "$VPY" -m pytest tests --ignore=tests/browser -q "${unit_xdist[@]}"

    if [ "$has_notebooks" = 1 ]; then
        ALLOW_EMPTY=1 finish_background "notebooks (nbval)"
    else
        record "notebooks (nbval)" "passed (no notebooks yet)" 0
    fi
    finish_background "browser test"
    # Chromium counts as there if it was there when the browser test ran.
    if chromium_present; then
        record "chromium" "${chromium_how:-present} (at the browser test)" "$chromium_t"
    elif is_root; then
        record "chromium" "FAILED (missing at the browser test: ${chromium_how})" "$chromium_t"
    else
        record "chromium" "missing (not root: sudo apt-get install chromium)" "$chromium_t"
    fi
fi

# -- summary -------------------------------------------------------------------------------------
failed=0
printf '\n%s\n' "================================ simlab test summary ================================"
for i in "${!NAMES[@]}"; do
    printf '  %-22s %-52s %5ss\n' "${NAMES[$i]}" "${STATES[$i]}" "${TIMES[$i]}"
    case "${STATES[$i]}" in FAILED*) failed=1 ;; esac
done
printf '  %-22s %-52s %5ss\n' "total" "" $((SECONDS - START))
if [ "$failed" = 0 ]; then
    printf '%s\n' "ALL CHECKS PASSED"
else
    printf '%s\n' "SOME CHECKS FAILED (see above)"
fi
exit "$failed"
