#!/bin/bash
# The gallery with the default KAN, two checkouts side by side (one thread each, both at once on the two
# cores), seed 0, 120 s per case: one JSON line per case and version.
#   AFTER=/path/to/checkout BEFORE=/path/to/older/checkout BEFORE_PY=/path/to/its/venv/bin/python \
#     bash tests/results/gallery_side_by_side.sh
# The older checkout needs problems/gallery.py copied in. AFTER's python is $AFTER/.venv/bin/python.
# Results of 2026-12-01 (after = commit 30d21c4, before = 9a94f65): 2026-12-01-gallery-before-after.jsonl
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="${OUT:-$PWD/gallery-before-after.jsonl}"
: > "$OUT"
for c in Helmholtz Poisson3D Reaction1D VariableCoefficient CubicReaction AdvectionDiffusion MixedBox Ramp FacesDirichlet \
  PeriodicChannel HeatFastMode HeatWalls HeatNeumann FisherKPP AdvectionDiffusionPeriodic Heat2D; do
  (cd "$AFTER" && "$AFTER/.venv/bin/python" "$HERE/gallery_case.py" $c 120 kan 0 2>/dev/null | tail -1 | sed 's/^{/{"version": "after", /' >> "$OUT") &
  (cd "$BEFORE" && "$BEFORE_PY" "$HERE/gallery_case.py" $c 120 kan 0 2>/dev/null | tail -1 | sed 's/^{/{"version": "before", /' >> "$OUT") &
  wait
done
