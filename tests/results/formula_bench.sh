#!/usr/bin/env bash
# Issue 20's formula targets, one run at a time (quiet machine): poisson_sin at widths [2,2,1], [2,3,1] and
# [2,5,1] with seeds 0-2 in 120 s; poisson_kan (the CLI's [2,5,1]) with seeds 0-2 in 300 s; the manufactured
# exp(sin(pi x) + y^2) with seeds 0-2 in 300 s. Appends JSON lines to $1 (default: today's results file).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/$(date +%F)-formulas.jsonl}
for width in 2,2,1 2,3,1 2,5,1; do
  for seed in 0 1 2; do
    python "$here/formula_case.py" poisson_sin "$width" "$seed" 120 2>/dev/null | tail -1 >> "$out"
  done
done
for seed in 0 1 2; do
  python "$here/formula_case.py" poisson_kan default "$seed" 300 2>/dev/null | tail -1 >> "$out"
done
for seed in 0 1 2; do
  python "$here/formula_case.py" exp_sin default "$seed" 300 2>/dev/null | tail -1 >> "$out"
done
