#!/bin/bash
# The rest of the gallery's measurement at HEAD: the default KAN at seeds 1 and 2 (seed 0 is in
# 2026-12-01-gallery-before-after.jsonl, version "after") and the default MLP at seed 0 on the 8 cases not in
# 2026-12-01-gallery-mlp.jsonl. Two runs at once, one thread each, 120 s per case, on a quiet 2-core machine:
#   OUT=tests/results/2026-12-01-gallery-seeds.jsonl bash tests/results/gallery_seeds.sh
# About 40 minutes. One JSON line per run (gallery_case.py).
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
HERE="$(cd "$(dirname "$0")" && pwd)"
PY="${PY:-$HERE/../../.venv/bin/python}"
OUT="${OUT:-$PWD/gallery-seeds.jsonl}"
run() { "$PY" "$HERE/gallery_case.py" "$@" 2>/dev/null | tail -1 >> "$OUT"; }
for c in Helmholtz Poisson3D Reaction1D VariableCoefficient CubicReaction AdvectionDiffusion MixedBox Ramp FacesDirichlet \
  PeriodicChannel HeatFastMode HeatWalls HeatNeumann FisherKPP AdvectionDiffusionPeriodic Heat2D; do
  run $c 120 kan 1 & run $c 120 kan 2 & wait
done
set -- Reaction1D VariableCoefficient CubicReaction AdvectionDiffusion Ramp PeriodicChannel HeatNeumann AdvectionDiffusionPeriodic
while [ $# -gt 0 ]; do
  run "$1" 120 mlp 0 & run "$2" 120 mlp 0 & wait
  shift 2
done
