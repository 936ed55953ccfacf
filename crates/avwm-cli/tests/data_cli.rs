//! `avwm data generate | inspect | export` end to end on a shrunken `tiny` preset.

mod common;

use common::avwm;
use std::process::Command;

fn ok(args: &[&str]) -> String {
    String::from_utf8_lossy(&common::ok(args).stdout).into_owned()
}

#[test]
fn generate_inspect_export_and_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("gen.toml");
    std::fs::write(&cfg, "episodes = 3\nmax_frames = 12\n").unwrap();
    let out = tmp.path().join("ds");
    let (c, o) = (cfg.to_str().unwrap(), out.to_str().unwrap());
    let report: serde_json::Value = serde_json::from_str(&ok(&[
        "data", "generate", "--preset", "tiny", "--config", c, "--seed", "7", "--out", o,
    ]))
    .unwrap();
    assert_eq!(report["episodes"], 3);
    assert_eq!(report["shards_written"], 3);
    let info_before = std::fs::read(out.join("info.json")).unwrap();

    // Inspect prints one line per split plus the total.
    let table = ok(&["data", "inspect", o]);
    for split in ["train", "validation", "test", "all"] {
        assert!(table.lines().any(|l| l.starts_with(split)), "{table}");
    }
    let stats: serde_json::Value =
        serde_json::from_str(&ok(&["data", "inspect", o, "--json"])).unwrap();
    let frames = stats["all"]["frames"].as_u64().unwrap();
    assert!((6..=36).contains(&frames), "{frames}");

    // Export: frames, stitched WAV of 2400 samples per frame, contact sheet.
    let ex = tmp.path().join("ex");
    ok(&[
        "data",
        "export",
        o,
        "--episode",
        "0",
        "--out",
        ex.to_str().unwrap(),
    ]);
    let ep: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ex.join("episode.json")).unwrap()).unwrap();
    let n = ep["frames"].as_u64().unwrap() as usize;
    assert_eq!(std::fs::read_dir(ex.join("frames")).unwrap().count(), n);
    let wav = std::fs::read(ex.join("audio.wav")).unwrap();
    assert!(
        wav.len() >= 44 + n * 2400 * 2 * 2,
        "stereo, ≥ 16 bit, 2400 samples per frame"
    );
    assert!(
        std::fs::read(ex.join("contact_sheet.png"))
            .unwrap()
            .starts_with(b"\x89PNG")
    );

    // pandas, pyarrow and Hugging Face `datasets` open the generated folder (when installed).
    let py = [
        std::env::var("AVWM_PYTHON").ok(),
        Some("/tmp/avwm-data-venv/bin/python".into()),
        Some("python3".into()),
    ]
    .into_iter()
    .flatten()
    .find(|py| {
        Command::new(py)
            .args([
                "-c",
                "import pyarrow, pandas, datasets, soundfile, librosa, PIL",
            ])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    match py {
        None => eprintln!(
            "SKIPPED the Python check: no python with pyarrow, pandas, datasets, soundfile, librosa, PIL"
        ),
        Some(py) => {
            let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../scripts/check_dataset.py");
            let r = Command::new(py).arg(script).arg(&out).output().unwrap();
            assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        }
    }

    // Re-running the finished command skips every shard and rewrites identical files.
    let again: serde_json::Value = serde_json::from_str(&ok(&[
        "data", "generate", "--preset", "tiny", "--config", c, "--seed", "7", "--out", o,
    ]))
    .unwrap();
    assert_eq!(
        (
            again["shards_written"].as_u64(),
            again["shards_skipped"].as_u64()
        ),
        (Some(0), Some(3))
    );
    assert_eq!(std::fs::read(out.join("info.json")).unwrap(), info_before);

    // Clear errors: another seed in the same folder, a folder that is not a dataset, an unknown episode.
    let e = avwm(&[
        "data", "generate", "--preset", "tiny", "--config", c, "--seed", "8", "--out", o,
    ]);
    assert!(
        !e.status.success() && String::from_utf8_lossy(&e.stderr).contains("another configuration")
    );
    let e = avwm(&["data", "inspect", tmp.path().to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&e.stderr).contains("no info.json"),
        "{}",
        String::from_utf8_lossy(&e.stderr)
    );
    let e = avwm(&[
        "data",
        "export",
        o,
        "--episode",
        "99",
        "--out",
        ex.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&e.stderr).contains("no episode with id 99"));
}

#[test]
fn navigation_episodes_are_deterministic_json_lines_in_the_split_scenes() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let out = tmp.path().join(name).join("eps.jsonl");
        let o = common::ok(&[
            "data",
            "episodes",
            "--preset",
            "tiny",
            "--split",
            "test",
            "--per-scene",
            "3",
            "--min-geodesic",
            "2",
            "--out",
            out.to_str().unwrap(),
        ]);
        let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        (std::fs::read_to_string(&out).unwrap(), summary)
    };
    let (a, summary) = run("a");
    let (b, _) = run("b");
    assert_eq!(a, b, "same seed, same bytes");
    let lines: Vec<serde_json::Value> = a
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3 * summary["scenes"].as_array().unwrap().len());
    for (i, e) in lines.iter().enumerate() {
        assert_eq!(e["episode_id"], i);
        let (g, d) = (
            e["geodesic_distance"].as_f64().unwrap(),
            e["euclidean_distance"].as_f64().unwrap(),
        );
        assert!(g > 2.0 && g > 1.1 * d, "{e}");
        assert_eq!(e["scene_preset"], "tiny");
    }
    let bad = common::avwm(&[
        "data", "episodes", "--preset", "tiny", "--split", "nope", "--out", "x.jsonl",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown split"));
}
