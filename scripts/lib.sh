# Shared shell helpers for scripts/course.sh and scripts/test.sh (sourced, not run).
#
# ensure_venv EXTRAS  creates the project-local virtual environment .venv with `python3 -m venv`
#                     (or $PYTHON), installs uv into it with pip, then installs simlab in editable
#                     mode with the given extras using uv (pip if uv fails). One stamp file, shared
#                     by both scripts, records pyproject.toml's hash and the extras installed: the
#                     install is skipped when they cover what is asked, and otherwise installs the
#                     union, so alternating between course.sh and test.sh installs nothing again.
#                     Installed packages are compiled to bytecode (every kernel, test process and
#                     command then imports the scientific stack in about 2.5 s instead of 7 s on a
#                     2-core machine where PYTHONDONTWRITEBYTECODE is set); a .venv installed
#                     before this is compiled once.
# apt_install PKG...  apt-get install (root only), waiting up to $SIMLAB_APT_LOCK_TIMEOUT seconds
#                     (default 120) for another apt or dpkg run to release its lock.

SIMLAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$SIMLAB_ROOT/.venv"
VPY="$VENV/bin/python"

say() { printf '\n==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

# Seconds apt-get waits for the dpkg lock (and the package lists' lock) held by another apt run,
# e.g. unattended-upgrades, before giving up.
SIMLAB_APT_LOCK_TIMEOUT="${SIMLAB_APT_LOCK_TIMEOUT:-120}"

# apt-get with a bounded wait for the locks of another apt or dpkg run.
apt_get() {
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$SIMLAB_APT_LOCK_TIMEOUT" "$@"
}

# apt-get install the given Debian packages (root only). Tries the install from the package lists
# already there first and runs apt-get update only when that fails (fresh containers have none).
apt_install() {
    is_root || return 1
    command -v apt-get >/dev/null 2>&1 || return 1
    local log rc=0
    log="$(mktemp)"
    say "apt-get install -y $* (waiting up to ${SIMLAB_APT_LOCK_TIMEOUT} s for another apt run)"
    apt_get install -y -q "$@" </dev/null >"$log" 2>&1 || {
        say "apt-get update && apt-get install -y $*"
        { apt_get update -q && apt_get install -y -q "$@"; } </dev/null >>"$log" 2>&1
    } || rc=$?
    if [ "$rc" != 0 ]; then
        tail -n 30 "$log" >&2
        warn "apt-get failed (exit $rc)"
    fi
    rm -f "$log"
    return "$rc"
}

base_python() {
    local py="${PYTHON:-python3}"
    command -v "$py" >/dev/null 2>&1 || die "$py not found: install Python 3.11 or newer (Debian: apt-get install python3)"
    "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        die "$py is Python $("$py" -c 'import platform; print(platform.python_version())'); simlab needs 3.11 or newer (set PYTHON=python3.x)"
    printf '%s' "$py"
}

create_venv() {
    local py
    py="$(base_python)"
    say "Creating the virtual environment .venv with $py"
    if ! "$py" -m venv --clear "$VENV"; then
        # Debian ships venv's pip bootstrap (ensurepip) separately, in python3-venv.
        apt_install python3-venv ||
            die "'$py -m venv' failed; install the venv module (Debian: sudo apt-get install python3-venv) and retry"
        "$py" -m venv --clear "$VENV" || die "'$py -m venv' failed"
    fi
}

venv_is_usable() {
    [ -x "$VPY" ] && "$VPY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

# The extras of a spec list, sorted and comma-separated: "dev,test".
_extras_union() {
    printf '%s' "$*" | tr ', ' '\n\n' | sed '/^$/d' | sort -u | paste -sd, -
}

ensure_venv() {
    local extras stamp="$VENV/.simlab-install-stamp" hash have="" spec="."
    extras="$(_extras_union "$1")"
    venv_is_usable || create_venv
    hash="$(sha256sum "$SIMLAB_ROOT/pyproject.toml" | cut -d' ' -f1)"
    # Stamp: "<sha256 of pyproject.toml> <extras>"; an older stamp (".[a,b]") reads as no extras.
    if [ -f "$stamp" ] && [ "$(cut -d' ' -f1 "$stamp")" = "$hash" ]; then
        have="$(cut -s -d' ' -f2 "$stamp")"
        case "$have" in *'['*) have="$(printf '%s' "$have" | tr -d '.[]')" ;; esac
        if [ "$(_extras_union "$have" "$extras")" = "$(_extras_union "$have")" ]; then
            say "Dependencies already installed in .venv (extras: ${have:-none})"
            [ -f "$VENV/.simlab-bytecode" ] || compile_venv
            quiet_jupyterlab
            return 0
        fi
    fi
    extras="$(_extras_union "$have" "$extras")"
    [ -n "$extras" ] && spec=".[$extras]"
    say "Installing simlab and its dependencies into .venv ($spec); the first time takes about a minute"
    if [ ! -x "$VENV/bin/uv" ]; then
        "$VPY" -m pip install --quiet --disable-pip-version-check uv ||
            warn "could not install uv; falling back to pip"
    fi
    if ! (cd "$SIMLAB_ROOT" && [ -x "$VENV/bin/uv" ] &&
        "$VENV/bin/uv" pip install --python "$VPY" --compile-bytecode \
            --excludes "$SIMLAB_ROOT/scripts/install-excludes.txt" -e "$spec"); then
        warn "uv failed or is missing; installing with pip (slower)"
        (cd "$SIMLAB_ROOT" &&
            "$VPY" -m pip install --disable-pip-version-check --compile -e "$spec") ||
            die "installing simlab failed"
    fi
    printf '%s %s' "$hash" "$extras" >"$stamp"
    touch "$VENV/.simlab-bytecode"
    quiet_jupyterlab
}

# Compile .venv's installed packages to bytecode, once (a .venv installed without it).
compile_venv() {
    say "Compiling .venv's packages to bytecode (once; faster imports from then on)"
    "$VPY" -m compileall -q -j 0 "$("$VPY" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
        >/dev/null 2>&1 || warn "compiling .venv's packages failed; imports stay slower"
    touch "$VENV/.simlab-bytecode"
}

# Turn off JupyterLab's news and update checks inside .venv (no pop-up in class, no web requests).
quiet_jupyterlab() {
    local dir="$VENV/share/jupyter/lab/settings"
    mkdir -p "$dir"
    [ -f "$dir/overrides.json" ] && return 0
    cat >"$dir/overrides.json" <<'JSON'
{
  "@jupyterlab/apputils-extension:notification": {
    "checkForUpdates": false,
    "fetchNews": "false"
  }
}
JSON
}
