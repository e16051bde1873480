#!/bin/bash
# Issue 19's accuracy ceilings, one run at a time with torch's default threads on a quiet 2-core machine
# (nothing else running), with solve()'s defaults: allen_cahn at 600 s and poisson_kan at 600 s (KAN seeds
# 0, 1, 2), and poisson_kan at 60 s and 300 s for the KAN (seeds 0, 1, 2) beside the MLP (seed 0):
#   OUT=tests/results/2026-12-02-speed.jsonl bash tests/results/speed_bench.sh      (about 100 minutes)
# CASES picks a subset, e.g. CASES="allen_cahn:600:kan" (name:budget:kinds, kinds joined by +).
HERE="$(cd "$(dirname "$0")" && pwd)"
PY="${PY:-$HERE/../../.venv/bin/python}"
OUT="${OUT:-$PWD/speed.jsonl}"
CASES="${CASES:-allen_cahn:600:kan poisson_kan:600:kan poisson_kan:60:kan+mlp poisson_kan:300:kan+mlp}"
SEEDS="${SEEDS:-0 1 2}"
run() { "$PY" "$HERE/speed_case.py" "$@" 2>/dev/null | tail -1 >> "$OUT"; }
for spec in $CASES; do
  IFS=: read -r name budget kinds <<< "$spec"
  for kind in ${kinds//+/ }; do
    if [ "$kind" = mlp ]; then run "$name" "$budget" mlp 0; else for seed in $SEEDS; do run "$name" "$budget" kan "$seed"; done; fi
  done
done
