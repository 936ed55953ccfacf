"""avwm: a CPU-only audio-visual simulator (AudioGoal navigation) as gymnasium environments.

>>> import gymnasium as gym, avwm
>>> env = gym.make("avwm/AudioGoal-v0", preset="tiny")
>>> obs, info = env.reset(seed=0)
>>> obs["rgb"].shape, obs["audio"].shape
((32, 32, 3), (2, 2400))
"""

from __future__ import annotations

import gymnasium as gym

from . import _native
from ._native import MAX_EPISODE_STEPS, SAMPLE_RATE_HZ, STEP_SAMPLES, Simulator, Snapshot, record_episode
from .env import FORWARD, STOP, TURN_LEFT, TURN_RIGHT, AudioGoalEnv, load_episodes
from .vector import AudioGoalVectorEnv

__version__ = _native.__version__

ENV_ID = "avwm/AudioGoal-v0"

__all__ = [
    "AudioGoalEnv",
    "AudioGoalVectorEnv",
    "ENV_ID",
    "FORWARD",
    "MAX_EPISODE_STEPS",
    "SAMPLE_RATE_HZ",
    "STEP_SAMPLES",
    "STOP",
    "Simulator",
    "Snapshot",
    "TURN_LEFT",
    "TURN_RIGHT",
    "load_episodes",
    "record_episode",
    "register_envs",
]


def register_envs() -> None:
    """Registers ``avwm/AudioGoal-v0`` (``gymnasium.make``) and its vector entry point
    (``gymnasium.make_vec(..., vectorization_mode="vector_entry_point")``). Idempotent."""
    if ENV_ID in gym.registry:
        return
    gym.register(
        id=ENV_ID,
        entry_point="avwm.env:AudioGoalEnv",
        vector_entry_point="avwm.vector:AudioGoalVectorEnv",
    )


register_envs()
