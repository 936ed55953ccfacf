#!/usr/bin/env python3
"""Checks that an avwm dataset folder opens with no avwm code: pyarrow, pandas and Hugging Face
`datasets` (which must decode the `image` column as a PIL image and `audio` as 2 x 2400 samples).

Usage: python scripts/check_dataset.py DIR   (exit 0 = all good; prints a JSON summary)
Needs: pip install pyarrow pandas "datasets<4" soundfile librosa pillow
"""
import glob
import json
import os
import sys


def main(root):
    import pandas as pd
    import pyarrow.parquet as pq
    import datasets

    info = json.load(open(os.path.join(root, "info.json")))
    files = sorted(glob.glob(os.path.join(root, "data", "*.parquet")))
    assert files, "no shards"
    frames = 0
    for f in files:
        t = pq.read_table(f)
        assert t.schema.field("image").type.num_fields == 2
        frames += t.num_rows
    df = pd.concat([pd.read_parquet(f) for f in files])
    assert len(df) == frames == info["statistics"]["all"]["frames"], (len(df), frames)
    row = df.iloc[0]
    assert row["image"]["bytes"][:4] == b"\x89PNG", "image bytes are PNG"
    assert row["audio"]["bytes"][:4] == b"RIFF", "audio bytes are WAV"

    ds = datasets.load_dataset("parquet", data_dir=root)
    splits = {k: len(v) for k, v in ds.items()}
    for name, s in info["splits"].items():
        assert splits.get(name) == s["frames"], (name, splits, s["frames"])
    first = next(iter(ds.values()))
    assert isinstance(first.features["image"], datasets.Image), first.features
    assert isinstance(first.features["audio"], datasets.Audio), first.features
    ex = first[0]
    w, h = ex["image"].size
    assert [w, h] == info["image_size"], (w, h)
    arr = ex["audio"]["array"]
    assert ex["audio"]["sampling_rate"] == 16000
    assert tuple(arr.shape) == (2, 2400), arr.shape
    print(json.dumps({"ok": True, "splits": splits, "image": [w, h], "audio": list(arr.shape)}))


if __name__ == "__main__":
    main(sys.argv[1])
