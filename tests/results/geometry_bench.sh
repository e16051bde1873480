#!/bin/bash
# Issue 15's targets: poisson_disk (60 s), poisson_lshape and poisson_holes (120 s), poisson_cavity (300 s),
# the default KAN at seeds 0, 1, 2 and the default MLP at seed 0; two runs at once, one thread each, on a quiet
# 2-core machine: OUT=tests/results/2026-12-01-geometry.jsonl bash tests/results/geometry_bench.sh
# (gallery_case.py runs each; about 21 minutes; poisson_holes' FE reference is built once first, outside the timed runs).
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
HERE="$(cd "$(dirname "$0")" && pwd)"
PY="${PY:-$HERE/../../.venv/bin/python}"
OUT="${OUT:-$PWD/geometry.jsonl}"
"$PY" -c "import torch, kanpde; kanpde.problems.PoissonHoles().reference_values(torch.zeros(1, 2, dtype=torch.float64))"
run() { "$PY" "$HERE/gallery_case.py" "$@" 2>/dev/null | tail -1 >> "$OUT"; }
for spec in "poisson_disk 60" "poisson_lshape 120" "poisson_holes 120" "poisson_cavity 300"; do
  set -- $spec
  run $1 $2 kan 0 & run $1 $2 kan 1 & wait
  run $1 $2 kan 2 & run $1 $2 mlp 0 & wait
done
