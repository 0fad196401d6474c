#!/usr/bin/env bash
# The whole test suite: lint, types, architecture contracts, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"; ruff check . && ruff format --check .
echo "== mypy"; mypy routing scheduling webapp
echo "== import-linter"; lint-imports
echo "== pytest"; pytest "$@"
