//! The binary's oracle for what kills a process: a child that aborts or stalls is recorded with
//! the input it was on and restarted after it (target `selftest_crash`, not a loader).

use std::process::Command;

#[test]
fn aborts_hangs_and_panics_of_the_child_are_findings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let status = Command::new(env!("CARGO_BIN_EXE_avwm-fuzz"))
        .args([
            "run",
            "--target",
            "selftest_crash",
            "--inputs",
            "30",
            "--seed",
            "3",
        ])
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1), "findings ⇒ exit status 1");
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("selftest_crash.json")).unwrap()).unwrap();
    assert_eq!(r["inputs"], 30, "{r:#}");
    let first = |k: &str| {
        r[k].as_array()
            .unwrap()
            .first()
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(r["aborts"].as_array().unwrap().len(), 1, "{r:#}");
    assert_eq!(first("aborts")["input_index"], 0);
    assert_eq!(r["hangs"].as_array().unwrap().len(), 1, "{r:#}");
    assert_eq!(first("hangs")["input_index"], 1);
    assert_eq!(r["panics"].as_array().unwrap().len(), 1, "{r:#}");
    assert!(
        first("panics")["message"]
            .as_str()
            .unwrap()
            .contains("selftest panic")
    );
    // Each finding's input is saved next to the results folder.
    let saved = first("aborts")["input"].as_str().unwrap().to_string();
    assert_eq!(std::fs::read(saved).unwrap(), b"abort!");
    assert!(dir.path().join("findings/selftest_crash").is_dir());
}
