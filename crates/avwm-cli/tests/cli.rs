//! End-to-end runs of the `avwm` binary on the `tiny` preset.

mod common;

use common::{avwm, ok};
use std::path::Path;

fn json(path: &Path) -> serde_json::Value {
    common::read_json(path)
}

#[test]
fn scene_gen_then_record_then_rir_on_that_scene() {
    let dir = tempfile::tempdir().unwrap();
    let scene_dir = dir.path().join("scene");
    let s = scene_dir.to_str().unwrap();
    ok(&[
        "scene", "gen", "--seed", "4", "--preset", "tiny", "--out", s,
    ]);
    for f in [
        "scene.toml",
        "scene.json",
        "mesh.ply",
        "map.png",
        "summary.json",
    ] {
        assert!(scene_dir.join(f).is_file(), "missing {f}");
    }
    let summary = json(&scene_dir.join("summary.json"));
    let rooms = summary["rooms"].as_u64().unwrap();
    assert!((3..=5).contains(&rooms), "{rooms} rooms");

    // Record in the written scene file: the scene must round-trip through scene.toml.
    let scene_toml = scene_dir.join("scene.toml");
    let rec = dir.path().join("rec");
    let args = |out: &Path| {
        vec![
            "sim".to_string(),
            "record".into(),
            "--preset".into(),
            "tiny".into(),
            "--scene".into(),
            scene_toml.to_str().unwrap().into(),
            "--steps".into(),
            "12".into(),
            "--policy".into(),
            "scripted:FFLFFRFFFLLF".into(),
            "--seed".into(),
            "3".into(),
            "--out".into(),
            out.to_str().unwrap().into(),
        ]
    };
    let a: Vec<String> = args(&rec);
    ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let frames = std::fs::read_dir(rec.join("frames")).unwrap().count();
    assert_eq!(frames, 13, "reset + 12 steps");
    let log = std::fs::read_to_string(rec.join("log.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 13);
    let wav = std::fs::read(rec.join("audio.wav")).unwrap();
    // 13 observations × 2400 frames × 2 channels × 4 bytes (float) + header.
    assert!(
        wav.len() >= 13 * 2400 * 2 * 4,
        "audio.wav has {} bytes",
        wav.len()
    );
    let summary = json(&rec.join("summary.json"));
    assert_eq!(summary["steps"].as_u64(), Some(12));
    assert!(rec.join("map.png").is_file());

    // Same seed, same bytes.
    let rec2 = dir.path().join("rec2");
    let b: Vec<String> = args(&rec2);
    ok(&b.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        std::fs::read(rec.join("audio.wav")).unwrap(),
        std::fs::read(rec2.join("audio.wav")).unwrap()
    );
    assert_eq!(
        std::fs::read(rec.join("frames/000012.png")).unwrap(),
        std::fs::read(rec2.join("frames/000012.png")).unwrap()
    );

    // An RIR inside that scene, listener at the start pose of the recording.
    let first: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    let lis = format!("{},{},1.5,0", first["x"], first["y"]);
    let rir = dir.path().join("rir.wav");
    ok(&[
        "acoustics",
        "rir",
        "--scene",
        scene_toml.to_str().unwrap(),
        "--listener",
        &lis,
        "--out",
        rir.to_str().unwrap(),
    ]);
    assert!(dir.path().join("rir_omni.wav").is_file());
    let r = json(&dir.path().join("rir.json"));
    assert!(r["rir_samples"].as_u64().unwrap() > 1000);
}

#[test]
fn shoebox_rir_decays_like_eyring() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("box.wav");
    ok(&[
        "acoustics",
        "shoebox",
        "--size",
        "6,5,3",
        "--absorption",
        "0.2",
        "--listener",
        "1.5,1.8,1.5,0",
        "--out",
        out.to_str().unwrap(),
    ]);
    let r = json(&dir.path().join("box.json"));
    let t30 = r["t30_s"].as_f64().unwrap();
    let eyring = r["eyring_rt60_s"][3].as_f64().unwrap();
    assert!(
        (t30 - eyring).abs() / eyring < 0.25,
        "broadband T30 {t30} s vs Eyring {eyring} s"
    );
    assert_eq!(r["paths_direct"].as_u64(), Some(1));
    assert!(
        r["paths_reflection"].as_u64().unwrap() > 1000,
        "order-10 images"
    );
}

#[test]
fn bad_inputs_give_clear_errors_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let out = avwm(&[
        "sim",
        "record",
        "--scene",
        missing.to_str().unwrap(),
        "--out",
        dir.path().join("r").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nope.toml"), "{err}");

    let sofa = dir.path().join("broken.sofa");
    std::fs::write(&sofa, b"definitely not HDF5").unwrap();
    let out = avwm(&[
        "acoustics",
        "shoebox",
        "--listener",
        "1,1,1.5,0",
        "--hrtf",
        sofa.to_str().unwrap(),
        "--out",
        dir.path().join("x.wav").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.sofa"));

    let out = avwm(&[
        "sim",
        "record",
        "--policy",
        "dance",
        "--out",
        dir.path().join("r").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("dance"));
}

#[test]
fn out_paths_create_missing_folders_and_errors_name_the_path_once() {
    let tmp = tempfile::tempdir().unwrap();
    let info = tmp.path().join("a/b/info.json");
    ok(&[
        "model",
        "info",
        "--preset",
        "tiny",
        "--out",
        info.to_str().unwrap(),
    ]);
    assert!(info.is_file());
    let shoebox = |out: &Path| {
        avwm(&[
            "acoustics",
            "shoebox",
            "--size",
            "4,3,2.5",
            "--absorption",
            "0.3",
            "--scattering",
            "0.1",
            "--source",
            "1,1,1.5",
            "--listener",
            "3,2,1.5,0",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    assert!(shoebox(&tmp.path().join("c/d/rir.wav")).status.success());
    for f in ["rir.wav", "rir_omni.wav", "rir.json"] {
        assert!(tmp.path().join("c/d").join(f).is_file(), "{f}");
    }
    // A folder that cannot be made: one clear error naming it once.
    let blocker = tmp.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let out = shoebox(&blocker.join("rir.wav"));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches(blocker.to_str().unwrap()).count(), 1, "{err}");
}
