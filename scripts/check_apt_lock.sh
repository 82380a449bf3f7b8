#!/usr/bin/env bash
# Manual check that the test command survives a busy apt: hold the dpkg lock for SECONDS (default
# 60), as another apt-get or unattended-upgrades would, and run the install helper test.sh uses
# (apt_install chromium) meanwhile. It must wait for the lock, then succeed. Needs root and
# apt-get; installs nothing when chromium is already there.
#
#   sudo bash scripts/check_apt_lock.sh [SECONDS]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

hold_s="${1:-60}"
case "$hold_s" in '' | *[!0-9]*) die "SECONDS must be a whole number, got '$hold_s'" ;; esac
is_root || die "run as root: the check takes the dpkg lock"
command -v apt-get >/dev/null 2>&1 || die "apt-get not found"
[ "$hold_s" -lt "$SIMLAB_APT_LOCK_TIMEOUT" ] ||
    die "hold the lock for less than SIMLAB_APT_LOCK_TIMEOUT ($SIMLAB_APT_LOCK_TIMEOUT s)"

lock=/var/lib/dpkg/lock-frontend
ready="$(mktemp)"
# apt locks with fcntl (POSIX) locks, which flock(1) does not conflict with: hold it the same way.
python3 - "$lock" "$hold_s" "$ready" <<'PY' &
import fcntl, sys, time
with open(sys.argv[1], "a") as f:
    fcntl.lockf(f, fcntl.LOCK_EX)
    open(sys.argv[3], "w").write("held")
    time.sleep(float(sys.argv[2]))
PY
holder=$!
trap 'kill "$holder" 2>/dev/null || true; rm -f "$ready"' EXIT
until [ -s "$ready" ]; do
    kill -0 "$holder" 2>/dev/null || die "could not take $lock"
    sleep 0.2
done
say "$lock is held for ${hold_s} s by process $holder"
t0=$SECONDS
if apt_install chromium; then
    waited=$((SECONDS - t0))
    say "apt_install chromium succeeded after ${waited} s"
    [ "$waited" -ge $((hold_s - 2)) ] || warn "it finished before the lock was released: did apt take it?"
    printf '%s\n' "APT LOCK CHECK PASSED"
else
    printf '%s\n' "APT LOCK CHECK FAILED"
    exit 1
fi
