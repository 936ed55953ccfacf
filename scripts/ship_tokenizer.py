#!/usr/bin/env python3
"""Copies a trained tokenizer from its run folder into models/, evaluates it on the test split and
records it in models/manifest.json (sha256, commands, config, data seed, quality, training curve).

usage: scripts/ship_tokenizer.py RUN NAME DATA "TRAIN COMMAND" ["DATA COMMAND"]
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import manifest  # noqa: E402  (scripts/manifest.py)

run, name, data, train_cmd = sys.argv[1:5]
data_cmd = sys.argv[5] if len(sys.argv) > 5 else None
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
models = os.path.join(repo, "models")
os.makedirs(models, exist_ok=True)
avwm = os.path.join(repo, "target", "release", "avwm")

for ext in ("safetensors", "json"):
    shutil.copyfile(os.path.join(run, f"tokenizer.{ext}"), os.path.join(models, f"{name}.{ext}.tmp"))
    os.replace(os.path.join(models, f"{name}.{ext}.tmp"), os.path.join(models, f"{name}.{ext}"))

# Record the data seed in the tokenizer's provenance (the JSON only; the weights are unchanged).
meta_path = os.path.join(models, f"{name}.json")
meta = json.load(open(meta_path))
meta.setdefault("provenance", {})
meta["provenance"]["data_seed"] = json.load(open(os.path.join(data, "info.json")))["generator"]["config"]["seed"]
with open(meta_path + ".tmp", "w") as f:
    json.dump(meta, f, indent=2)
    f.write("\n")
os.replace(meta_path + ".tmp", meta_path)

eval_out = os.path.join(models, f"{name}-eval.json")
eval_cmd = [avwm, "tokenizer", "eval", "--tokenizer", f"models/{name}", "--data", data, "--split", "test",
            "--out", eval_out]
subprocess.run(eval_cmd, check=True, cwd=repo, stdout=subprocess.DEVNULL)
quality = json.load(open(eval_out))

with open(os.path.join(models, f"{name}.safetensors"), "rb") as f:
    sha = hashlib.sha256(f.read()).hexdigest()
curve = []
with open(os.path.join(run, "log.jsonl")) as f:
    for line in f:
        r = json.loads(line)
        if r.get("val") is not None:
            curve.append({"step": r["step"], "loss": r["loss"], "val": r["val"], "seconds": r["seconds"]})
info = json.load(open(os.path.join(data, "info.json")))
entry = {
    "weights": f"{name}.safetensors",
    "meta": f"{name}.json",
    "sha256": sha,
    "bytes": os.path.getsize(os.path.join(models, f"{name}.safetensors")),
    "train_command": train_cmd,
    "data_command": data_cmd,
    "data_seed": info.get("generator", {}).get("config", {}).get("seed"),
    "config": json.load(open(os.path.join(run, "config.json"))),
    "summary": json.load(open(os.path.join(run, "summary.json"))),
    "eval_command": " ".join(["avwm"] + eval_cmd[1:]),
    "test_quality": quality["quality"],
    "curve": curve,
}
manifest.record(models, name, entry)
print(json.dumps(quality["quality"], indent=2))
