#!/usr/bin/env python3
"""Copies a trained AV-Nav agent (the `agent/` folder of an `avwm agent train` run) into
models/NAME/ and records it in models/manifest.json: sha256, the exact command, the training
configuration and summary, the CPU time, the learning curve, and the navigation evaluations
given (their summary.json metrics with 95 % intervals).

usage: scripts/ship_agent.py RUN NAME "TRAIN COMMAND" [EVAL_DIR:COMMAND ...]
  RUN       run folder of `avwm agent train` (config.json, log.jsonl, agent/)
  NAME      folder name under models/ (e.g. agent-avnav)
  EVAL_DIR  an `avwm nav eval` output folder of this agent, with the command that made it
"""
import hashlib
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import manifest  # noqa: E402  (scripts/manifest.py)

run, name, train_cmd = sys.argv[1:4]
evals = sys.argv[4:]
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
models = os.path.join(repo, "models")
dest = os.path.join(models, name)
os.makedirs(dest, exist_ok=True)
for f in ("agent.safetensors", "agent.json"):
    tmp = os.path.join(dest, f + ".tmp")
    shutil.copyfile(os.path.join(run, "agent", f), tmp)
    os.replace(tmp, os.path.join(dest, f))
with open(os.path.join(dest, "agent.safetensors"), "rb") as f:
    sha = hashlib.sha256(f.read()).hexdigest()

# The agent folder is written at each checkpoint; the log may run past the last one (a resume
# truncates it there), so the checkpoint's state says which updates made the shipped weights.
state = json.load(open(os.path.join(run, "ckpt", "state.json")))
log = [json.loads(line) for line in open(os.path.join(run, "log.jsonl")) if line.strip()]
log = [r for r in log if r["step"] <= state["update"]]
if not log:
    sys.exit(f"{run}/log.jsonl holds no update up to the checkpoint")
keep = ("step", "frames", "phase", "beta", "fps", "success", "spl", "soft_spl", "episode_length",
        "expert_agreement", "bc_loss", "aux_loss", "value_loss", "entropy", "seconds")
# Every 10th update and the last: the manifest stays readable.
curve = [{k: r[k] for k in keep} for r in log[::10]]
if (len(log) - 1) % 10:
    curve.append({k: log[-1][k] for k in keep})
seconds = state["seconds"]
entry = {
    "folder": name,
    "weights": f"{name}/agent.safetensors",
    "sha256": sha,
    "bytes": os.path.getsize(os.path.join(dest, "agent.safetensors")),
    "train_command": train_cmd,
    "config": json.load(open(os.path.join(run, "config.json"))),
    "agent": json.load(open(os.path.join(dest, "agent.json"))),
    "updates": state["update"],
    "frames": state["frames"],
    "train_wall_hours": seconds / 3600,
    # Wall time × the machine's cores: an upper bound of the CPU time.
    "cpu_hours_at_most": seconds * (os.cpu_count() or 1) / 3600,
    "curve": curve,
    "evaluations": [],
}
for e in evals:
    d, cmd = e.split(":", 1)
    s = json.load(open(os.path.join(d, "summary.json")))
    entry["evaluations"].append({
        "command": cmd,
        "planner": s["planner"],
        "policy": s["config"]["policy"],
        "episodes": s["episodes"],
        "metrics": s["metrics"],
    })
manifest.record(models, name, entry)
print(json.dumps({k: entry[k] for k in ("frames", "updates", "cpu_hours_at_most")}, indent=2))
