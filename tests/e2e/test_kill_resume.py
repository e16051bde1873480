"""Real processes killed with SIGKILL at random moments, resumed from their checkpoint each time: the run
folder always holds a whole checkpoint, and the last resume ends with the weights of a run never killed."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from kanpde.solvers.checkpoint import CHECKPOINT

SCRIPT = textwrap.dedent(
    """
    import math, sys
    import torch
    import kanpde
    from kanpde.problems import Poisson
    from kanpde.solvers import LBFGS, Adam, Refine, Resample

    folder, resume = sys.argv[1], sys.argv[2] == "resume"
    problem = Poisson(
        source=lambda x: -2 * math.pi**2 * torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1]),
        exact=lambda x: torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1]),
        n_interior=400, n_boundary=48, eval_points=17,
    )
    schedule = [Adam(steps=40, lr=5e-3, batch=128), LBFGS(steps=40), Refine(grid=10), Resample(adaptive=True),
                LBFGS(steps=None)]
    net = kanpde.KAN([2, 5, 1], grid=5, seed=4)
    sol = kanpde.solve(problem, net, schedule=schedule, steps=140, seed=2, progress=False, constraints="soft",
                       checkpoint=folder, checkpoint_every=0, resume=folder if resume else None)
    sol.save(folder + "/final")
    """
)


ENV = {**os.environ, "OMP_NUM_THREADS": "1"}  # the same threads in every process: the same rounding


def solve_in_process(script, folder, resume):
    return subprocess.Popen(
        [sys.executable, str(script), str(folder), "resume" if resume else "fresh"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=ENV,
    )


def final_weights(folder):
    return torch.load(folder / "final" / "model.pt", weights_only=True)


def kill_and_resume(tmp_path, kills, seed):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    reference = tmp_path / "reference"
    done = subprocess.run(
        [sys.executable, str(script), str(reference), "fresh"], capture_output=True, text=True, env=ENV
    )
    assert done.returncode == 0, done.stderr
    folder, rng, resume, killed, at = tmp_path / "killed", random.Random(seed), False, 0, []
    while True:
        proc = solve_in_process(script, folder, resume)
        if killed < kills:
            time.sleep(rng.uniform(1.5, 4.5))  # past the imports, somewhere in training (or already done)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                killed += 1
        _, err = proc.communicate(timeout=300)
        if proc.returncode == 0:
            break
        assert proc.returncode == -signal.SIGKILL, err.decode()
        leftovers = [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] if folder.exists() else []
        for name in leftovers:  # a kill while a checkpoint was being written leaves its temporary file only
            (folder / name).unlink()
        resume = (folder / CHECKPOINT).is_file()
        at.append(torch.load(folder / CHECKPOINT, weights_only=True)["step"] if resume else None)
    expected, got = final_weights(reference), final_weights(folder)
    assert expected.keys() == got.keys()
    assert all(torch.equal(expected[k], got[k]) for k in expected), "a resumed run must end as an uninterrupted one"
    return at  # the step of the checkpoint each kill left (None: killed before training started)


def test_killed_runs_resume_to_the_same_weights(tmp_path):
    at = kill_and_resume(tmp_path, kills=3, seed=0)
    assert len(at) >= 1


@pytest.mark.slow
def test_killed_many_times(tmp_path):
    at = kill_and_resume(tmp_path, kills=15, seed=1)
    assert len(at) >= 10 and any(step is not None and 0 < step < 140 for step in at), at
