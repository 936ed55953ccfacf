"""Throughput of the gymnasium environment against the Rust simulator, measured in one run.

Both sides play the same random action sequence in the same scene from the same episode seed:
the reference (`Simulator.run_actions`) steps in Rust without building any Python object, the
environment (`AudioGoalEnv.step`) returns NumPy observations and info dicts to Python. Rounds
alternate between the two and the medians are compared, so that load from elsewhere falls on
both. The vector environment is measured against N Rust references the same way.

    python crates/avwm-py/python/benchmarks/bench_env.py --preset default --steps 300 --out runs/bench-py.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import avwm


def actions(n: int, seed: int) -> list:
    """A random walk that rarely stops (STOP ends the episode; both sides reset alike)."""
    rng = np.random.default_rng(seed)
    return [int(a) for a in rng.choice(4, size=n, p=[0.01, 0.59, 0.2, 0.2])]


def rust_round(preset: str, scene: int, seed: int, acts: list) -> float:
    sim = avwm.Simulator(preset=preset, scene_seed=scene)
    t = time.perf_counter()
    n = sim.run_actions(seed, acts)
    return n / (time.perf_counter() - t)


def python_round(preset: str, scene: int, seed: int, acts: list) -> float:
    env = avwm.AudioGoalEnv(preset=preset, scene_seed=scene)
    t = time.perf_counter()
    env.reset(seed=seed)
    n, next_seed = 1, seed
    for a in acts:
        _, _, terminated, truncated, _ = env.step(a)
        n += 1
        if terminated or truncated:
            next_seed += 1
            env.reset(seed=next_seed)
            n += 1
    return n / (time.perf_counter() - t)


def vector_round(preset: str, scene: int, seed: int, acts: list, num_envs: int) -> float:
    v = avwm.AudioGoalVectorEnv(num_envs=num_envs, preset=preset, scene_seed=scene, threads=num_envs)
    t = time.perf_counter()
    v.reset(seed=seed)
    n = num_envs
    for a in acts:
        v.step(np.full(num_envs, a))
        n += num_envs
    return n / (time.perf_counter() - t)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="default", choices=["default", "tiny"])
    p.add_argument("--scene-seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=300, help="actions per round")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--num-envs", type=int, default=2, help="vector environment size (0 skips it)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="JSON summary (written atomically)")
    args = p.parse_args()

    acts = actions(args.steps, args.seed)
    # Warm-up: page faults, allocator, first scene build.
    rust_round(args.preset, args.scene_seed, args.seed, acts[:20])
    python_round(args.preset, args.scene_seed, args.seed, acts[:20])
    rust, py, vec, rust_n = [], [], [], []
    for r in range(args.rounds):
        print(f"round {r + 1}/{args.rounds}", flush=True)
        rust.append(rust_round(args.preset, args.scene_seed, args.seed, acts))
        py.append(python_round(args.preset, args.scene_seed, args.seed, acts))
        if args.num_envs:
            vec.append(vector_round(args.preset, args.scene_seed, args.seed, acts, args.num_envs))
    med = statistics.median
    summary = {
        "preset": args.preset,
        "scene_seed": args.scene_seed,
        "actions_per_round": args.steps,
        "rounds": args.rounds,
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "rust_steps_per_s": med(rust),
        "python_env_steps_per_s": med(py),
        "python_over_rust": med(py) / med(rust),
        "rounds_rust": rust,
        "rounds_python": py,
    }
    if args.num_envs:
        summary.update(
            {
                "num_envs": args.num_envs,
                "vector_env_steps_per_s": med(vec),
                "vector_over_rust_single": med(vec) / med(rust),
                "rounds_vector": vec,
            }
        )
    text = json.dumps(summary, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=args.out.parent, delete=False, suffix=".tmp") as f:
            f.write(text)
        os.replace(f.name, args.out)


if __name__ == "__main__":
    main()
