"""The AudioGoal task as a ``gymnasium.Env`` over avwm's Rust simulator."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Optional, Union

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from . import _native

STOP, FORWARD, TURN_LEFT, TURN_RIGHT = 0, 1, 2, 3
"""The action codes, the dataset's: 0 stop, 1 forward 0.15 m, 2 turn left 10°, 3 turn right 10°."""

PathLike = Union[str, Path]


def observation_space(height: int, width: int) -> spaces.Dict:
    """The observation space of one environment: RGB ``H×W×3`` uint8 and binaural audio
    ``2×2400`` float32 (left ear first; 0.15 s at 16 kHz, full scale 1.0)."""
    return spaces.Dict(
        {
            "rgb": spaces.Box(0, 255, shape=(height, width, 3), dtype=np.uint8),
            "audio": spaces.Box(
                -np.inf, np.inf, shape=(2, _native.STEP_SAMPLES), dtype=np.float32
            ),
        }
    )


def to_obs(rgb: bytes, audio: bytes, height: int, width: int, n: Optional[int] = None) -> dict:
    """Turns the native module's bytes into NumPy arrays (copies, so they are writable)."""
    lead = () if n is None else (n,)
    return {
        "rgb": np.frombuffer(rgb, dtype=np.uint8).reshape(lead + (height, width, 3)).copy(),
        "audio": np.frombuffer(audio, dtype="<f4")
        .reshape(lead + (2, _native.STEP_SAMPLES))
        .astype(np.float32, copy=True),
    }


def _start_from(value: Any) -> tuple:
    """``(x, y, yaw_deg)`` → ``(x, y, yaw_rad)``, checked."""
    try:
        x, y, yaw_deg = (float(v) for v in value)
    except (TypeError, ValueError) as e:
        raise ValueError(f"start must be (x, y, yaw_deg), got {value!r}") from e
    if not all(math.isfinite(v) for v in (x, y, yaw_deg)):
        raise ValueError(f"start must be finite, got {value!r}")
    return (x, y, math.radians(yaw_deg))


# The fields of a navigation episode file's line (`avwm data episodes`); those besides the scene,
# start and seed are information.
_EPISODE_KEYS = {
    "episode_id", "scene", "scene_seed", "scene_file", "scene_preset", "seed", "start", "goal",
    "geodesic_distance", "euclidean_distance", "num_action", "sound", "version",
}


def load_episodes(path: PathLike) -> list:
    """The episodes of a navigation episode file (JSON Lines from ``avwm data episodes``), each a
    dict to pass as ``env.reset(options={"episode": e})``."""
    import json

    out = []
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                e = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path} line {i}: {err}") from err
            if not isinstance(e, dict) or "start" not in e or "seed" not in e:
                raise ValueError(f"{path} line {i}: not a navigation episode")
            out.append(e)
    if not out:
        raise ValueError(f"{path}: no episodes")
    return out


class AudioGoalEnv(gym.Env):
    """AudioGoal navigation in one avwm scene (SoundSpaces' task, avwm's physics).

    A ringing source sits in a procedural apartment (or a scene file); the agent sees 128×128
    RGB and hears 0.15 s of binaural audio per step, moves forward 0.15 m or turns 10°, and
    succeeds when it calls STOP within 1 m of the source. The reward is SoundSpaces': the
    reduction of the geodesic distance, −0.01 per step, +10 on success.

    Args:
        preset: ``"default"`` (the paper's settings) or ``"tiny"`` (32×32 images, small scenes).
        scene_seed: the procedural scene (when ``scene_file`` is not given).
        scene_file: a scene TOML file (its mesh: glTF/GLB, OBJ or PLY), as ``avwm sim record --scene``.
        config: a simulator settings TOML file (sections ``camera``, ``nav``, ``acoustics``, …),
            as ``avwm sim record --config``; overrides the preset's simulator settings.
        render_mode: ``"rgb_array"`` makes ``render()`` return the last RGB frame.

    ``reset(seed=…, options=…)`` options:
        ``scene_seed`` / ``scene_file``: switch scene (the simulator is rebuilt when it changes);
        ``start``: ``(x, y, yaw_deg)`` instead of the seed's random navigable start;
        ``episode``: one line of a navigation episode file (``avwm data episodes``, read with
        ``avwm.load_episodes``): its ``scene_seed``, ``start`` and ``seed``.

    ``terminated`` is True after STOP, ``truncated`` at the 500-action cap. ``info`` holds the
    pose, ``geodesic_distance``, ``success`` and, at the end of an episode, ``spl``.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 1.0 / 0.15}

    def __init__(
        self,
        preset: str = "default",
        scene_seed: int = 0,
        scene_file: Optional[PathLike] = None,
        config: Optional[PathLike] = None,
        render_mode: Optional[str] = None,
    ):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode {render_mode!r} is not one of {self.metadata['render_modes']}")
        self.render_mode = render_mode
        self._preset = preset
        self._config = None if config is None else str(config)
        self._scene_key: tuple = ()
        self._sim: Optional[_native.Simulator] = None
        self._load_scene(int(scene_seed), scene_file)
        h, w = self._sim.image_shape
        self._hw = (h, w)
        self.observation_space = observation_space(h, w)
        self.action_space = spaces.Discrete(4)
        self._last_rgb: Optional[np.ndarray] = None
        self._done = True

    def _load_scene(self, scene_seed: int, scene_file: Optional[PathLike]) -> None:
        key = (None, str(scene_file)) if scene_file is not None else (scene_seed, None)
        if key == self._scene_key:
            return
        if scene_seed < 0:
            raise ValueError(f"scene_seed must be non-negative, got {scene_seed}")
        self._sim = _native.Simulator(
            preset=self._preset,
            scene_seed=scene_seed,
            scene_file=None if scene_file is None else str(scene_file),
            config=self._config,
        )
        self._scene_key = key

    @property
    def simulator(self) -> "_native.Simulator":
        """The native simulator (geodesic distances, source position, config)."""
        return self._sim

    def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None):
        super().reset(seed=seed)
        options = dict(options or {})
        episode = dict(options.pop("episode", None) or {})
        unknown = set(options) - {"scene_seed", "scene_file", "start"}
        unknown |= set(episode) - _EPISODE_KEYS
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}")
        if "scene_preset" in episode and episode["scene_preset"] != self._preset:
            raise ValueError(
                f"the episode's scene is generated with the {episode['scene_preset']!r} preset, "
                f"this environment uses {self._preset!r}"
            )
        merged = {**episode, **options}
        if "scene_seed" in merged or "scene_file" in merged:
            self._load_scene(int(merged.get("scene_seed", 0)), merged.get("scene_file"))
            if self._sim.image_shape != self._hw:
                raise ValueError("a scene switch cannot change the image size")
        if "seed" in episode:
            ep_seed = int(episode["seed"])
        elif seed is not None:
            ep_seed = int(seed)
        else:
            ep_seed = int(self.np_random.integers(0, 2**63 - 1))
        if ep_seed < 0:
            raise ValueError(f"seed must be non-negative, got {ep_seed}")
        start = _start_from(merged["start"]) if "start" in merged else None
        rgb, audio, info = self._sim.reset(ep_seed, start)
        info["episode_seed"] = ep_seed
        obs = to_obs(rgb, audio, *self._hw)
        self._last_rgb = obs["rgb"]
        self._done = False
        return obs, info

    def step(self, action):
        if self._done:
            raise RuntimeError("the episode is over (or never began): call reset()")
        a = int(action)
        if not self.action_space.contains(a):
            raise ValueError(f"action {action!r} is not in Discrete(4)")
        rgb, audio, reward, done, info = self._sim.step(a)
        obs = to_obs(rgb, audio, *self._hw)
        self._last_rgb = obs["rgb"]
        terminated = a == STOP
        truncated = done and not terminated
        self._done = done
        return obs, float(reward), terminated, truncated, info

    def render(self):
        if self.render_mode == "rgb_array":
            return None if self._last_rgb is None else self._last_rgb.copy()
        return None

    def snapshot(self) -> "_native.Snapshot":
        """The complete episode state, for ``restore`` (branching, search)."""
        return self._sim.snapshot()

    def restore(self, snapshot: "_native.Snapshot") -> None:
        """Returns to a snapshot: the steps that follow equal those that followed it."""
        self._sim.restore(snapshot)
        self._done = False
