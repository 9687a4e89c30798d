#!/usr/bin/env bash
# Runs the test suite against provisioned PostgreSQL + Redis (see tests/_services.py):
#   scripts/test.sh [pytest args...]
# Env: XINEX_TEST_DATABASE_URL, XINEX_TEST_REDIS_URL (use these servers),
#      XINEX_TEST_FORCE_THROWAWAY=1 (start throwaway servers even if local ones run).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=.venv/bin/python
[[ -x "$PY" ]] || { echo "scripts/test.sh: $PY missing; run 'make install' first" >&2; exit 2; }

"$PY" tests/_services.py run -- "$PY" -m pytest -q -p no:cacheprovider "$@"
rc=$?
if [[ $rc -eq 5 ]]; then
    echo "scripts/test.sh: pytest collected no tests (exit 5) - failing" >&2
fi
exit $rc
