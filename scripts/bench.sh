#!/usr/bin/env bash
# Runs every benchmarks/*.py with the project's venv, one after another; each prints JSON lines.
# Extra arguments are passed to every benchmark (e.g. `bash scripts/bench.sh --sessions 10000`
# only makes sense when running one: `BENCH=sessions bash scripts/bench.sh --sessions 10000`).
# Files starting with "_" are helpers, not benchmarks. Stops at the first failing benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
shopt -s nullglob
ran=0
for script in benchmarks/*.py; do
  name="$(basename "$script" .py)"
  [[ "$name" == _* ]] && continue
  [[ -n "${BENCH:-}" && "$name" != "$BENCH" ]] && continue
  echo "== $name" >&2
  "$PY" "$script" "$@"
  ran=$((ran + 1))
done
if [[ $ran -eq 0 ]]; then
  echo "bench: no benchmark matched (BENCH=${BENCH:-})" >&2
  exit 1
fi
