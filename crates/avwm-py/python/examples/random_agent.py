"""A random agent in avwm's AudioGoal environment: `python random_agent.py [tiny|default]`."""
import sys

import gymnasium as gym

import avwm  # registers avwm/AudioGoal-v0

env = gym.make("avwm/AudioGoal-v0", preset=sys.argv[1] if len(sys.argv) > 1 else "default")
obs, info = env.reset(seed=0)
env.action_space.seed(0)
total, done = 0.0, False
while not done:
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    total += reward
    done = terminated or truncated
print(f"return {total:.2f}, steps {info['steps']}, distance to goal {info['geodesic_distance']:.2f} m, SPL {info['spl']:.2f}")
