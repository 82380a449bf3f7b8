#!/usr/bin/env bash
# Install simlab into a project-local virtual environment (.venv) and open the course in JupyterLab.
#
#   bash scripts/course.sh [extra jupyter lab options, e.g. --no-browser --port 8899]
#
# JupyterLab keeps its token: open the address it prints, which opens the first lesson
# (http://127.0.0.1:8888/lab/tree/00_start_here.ipynb?token=...). Stop it with Ctrl-C.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_venv ""

args=(--ServerApp.root_dir="$SIMLAB_ROOT/notebooks")
is_root && args+=(--allow-root)  # Jupyter refuses to run as root without it

# The address JupyterLab prints and opens is the first lesson's (else the course folder), not
# /lab, which would restore whatever was open last.
first="$(find "$SIMLAB_ROOT/notebooks" -maxdepth 1 -name '[0-9]*.ipynb' | sort | head -n 1)"
[ -n "$first" ] && args+=(--LabApp.default_url="/lab/tree/$(basename "$first")")

say "Starting JupyterLab on the course (notebooks/); open the address below that ends in ${first:+$(basename "$first")?}token=..."
exec "$VENV/bin/jupyter" lab "${args[@]}" "$@"
