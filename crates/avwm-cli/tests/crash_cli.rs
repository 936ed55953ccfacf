//! Crash safety: a long job killed with SIGKILL at a random moment and then run again with the
//! same command ends with exactly the files of an uninterrupted run (tokenizer training, world
//! model training, its evaluation, agent training). The moments are drawn from a fixed seed as fractions of the
//! uninterrupted run's wall time, so they fall before, between and after checkpoints.

mod common;

use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Every file under `dir` (relative path → bytes), with what differs between any two runs taken
/// out of JSON and JSON Lines files: timing fields (wall-clock seconds and rates), the step a
/// run resumed from, and the run folder's own path.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(o) => {
                o.retain(|k, _| {
                    !(k.contains("seconds")
                        || k.ends_with("_s")
                        || k == "fps"
                        || k == "wall_hours"
                        || k == "resumed_from")
                });
                o.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if p.is_dir() {
                walk(root, &p, out);
            } else if rel.ends_with(".json") || rel.ends_with(".jsonl") {
                let text = std::fs::read_to_string(&p)
                    .unwrap()
                    .replace(root.to_str().unwrap(), "RUN");
                let lines: Vec<String> = text
                    .lines()
                    .map(|l| match serde_json::from_str::<serde_json::Value>(l) {
                        Ok(mut v) => {
                            strip(&mut v);
                            v.to_string()
                        }
                        Err(_) => l.to_string(),
                    })
                    .collect();
                // A pretty-printed JSON file is one value over many lines.
                let whole = serde_json::from_str::<serde_json::Value>(&text).map(|mut v| {
                    strip(&mut v);
                    v.to_string()
                });
                out.insert(rel, whole.unwrap_or_else(|_| lines.join("\n")).into_bytes());
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Runs `args(run)` to the end in a fresh folder, then for each of `kills` moments (fractions
/// of that run's wall time) starts it in another fresh folder, kills it with SIGKILL at that
/// moment, runs the same command again to the end, and checks that both folders hold the same
/// files (`keep` selects the files that matter, relative to the run folder).
fn killed_runs_end_like_whole_ones(
    what: &str,
    tmp: &Path,
    args: &dyn Fn(&str) -> Vec<String>,
    kills: usize,
    keep: &dyn Fn(&str) -> bool,
) {
    let run = |dir: &str| {
        let a = args(dir);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        common::ok(&refs);
    };
    let whole = tmp.join(format!("{what}-whole"));
    let t = Instant::now();
    run(whole.to_str().unwrap());
    let wall = t.elapsed().as_secs_f64();
    let mut reference = files(&whole);
    reference.retain(|k, _| keep(k));
    assert!(!reference.is_empty(), "{what}: nothing to compare");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    for k in 0..kills {
        let dir = tmp.join(format!("{what}-killed-{k}"));
        let d = dir.to_str().unwrap().to_string();
        let at = Duration::from_secs_f64(wall * rng.random_range(0.15..0.9));
        let mut child = Command::new(env!("CARGO_BIN_EXE_avwm"))
            .args(args(&d))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(at);
        let killed = child.try_wait().unwrap().is_none();
        child.kill().ok(); // SIGKILL on Unix
        child.wait().unwrap();
        run(&d);
        let mut got = files(&dir);
        got.retain(|k, _| keep(k));
        let mut differ: Vec<&String> = reference
            .keys()
            .chain(got.keys())
            .filter(|f| reference.get(*f) != got.get(*f))
            .collect();
        differ.dedup();
        let show = |m: &BTreeMap<String, Vec<u8>>, f: &str| {
            m.get(f)
                .filter(|_| f.ends_with(".json"))
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        let detail: Vec<String> = differ
            .iter()
            .map(|f| {
                format!(
                    "{f}:\n  whole:   {}\n  resumed: {}",
                    show(&reference, f),
                    show(&got, f)
                )
            })
            .collect();
        assert!(
            differ.is_empty(),
            "{what}: killed at {at:?} (still running: {killed}) then resumed, these files differ \
             from an uninterrupted run:\n{}",
            detail.join("\n")
        );
    }
}

/// Weights, configs and logs; not the transient checkpoint folder (a resumed run may keep
/// another set of intermediate checkpoints) nor leftover temporaries of the killed process.
fn results(rel: &str) -> bool {
    !rel.contains("ckpt") && !rel.ends_with(".tmp") && !rel.split('/').any(|c| c.starts_with('.'))
}

#[test]
fn tokenizer_and_world_model_training_and_evaluation_survive_sigkill() {
    let tmp = tempfile::tempdir().unwrap();
    let (cache, _, _) = common::tiny_cache(tmp.path(), 3, 12, 3);
    let ds = tmp.path().join("ds").to_str().unwrap().to_string();
    killed_runs_end_like_whole_ones(
        "tokenizer",
        tmp.path(),
        &|run| {
            [
                "tokenizer",
                "train",
                "--modality",
                "visual",
                "--data",
                &ds,
                "--run",
                run,
                "--preset",
                "tiny",
                "--steps",
                "30",
            ]
            .map(String::from)
            .to_vec()
        },
        2,
        &results,
    );
    killed_runs_end_like_whole_ones(
        "model",
        tmp.path(),
        &|run| {
            [
                "train", "--preset", "tiny", "--data", &cache, "--run", run, "--stage", "1",
                "--steps", "30",
            ]
            .map(String::from)
            .to_vec()
        },
        2,
        &results,
    );
    // The evaluation of the model just trained.
    let model = tmp
        .path()
        .join("model-whole/stage1")
        .to_str()
        .unwrap()
        .to_string();
    let (vt, at) = (
        tmp.path()
            .join("tok-visual/tokenizer")
            .to_str()
            .unwrap()
            .to_string(),
        tmp.path()
            .join("tok-audio/tokenizer")
            .to_str()
            .unwrap()
            .to_string(),
    );
    killed_runs_end_like_whole_ones(
        "eval",
        tmp.path(),
        &|out| common::tiny_eval_args(&model, &cache, &vt, &at, "fixed", out),
        2,
        &results,
    );
}

#[test]
fn agent_training_survives_sigkill() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("train.toml");
    std::fs::write(&cfg, common::agent_tiny_toml(32, 2)).unwrap();
    let cfg = cfg.to_str().unwrap().to_string();
    killed_runs_end_like_whole_ones(
        "agent",
        tmp.path(),
        &|run| {
            [
                "agent",
                "train",
                "--run",
                run,
                "--config",
                &cfg,
                "--frames",
                "96",
                "--threads",
                "1",
            ]
            .map(String::from)
            .to_vec()
        },
        2,
        &results,
    );
}
