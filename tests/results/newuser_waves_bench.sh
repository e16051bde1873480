#!/bin/bash
# The second-order-time problems written from the README (newuser_problems.WAVES), 90 s each, seeds 0-2,
# the saturating time factor beside the linear one: two runs at a time, one thread each, quiet machine.
# Usage: bash tests/results/newuser_waves_bench.sh > tests/results/DATE-newuser-waves.jsonl
cd "$(dirname "$0")" || exit 1
for seed in 0 1 2; do
  for problem in DampedString CoupledStrings; do
    OMP_NUM_THREADS=1 python newuser_waves_case.py "$problem" 90 "$seed" saturating > "/tmp/nw.$$.a" &
    OMP_NUM_THREADS=1 python newuser_waves_case.py "$problem" 90 "$seed" linear > "/tmp/nw.$$.b" &
    wait
    cat "/tmp/nw.$$.a" "/tmp/nw.$$.b"
  done
done
rm -f "/tmp/nw.$$.a" "/tmp/nw.$$.b"
