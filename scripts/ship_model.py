#!/usr/bin/env python3
"""Copies a trained AV-CDiT (the EMA weights of a stage folder) into models/ and records it in
models/manifest.json: sha256, the exact commands, every stage's config and summary, the data seed
and the training curves (training loss every log step, validation at checkpoints).

usage: scripts/ship_model.py RUN STAGE NAME CACHE "TRAIN COMMAND" ["DATA COMMANDS"]
  RUN    run folder of `avwm train` (holds stage1/, stage2/, stage3/, or joint/ and head/)
  STAGE  the stage folder to ship (stage3 for the paper's model, head for avwm's, joint for ablations)
  NAME   file name under models/ (e.g. avcdit-small)
  CACHE  the latent cache it was trained on (its cache.json names the dataset and tokenizers)
"""
import hashlib
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import manifest  # noqa: E402  (scripts/manifest.py)

run, stage, name, cache_dir, train_cmd = sys.argv[1:6]
data_cmd = sys.argv[6] if len(sys.argv) > 6 else None
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
models = os.path.join(repo, "models")
os.makedirs(models, exist_ok=True)

src = os.path.join(run, stage)
for ext in ("safetensors", "json"):
    tmp = os.path.join(models, f"{name}.{ext}.tmp")
    shutil.copyfile(os.path.join(src, f"model.{ext}"), tmp)
    os.replace(tmp, os.path.join(models, f"{name}.{ext}"))

with open(os.path.join(models, f"{name}.safetensors"), "rb") as f:
    sha = hashlib.sha256(f.read()).hexdigest()

stages = {}
for s in ("stage1", "stage2", "stage3", "joint", "head"):
    d = os.path.join(run, s)
    if not os.path.isfile(os.path.join(d, "summary.json")):
        continue
    train_curve, val_curve = [], []
    with open(os.path.join(d, "log.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            train_curve.append({"step": r["step"], "loss": r["loss"], "terms": r["terms"]})
            if r.get("val") is not None:
                val_curve.append({"step": r["step"], "seconds": r["seconds"], **r["val"]})
    # Keep the manifest readable: every 4th training record, all validations.
    stages[s] = {
        "config": json.load(open(os.path.join(d, "config.json"))),
        "summary": {k: v for k, v in json.load(open(os.path.join(d, "summary.json"))).items() if k != "val_curve"},
        "train_curve": train_curve[::4] + ([train_curve[-1]] if (len(train_curve) - 1) % 4 else []),
        "val_curve": val_curve,
    }

meta = json.load(open(os.path.join(models, f"{name}.json")))
cache = json.load(open(os.path.join(cache_dir, "cache.json")))
entry = {
    "weights": f"{name}.safetensors",
    "meta": f"{name}.json",
    "sha256": sha,
    "bytes": os.path.getsize(os.path.join(models, f"{name}.safetensors")),
    "train_command": train_cmd,
    "data_command": data_cmd,
    "model_config": meta["config"],
    "stage": meta["stage"],
    "stages": stages,
    # Wall time of training × the cores of the machine it ran on: an upper bound of its CPU time.
    "train_wall_hours": sum(v["summary"]["train_seconds"] for v in stages.values()) / 3600,
    "cpu_hours_at_most": sum(v["summary"]["train_seconds"] for v in stages.values()) * (os.cpu_count() or 1) / 3600,
}
entry["latent_cache"] = {
    "dataset": cache["dataset"],
    "visual_tokenizer_sha256": cache["visual"]["sha256"],
    "audio_tokenizer_sha256": cache["audio"]["sha256"],
    "frames": {k: v["frames"] for k, v in cache["splits"].items()},
}
info = os.path.join(cache["dataset"], "info.json")
if os.path.isfile(info):
    entry["data_seed"] = json.load(open(info))["generator"]["config"]["seed"]
manifest.record(models, name, entry)
print(json.dumps({k: v["summary"] for k, v in stages.items()}, indent=2))
