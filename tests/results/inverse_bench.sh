#!/bin/bash
# Issue 17's targets, one run at a time with torch's default threads on a quiet 2-core machine (nothing else
# running): poisson_inverse (clean and 1 % noise) at 60 s, heat_inverse and darcy_inverse at 300 s, the
# default KAN at seeds 0, 1, 2 and the default MLP at seed 0; darcy_inverse_noisy at 300 s, KAN and MLP seed 0:
#   OUT=tests/results/2026-12-02-inverse.jsonl bash tests/results/inverse_bench.sh      (about an hour)
HERE="$(cd "$(dirname "$0")" && pwd)"
PY="${PY:-$HERE/../../.venv/bin/python}"
OUT="${OUT:-$PWD/inverse.jsonl}"
CASES="${CASES:-poisson_inverse:60:0,1,2 poisson_inverse_noisy:60:0,1,2 heat_inverse:300:0,1,2 darcy_inverse:300:0,1,2 darcy_inverse_noisy:300:0}"
run() { "$PY" "$HERE/inverse_case.py" "$@" 2>/dev/null | tail -1 >> "$OUT"; }
for spec in $CASES; do
  IFS=: read -r name budget seeds <<< "$spec"
  for seed in ${seeds//,/ }; do run "$name" "$budget" kan "$seed"; done
  run "$name" "$budget" mlp 0
done
