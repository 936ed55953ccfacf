"""The gymnasium environment: API contract, determinism, agreement with `avwm sim record`."""

import json
import struct
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from PIL import Image

import avwm

SCENE = 3


def make(**kw):
    return avwm.AudioGoalEnv(preset="tiny", scene_seed=kw.pop("scene_seed", SCENE), **kw)


def read_float_wav(path: Path) -> np.ndarray:
    """Channels × samples of a 32-bit float WAV (interleaved), read chunk by chunk."""
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    pos, channels, payload = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            channels = struct.unpack("<H", body[2:4])[0]
            assert struct.unpack("<H", body[14:16])[0] == 32
        elif cid == b"data":
            payload = body
        pos += 8 + size + (size & 1)
    samples = np.frombuffer(payload, dtype="<f4")
    return samples.reshape(-1, channels).T


def test_check_env_passes():
    env = make()
    check_env(env, skip_render_check=True)


def test_make_by_id_gives_the_spaces_of_the_issue():
    env = gym.make(avwm.ENV_ID, preset="tiny", scene_seed=SCENE)
    assert env.action_space == gym.spaces.Discrete(4)
    rgb, audio = env.observation_space["rgb"], env.observation_space["audio"]
    assert rgb.shape == (32, 32, 3) and rgb.dtype == np.uint8
    assert audio.shape == (2, 2400) and audio.dtype == np.float32
    obs, info = env.reset(seed=1)
    assert env.observation_space.contains(obs)
    assert info["geodesic_distance"] > 0 and info["steps"] == 0


def test_same_seed_gives_the_same_bytes_as_sim_record(tmp_path):
    """The library function behind `avwm sim record` writes PNG frames, a float WAV and a
    JSONL log; the environment, reset to the same seed and driven with the logged actions,
    returns the same pixels, the same samples and the same rewards, and the same SPL."""
    out = tmp_path / "rec"
    summary = json.loads(
        avwm.record_episode(str(out), preset="tiny", scene_seed=SCENE, seed=7, policy="shortest-path", steps=400)
    )
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    names = {"stop": 0, "forward": 1, "turn_left": 2, "turn_right": 3}
    env = make()
    obs, info = env.reset(seed=7)
    frames, audio, rewards = [obs["rgb"]], [obs["audio"]], []
    logged = np.array([log[0]["x"], log[0]["y"], log[0]["yaw"]], dtype=np.float32)
    assert np.array_equal(np.array(info["pose"], dtype=np.float32), logged)
    for line in log[1:]:
        obs, r, terminated, truncated, info = env.step(names[line["action"]])
        frames.append(obs["rgb"])
        audio.append(obs["audio"])
        rewards.append(r)
    for i, f in enumerate(frames):
        png = np.asarray(Image.open(out / "frames" / f"{i:06}.png").convert("RGB"))
        assert np.array_equal(png, f), f"frame {i} differs"
    wav = read_float_wav(out / "audio.wav")
    assert np.array_equal(wav, np.concatenate(audio, axis=1))
    # The log holds f32 values in their shortest decimal form: compare as f32.
    logged_rewards = np.array([line["reward"] for line in log[1:]], dtype=np.float32)
    assert np.array_equal(np.array(rewards, dtype=np.float32), logged_rewards)
    assert summary["success"], "the shortest path reaches the source within 400 actions"
    assert terminated and not truncated and info["success"]
    assert info["spl"] == pytest.approx(summary["spl"], rel=1e-6)
    assert 0.5 < info["spl"] <= 1.0


def test_same_seed_same_bytes_and_different_seeds_differ():
    a, b = make(), make()
    oa, _ = a.reset(seed=11)
    ob, _ = b.reset(seed=11)
    assert oa["rgb"].tobytes() == ob["rgb"].tobytes() and oa["audio"].tobytes() == ob["audio"].tobytes()
    for act in [1, 1, 2, 1, 3, 1]:
        sa, sb = a.step(act), b.step(act)
        assert sa[0]["audio"].tobytes() == sb[0]["audio"].tobytes() and sa[1] == sb[1]
    oc, _ = b.reset(seed=12)
    assert oc["audio"].tobytes() != oa["audio"].tobytes()


def test_snapshot_and_restore_replay_bit_exactly():
    env = make()
    env.reset(seed=3)
    for act in [1, 2, 1]:
        env.step(act)
    snap = env.snapshot()
    assert snap.steps == 3
    first = [env.step(a) for a in [1, 1, 3, 1]]
    env.restore(snap)
    again = [env.step(a) for a in [1, 1, 3, 1]]
    for x, y in zip(first, again):
        assert x[0]["rgb"].tobytes() == y[0]["rgb"].tobytes()
        assert x[0]["audio"].tobytes() == y[0]["audio"].tobytes()
        assert x[1] == y[1] and x[4]["pose"] == y[4]["pose"]


def test_stop_terminates_and_the_action_cap_truncates():
    env = make()
    env.reset(seed=0)
    _, _, terminated, truncated, info = env.step(avwm.STOP)
    assert terminated and not truncated and "spl" in info
    with pytest.raises(RuntimeError):
        env.step(avwm.FORWARD)
    env.reset(seed=0)
    for i in range(avwm.MAX_EPISODE_STEPS):
        _, _, terminated, truncated, info = env.step(avwm.TURN_LEFT)
        assert not terminated
        assert truncated == (i == avwm.MAX_EPISODE_STEPS - 1)
    assert info["steps"] == 500 and info["spl"] == 0.0


def test_reset_options_choose_start_and_scene(tmp_path):
    env = make()
    sx, sy = env.simulator.source
    near = [(sx + dx, sy + dy) for dx in (-0.4, 0.0, 0.4) for dy in (-0.4, 0.0, 0.4) if dx or dy]
    x, y = next(p for p in near if env.simulator.geodesic_distance(*p) < 1.0)
    _, info = env.reset(seed=0, options={"start": (x, y, 90.0)})
    assert info["pose"][2] == pytest.approx(np.pi / 2, abs=1e-6)
    assert info["geodesic_distance"] < 1.0
    _, _, terminated, _, info = env.step(avwm.STOP)
    assert terminated and info["success"] and info["spl"] == 1.0
    before = env.simulator.scene_name
    env.reset(seed=0, options={"episode": {"scene_seed": SCENE + 1, "seed": 4}})
    assert env.simulator.scene_name != before


def test_bad_input_raises_python_exceptions(tmp_path):
    with pytest.raises(ValueError, match="preset"):
        avwm.AudioGoalEnv(preset="huge")
    with pytest.raises(OSError, match="does not exist"):
        avwm.AudioGoalEnv(preset="tiny", scene_file=tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("this is [not toml")
    with pytest.raises(ValueError, match="broken.toml"):
        avwm.AudioGoalEnv(preset="tiny", scene_file=broken)
    with pytest.raises(ValueError, match="broken.toml"):
        avwm.AudioGoalEnv(preset="tiny", config=broken)
    env = make()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(1)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="Discrete"):
        env.step(7)
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(options={"goal": 1})
    with pytest.raises(ValueError, match="start"):
        env.reset(options={"start": (1.0, "a", 0.0)})
    with pytest.raises(ValueError, match="not navigable"):
        env.reset(seed=0, options={"start": (-1000.0, -1000.0, 0.0)})
    other = make(scene_seed=SCENE + 1)
    other.reset(seed=0)
    with pytest.raises(ValueError, match="scene"):
        env.restore(other.snapshot())
    with pytest.raises(ValueError, match="action"):
        env.simulator.step(-1)


def test_the_readme_random_agent_example_runs():
    import subprocess
    import sys

    example = Path(__file__).parents[1] / "examples" / "random_agent.py"
    out = subprocess.run([sys.executable, str(example), "tiny"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("return ") and "SPL" in out.stdout


def test_an_episode_file_line_is_a_reset_option(tmp_path):
    env = make()
    first, info = env.reset(seed=5)
    x, y, yaw = info["pose"]
    line = {
        "episode_id": 0, "scene": env.simulator.scene_name, "scene_seed": SCENE, "scene_preset": "tiny",
        "seed": 5, "start": [x, y, float(np.degrees(yaw))], "goal": list(env.simulator.source),
        "geodesic_distance": info["geodesic_distance"], "euclidean_distance": 1.0, "num_action": 10,
        "sound": "ringtone", "version": 1,
    }
    path = tmp_path / "eps.jsonl"
    path.write_text(json.dumps(line) + "\n")
    (ep,) = avwm.load_episodes(path)
    again, info2 = env.reset(options={"episode": ep})
    assert again["audio"].tobytes() == first["audio"].tobytes()
    assert info2["episode_seed"] == 5
    with pytest.raises(ValueError, match="preset"):
        env.reset(options={"episode": {**ep, "scene_preset": "default"}})
    path.write_text("{broken\n")
    with pytest.raises(ValueError, match="line 1"):
        avwm.load_episodes(path)
