"""Summarize the gallery measurements: the KAN median of 3 seeds (seed 0 from the before/after run, seeds 1
and 2 from the seeds run) with steps, and the MLP at seed 0. ``python tests/results/gallery_summary.py``"""

import json
import statistics
from pathlib import Path

HERE = Path(__file__).resolve().parent


def rows(name):
    return [json.loads(line) for line in (HERE / name).read_text().splitlines() if line.startswith("{")]


seeds = rows("2026-12-01-gallery-seeds.jsonl")
after = {r["case"]: r for r in rows("2026-12-01-gallery-before-after.jsonl") if r.get("version") == "after"}
mlp = {r["case"]: r for r in rows("2026-12-01-gallery-mlp.jsonl") + [r for r in seeds if r["kind"] == "mlp"]}
print(f"{'case':28s} {'KAN median':>10s}  {'seeds 0 1 2':31s} {'steps':18s} {'MLP':>8s} {'steps':>6s}")
for case, first in after.items():
    kan = [first] + sorted((r for r in seeds if r["case"] == case and r["kind"] == "kan"), key=lambda r: r["seed"])
    errs = [r["rel_l2"] for r in kan]
    m = mlp.get(case)
    print(
        f"{case:28s} {statistics.median(errs):10.2e}  {' '.join(f'{e:9.2e}' for e in errs):31s} "
        f"{' '.join(str(r['steps']) for r in kan):18s} {m['rel_l2'] if m else float('nan'):8.2e} {m['steps'] if m else '':>6}"
    )
