#!/bin/bash
# Issue 18's targets, one run at a time with torch's default threads on a quiet 2-core machine (nothing else
# running): darcy_piecewise at 120 s and 600 s with the default recipe (the energy form), the default KAN at
# seeds 0, 1, 2 and the default MLP at seed 0; darcy_smooth and poisson_kan at 60 s under the strong and the
# energy form side by side (KAN seeds 0, 1, 2, MLP seed 0); the reference's own error first:
#   OUT=tests/results/2026-12-02-energy.jsonl bash tests/results/energy_bench.sh      (about 75 minutes)
HERE="$(cd "$(dirname "$0")" && pwd)"
PY="${PY:-$HERE/../../.venv/bin/python}"
OUT="${OUT:-$PWD/energy.jsonl}"
CASES="${CASES:-darcy_piecewise:120:default darcy_piecewise:600:default darcy_smooth:60:strong darcy_smooth:60:energy poisson_kan:60:strong poisson_kan:60:energy}"
run() { "$PY" "$HERE/energy_case.py" "$@" 2>/dev/null | tail -1 >> "$OUT"; }
[ -n "$SKIP_REFERENCE" ] || run reference
for spec in $CASES; do
  IFS=: read -r name budget form <<< "$spec"
  for seed in 0 1 2; do run "$name" "$budget" kan "$seed" "$form"; done
  run "$name" "$budget" mlp 0 "$form"
done
