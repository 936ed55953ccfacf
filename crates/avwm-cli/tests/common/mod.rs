//! Helpers shared by the end-to-end tests of the `avwm` binary.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::Path;
use std::process::{Command, Output};

/// Runs `avwm ARGS`.
pub fn avwm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_avwm"))
        .args(args)
        .output()
        .expect("the avwm binary runs")
}

/// Runs `avwm ARGS` and asserts success, printing stderr otherwise.
pub fn ok(args: &[&str]) -> Output {
    let out = avwm(args);
    assert!(
        out.status.success(),
        "avwm {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The JSON a command printed on stdout.
pub fn stdout_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// A JSON file.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("read json")).expect("parse json")
}
