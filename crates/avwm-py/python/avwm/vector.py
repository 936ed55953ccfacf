"""N AudioGoal environments stepped together in Rust threads (the GIL released)."""

from __future__ import annotations

from typing import Optional, Sequence, Union

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from . import _native
from .env import PathLike, observation_space, to_obs

_INFO_KEYS = (
    "geodesic_distance",
    "start_geodesic_distance",
    "path_length",
    "distance_reduction",
    "collided",
    "success",
    "steps",
)


class AudioGoalVectorEnv(VectorEnv):
    """``num_envs`` AudioGoal environments in one Rust object, stepped in parallel threads.

    Autoreset is gymnasium's next-step mode (``metadata["autoreset_mode"]``): the step after an
    environment's episode ends resets it (reward 0, not terminated, its action ignored) and
    returns the new episode's first observation. Environment ``i`` of ``reset(seed=s)`` starts
    episode ``s + i``, the same episode as ``AudioGoalEnv.reset(seed=s + i)``; its later
    episodes draw seeds derived from that one.

    Args:
        num_envs: number of environments.
        preset: ``"default"`` or ``"tiny"``.
        scene_seed: the procedural scene of every environment (unless ``scene_seeds``).
        scene_seeds: one procedural scene per environment.
        config: a simulator settings TOML file.
        threads: worker threads (0: one per core).
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 2,
        preset: str = "default",
        scene_seed: int = 0,
        scene_seeds: Optional[Sequence[int]] = None,
        config: Optional[PathLike] = None,
        threads: int = 0,
        render_mode: Optional[str] = None,
    ):
        if scene_seeds is None:
            if num_envs < 1:
                raise ValueError(f"num_envs must be at least 1, got {num_envs}")
            scene_seeds = [scene_seed] * num_envs
        elif len(scene_seeds) != num_envs:
            raise ValueError(f"{len(scene_seeds)} scene seeds for {num_envs} environments")
        if any(int(s) < 0 for s in scene_seeds):
            raise ValueError(f"scene seeds must be non-negative, got {list(scene_seeds)}")
        self._vec = _native.VecSimulator(
            [int(s) for s in scene_seeds],
            preset=preset,
            config=None if config is None else str(config),
            threads=int(threads),
        )
        self.num_envs = num_envs
        self.render_mode = render_mode
        h, w = self._vec.image_shape
        self._hw = (h, w)
        self.single_observation_space = observation_space(h, w)
        self.single_action_space = spaces.Discrete(4)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._started = False

    def reset(self, *, seed: Union[int, Sequence[int], None] = None, options: Optional[dict] = None):
        super().reset(seed=seed)
        if options:
            raise ValueError(f"the vector environment takes no reset options, got {sorted(options)}")
        if seed is None:
            seeds = [int(s) for s in self.np_random.integers(0, 2**63 - 1, size=self.num_envs)]
        elif isinstance(seed, (int, np.integer)):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = [int(s) for s in seed]
            if len(seeds) != self.num_envs:
                raise ValueError(f"{len(seeds)} seeds for {self.num_envs} environments")
        if any(s < 0 for s in seeds):
            raise ValueError(f"seeds must be non-negative, got {seeds}")
        rgb, audio, infos = self._vec.reset(seeds)
        self._started = True
        obs = to_obs(rgb, audio, *self._hw, n=self.num_envs)
        return obs, self._batch_infos(infos, seeds)

    def step(self, actions):
        if not self._started:
            raise RuntimeError("step() called before reset()")
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,):
            raise ValueError(f"expected {self.num_envs} actions, got shape {actions.shape}")
        if not np.all((actions >= 0) & (actions <= 3)):
            raise ValueError(f"actions must be in 0..3, got {actions.tolist()}")
        rgb, audio, infos = self._vec.step([int(a) for a in actions])
        obs = to_obs(rgb, audio, *self._hw, n=self.num_envs)
        rewards = np.array([i["reward"] for i in infos], dtype=np.float64)
        done = np.array([i["done"] for i in infos], dtype=bool)
        stopped = np.array(
            [i["done"] and not i["was_reset"] and int(a) == 0 for i, a in zip(infos, actions)],
            dtype=bool,
        )
        terminated = stopped
        truncated = done & ~stopped & ~np.array([i["was_reset"] for i in infos], dtype=bool)
        return obs, rewards, terminated, truncated, self._batch_infos(infos)

    def _batch_infos(self, infos: list, seeds: Optional[list] = None) -> dict:
        out = {k: np.array([i[k] for i in infos]) for k in _INFO_KEYS}
        out["pose"] = np.array([i["pose"] for i in infos], dtype=np.float32)
        ended = np.array(["spl" in i for i in infos], dtype=bool)
        out["spl"] = np.array([i.get("spl", 0.0) for i in infos], dtype=np.float32)
        out["_spl"] = ended
        if seeds is not None:
            out["episode_seed"] = np.array(seeds, dtype=np.uint64)
        return out

    def close_extras(self, **kwargs):
        self._vec = None
