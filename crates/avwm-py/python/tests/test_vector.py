"""The vector environment: agreement with single environments and next-step autoreset."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import avwm

SCENE = 3


def test_make_vec_uses_the_rust_vector_env_and_declares_its_autoreset_mode():
    v = gym.make_vec(avwm.ENV_ID, num_envs=3, vectorization_mode="vector_entry_point", preset="tiny", scene_seed=SCENE)
    assert isinstance(v, avwm.AudioGoalVectorEnv)
    assert v.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    obs, info = v.reset(seed=0)
    assert v.observation_space.contains(obs)
    assert obs["rgb"].shape == (3, 32, 32, 3) and obs["audio"].shape == (3, 2, 2400)


def test_each_vector_env_equals_a_single_env_with_its_seed():
    actions = [[1, 2, 1], [1, 1, 3], [3, 1, 1], [1, 1, 1]]
    v = avwm.AudioGoalVectorEnv(num_envs=3, preset="tiny", scene_seed=SCENE, threads=2)
    vobs, _ = v.reset(seed=20)
    steps = [v.step(np.array(a)) for a in actions]
    for i in range(3):
        env = avwm.AudioGoalEnv(preset="tiny", scene_seed=SCENE)
        obs, _ = env.reset(seed=20 + i)
        assert obs["rgb"].tobytes() == vobs["rgb"][i].tobytes()
        for a, (o, r, _, _, _) in zip(actions, steps):
            so, sr, _, _, _ = env.step(a[i])
            assert so["audio"].tobytes() == o["audio"][i].tobytes()
            assert so["rgb"].tobytes() == o["rgb"][i].tobytes()
            assert sr == pytest.approx(r[i], abs=0)


def test_next_step_autoreset_after_stop():
    v = avwm.AudioGoalVectorEnv(num_envs=2, scene_seeds=[SCENE, SCENE + 1], preset="tiny")
    v.reset(seed=1)
    _, r, term, trunc, info = v.step(np.array([0, 1]))
    assert term.tolist() == [True, False] and not trunc.any()
    assert info["_spl"].tolist() == [True, False]
    obs, r, term, trunc, info = v.step(np.array([1, 1]))
    assert r[0] == 0.0 and not term[0] and info["steps"][0] == 0, "env 0 reset on this step"
    assert info["steps"][1] == 2
    obs2, _, _, _, info2 = v.step(np.array([1, 1]))
    assert info2["steps"].tolist() == [1, 3]


def test_vector_bad_input():
    with pytest.raises(ValueError):
        avwm.AudioGoalVectorEnv(num_envs=2, scene_seeds=[1], preset="tiny")
    v = avwm.AudioGoalVectorEnv(num_envs=2, preset="tiny", scene_seed=SCENE)
    with pytest.raises(RuntimeError, match="reset"):
        v.step(np.array([1, 1]))
    v.reset(seed=0)
    with pytest.raises(ValueError, match="actions"):
        v.step(np.array([1, 9]))
    with pytest.raises(ValueError, match="expected 2 actions"):
        v.step(np.array([1]))
