"""models/manifest.json: one entry per shipped artefact, written atomically (temp + rename)."""
import json
import os


def record(models, name, entry):
    """Sets `manifest[name] = entry` in `models/manifest.json`, keeping the other entries."""
    path = os.path.join(models, "manifest.json")
    manifest = json.load(open(path)) if os.path.exists(path) else {}
    manifest[name] = entry
    with open(path + ".tmp", "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(path + ".tmp", path)
