#!/usr/bin/env bash
# Install simlab into a project-local virtual environment (.venv) and open the course in JupyterLab.
#
#   bash scripts/course.sh [extra jupyter lab options, e.g. --no-browser --port 8899]
#
# JupyterLab keeps its token: open the URL with ?token=... that it prints. Stop it with Ctrl-C.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_venv ""

args=(--ServerApp.root_dir="$SIMLAB_ROOT/notebooks")
is_root && args+=(--allow-root)  # Jupyter refuses to run as root without it

# Open the first lesson if there is one, else the course folder.
first="$(find "$SIMLAB_ROOT/notebooks" -maxdepth 1 -name '[0-9]*.ipynb' | sort | head -n 1)"
[ -n "$first" ] && args+=("$first")

say "Starting JupyterLab on the course (notebooks/)"
exec "$VENV/bin/jupyter" lab "${args[@]}" "$@"
