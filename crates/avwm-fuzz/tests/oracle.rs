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

/// Runs `avwm-fuzz run` on the `episodes` target; returns the exit status.
fn run_episodes(out: &std::path::Path, inputs: u64, segment: u64, resume: bool) -> Option<i32> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_avwm-fuzz"));
    cmd.args(["run", "--target", "episodes", "--seed", "4"])
        .args(["--inputs", &inputs.to_string()])
        .args(["--segment", &segment.to_string()])
        .arg("--out")
        .arg(out);
    if resume {
        cmd.arg("--resume");
    }
    cmd.status().unwrap().code()
}

/// The report without its timings.
fn untimed(path: &std::path::Path) -> serde_json::Value {
    let mut r: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    for k in ["seconds", "inputs_per_s", "slowest_s", "slowest_cpu_s"] {
        r.as_object_mut().unwrap().remove(k);
    }
    r
}

#[test]
fn a_run_stopped_at_a_segment_and_resumed_equals_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let (whole, parts) = (dir.path().join("whole"), dir.path().join("parts"));
    assert_eq!(run_episodes(&whole, 300, 100, false), Some(0));
    // Stopped after two segments (as a killed run leaves its checkpoint), then resumed.
    assert_eq!(run_episodes(&parts, 200, 100, false), Some(0));
    assert_eq!(run_episodes(&parts, 300, 100, true), Some(0));
    let (a, b) = (
        untimed(&whole.join("episodes.json")),
        untimed(&parts.join("episodes.json")),
    );
    assert_eq!(a["inputs"], 300, "{a:#}");
    assert!(a["errors"].as_u64().unwrap() > 0, "{a:#}");
    assert_eq!(a, b);
    // Resuming a finished run runs nothing more and leaves its report as it was, byte for byte.
    let before = std::fs::read(parts.join("episodes.json")).unwrap();
    assert_eq!(run_episodes(&parts, 300, 100, true), Some(0));
    assert_eq!(std::fs::read(parts.join("episodes.json")).unwrap(), before);
    // A checkpoint of other segments is refused, naming it.
    assert_eq!(run_episodes(&parts, 400, 50, true), Some(2));
}
