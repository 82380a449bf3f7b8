#!/usr/bin/env bash
# Install simlab with its test tools into .venv and run every check: lint, unit tests, notebooks.
#
#   bash scripts/test.sh
#
# Steps: ruff check; pytest tests (unit, statistical, property and browser tests); pytest --nbval
# on notebooks/ in strict mode with the sanitizer tests/nbval_sanitize.cfg. Every step runs even if
# an earlier one fails; the exit status is non-zero if any failed. The browser test needs Debian's
# chromium: installed with apt-get when running as root, otherwise install it yourself.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SIMLAB_ROOT"

TOOLS_EXTRAS="test,dev"
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
    if [ "$rc" = 0 ]; then
        record "$name" "passed" $((SECONDS - t0))
    elif [ "$rc" = 5 ] && [ "${ALLOW_EMPTY:-0}" = 1 ]; then
        record "$name" "passed (nothing to collect)" $((SECONDS - t0))
    else
        record "$name" "FAILED (exit $rc)" $((SECONDS - t0))
    fi
}

# -- install -----------------------------------------------------------------------------------
t0=$SECONDS
ensure_venv "$TOOLS_EXTRAS"
missing=()
for tool in ruff pytest; do
    [ -x "$VENV/bin/$tool" ] || missing+=("$tool")
done
for module in nbval hypothesis yaml playwright voila distributed pyarrow; do
    "$VPY" -c "import $module" 2>/dev/null || missing+=("$module")
done
if [ ${#missing[@]} -gt 0 ]; then
    record "install (.venv)" "FAILED (missing: ${missing[*]})" $((SECONDS - t0))
    warn "not installed: ${missing[*]}; pyproject.toml's [test] and [dev] extras must provide them"
else
    record "install (.venv)" "passed" $((SECONDS - t0))
fi

t0=$SECONDS
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
    record "chromium" "present" $((SECONDS - t0))
elif apt_install chromium; then
    record "chromium" "installed" $((SECONDS - t0))
elif is_root; then
    record "chromium" "FAILED (apt-get install chromium)" $((SECONDS - t0))
else
    record "chromium" "missing (not root: sudo apt-get install chromium)" $((SECONDS - t0))
    warn "chromium is not installed and this user cannot install it; the browser test cannot run"
fi

# -- checks --------------------------------------------------------------------------------------
if [ -x "$VENV/bin/ruff" ]; then
    lint_dirs=()
    for d in simlab tests benchmarks; do [ -d "$d" ] && lint_dirs+=("$d"); done
    run_step "ruff check" "$VENV/bin/ruff" check "${lint_dirs[@]}"
else
    record "ruff check" "FAILED (ruff not installed)" 0
fi

run_step "unit tests" "$VPY" -m pytest tests

if find notebooks -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' 2>/dev/null | grep -q .; then
    ALLOW_EMPTY=1 run_step "notebooks (nbval)" "$VPY" -m pytest --nbval --nbval-current-env \
        --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=120 notebooks/
else
    record "notebooks (nbval)" "passed (no notebooks yet)" 0
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
