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

    folder, resume, steps = sys.argv[1], sys.argv[2] == "resume", int(sys.argv[3])
    problem = Poisson(
        source=lambda x: -2 * math.pi**2 * torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1]),
        exact=lambda x: torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1]),
        n_interior=400, n_boundary=48, eval_points=17,
    )
    schedule = [Adam(steps=40, lr=5e-3, batch=128), LBFGS(steps=40), Refine(grid=10), Resample(adaptive=True),
                LBFGS(steps=None)]
    net = kanpde.KAN([2, 5, 1], grid=5, seed=4)
    sol = kanpde.solve(problem, net, schedule=schedule, steps=steps, seed=2, progress=False, constraints="soft",
                       checkpoint=folder, checkpoint_every=0, resume=folder if resume else None)
    sol.save(folder + "/final")
    """
)


ENV = {**os.environ, "OMP_NUM_THREADS": "1"}  # the same threads in every process: the same rounding


def solve_in_process(script, folder, resume, steps):
    return subprocess.Popen(
        [sys.executable, str(script), str(folder), "resume" if resume else "fresh", str(steps)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=ENV,
    )


def final_weights(folder):
    return torch.load(folder / "final" / "model.pt", weights_only=True)


def wait_for_training(proc, checkpoint, started, limit=120.0):
    """Until the process has written a checkpoint of its own (it is training), or has ended."""
    while proc.poll() is None and time.time() - started < limit:
        if checkpoint.is_file() and checkpoint.stat().st_mtime > started:
            return
        time.sleep(0.02)


def kill_and_resume(tmp_path, kills, seed, steps):
    """Kill a run ``kills`` times with SIGKILL, most of them at a random moment of training (up to 1 s
    after the process wrote its first checkpoint), one in five during start-up; resume after each."""
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    reference = tmp_path / "reference"
    done = subprocess.run(
        [sys.executable, str(script), str(reference), "fresh", str(steps)], capture_output=True, text=True, env=ENV
    )
    assert done.returncode == 0, done.stderr
    folder, rng, resume, killed, at = tmp_path / "killed", random.Random(seed), False, 0, []
    while True:
        started = time.time()
        proc = solve_in_process(script, folder, resume, steps)
        if killed < kills:
            if rng.random() < 0.2:
                time.sleep(rng.uniform(0.2, 2.0))  # during start-up: imports, problem, model
            else:
                wait_for_training(proc, folder / CHECKPOINT, started)
                time.sleep(rng.uniform(0.0, 1.0))  # anywhere in training, a checkpoint write included
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
    at = kill_and_resume(tmp_path, kills=3, seed=0, steps=140)
    assert any(step is not None and 0 < step < 140 for step in at), at


@pytest.mark.slow
def test_killed_many_times(tmp_path):
    at = kill_and_resume(tmp_path, kills=15, seed=1, steps=400)
    mid = [step for step in at if step is not None and 0 < step < 400]
    assert len(at) >= 10 and len(mid) >= 5, at
