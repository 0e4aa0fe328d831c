#!/usr/bin/env bash
# Create .venv-nomenklatura: a separate virtual environment with nomenklatura 4.17.4 (logic-v2),
# used only by bench/nomenklatura_logic_v2.py for side-by-side measurements. nomenklatura
# cannot go into the project venv (it pins duckdb<2). Needs PyPI; PyICU needs libicu-dev.
#
#   bench/nomenklatura_env.sh            # create (or reuse) .venv-nomenklatura
#   NOMENKLATURA_VENV=/tmp/nk bench/nomenklatura_env.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${NOMENKLATURA_VENV:-.venv-nomenklatura}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
echo "*" > "$VENV/.gitignore"   # never committed
"$VENV/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip
"$VENV/bin/python" -m pip install --disable-pip-version-check -q "nomenklatura==4.17.4"
"$VENV/bin/python" -c "import nomenklatura, followthemoney; print('nomenklatura', nomenklatura.__version__ if hasattr(nomenklatura, '__version__') else '4.17.4', 'ready in $VENV')"
