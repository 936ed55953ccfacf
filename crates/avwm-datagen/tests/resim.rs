//! Exact re-simulation and branching on a small generated dataset.
//!
//! One dataset is generated (a shrunken `tiny` preset with more pauses, so that replay crosses
//! non-terminal STOPs) and every check runs on it with one [`Resimulator`], which also exercises
//! its scene cache.

use avwm_core::{Action, FORWARD_STEP_M, TURN_DEG, wrap_angle};
use avwm_data::{Dataset, Frame};
use avwm_datagen::resim::{Outcome, Resimulator};
use avwm_datagen::{GenConfig, Variation, generate};
use std::path::Path;
use std::time::Instant;

fn config() -> GenConfig {
    let tiny = GenConfig::tiny();
    GenConfig {
        seed: 3,
        episodes: 3,
        max_frames: 30,
        variation: Variation {
            pause: 0.15,
            ..tiny.variation.clone()
        },
        ..tiny
    }
}

/// Everything an outcome shares with a dataset frame, compared exactly.
fn assert_same(o: &Outcome, f: &Frame, what: &str) {
    assert_eq!(o.pose, f.pose, "{what}: pose");
    assert_eq!(o.rgb, f.rgb, "{what}: image bytes");
    assert_eq!(o.audio, f.audio, "{what}: audio samples");
    assert_eq!(
        o.geodesic_m.to_bits(),
        f.geodesic_m.to_bits(),
        "{what}: geodesic"
    );
    assert_eq!(
        o.distance_reduction_m.to_bits(),
        f.distance_reduction_m.to_bits(),
        "{what}: distance reduction"
    );
}

fn actions(frames: &[Frame], steps: std::ops::RangeInclusive<usize>) -> Vec<Action> {
    steps.map(|s| frames[s].action.unwrap()).collect()
}

/// A non-terminal STOP: a STOP that is not the episode's last frame.
fn is_pause(frames: &[Frame], s: usize) -> bool {
    s > 0 && s + 1 < frames.len() && frames[s].action == Some(Action::Stop)
}

/// Check 1: replay reproduces every frame, including frames after pauses; the anchor order is
/// free. Returns the number of pauses (non-terminal STOPs) crossed.
fn replay_is_exact(rs: &mut Resimulator, ds: &Dataset, id: u64, frames: &[Frame]) -> usize {
    let steps: Vec<usize> = (0..frames.len()).rev().collect(); // unsorted on purpose
    let t = Instant::now();
    let out = rs.replay(ds, id, &steps).unwrap();
    eprintln!(
        "episode {id}: replayed {} frames in {:.2} s",
        frames.len(),
        t.elapsed().as_secs_f64()
    );
    assert_eq!(out.len(), steps.len());
    for (o, &s) in out.iter().zip(&steps) {
        assert_same(o, &frames[s], &format!("episode {id} replayed step {s}"));
    }
    (1..frames.len()).filter(|&s| is_pause(frames, s)).count()
}

/// Check 2: branching with the recorded actions reproduces the recorded continuation.
fn recorded_branches_match(rs: &mut Resimulator, ds: &Dataset, id: u64, frames: &[Frame]) {
    let n = frames.len();
    // Anchors: the start, the step before a pause (so the branch crosses a STOP), the middle.
    let mut anchors = vec![0, n / 2];
    if let Some(p) = (1..n).find(|&s| is_pause(frames, s)) {
        anchors.push(p - 1);
    }
    for t in anchors {
        let k = (n - 1 - t).min(6);
        if k == 0 {
            continue;
        }
        let seqs = vec![
            actions(frames, t + 1..=t + 1),
            actions(frames, t + 1..=t + k),
        ];
        let b = rs.branch_episode_with_anchors(ds, id, &[t], &seqs).unwrap();
        assert_same(
            &b.anchors[0],
            &frames[t],
            &format!("episode {id} anchor {t}"),
        );
        assert_eq!(b.outcomes.len(), 1);
        assert_eq!(b.outcomes[0][0].len(), 1);
        assert_eq!(b.outcomes[0][1].len(), k);
        assert_same(
            &b.outcomes[0][0][0],
            &frames[t + 1],
            &format!("episode {id}: branch at {t} with a_{}", t + 1),
        );
        for (j, o) in b.outcomes[0][1].iter().enumerate() {
            assert_same(
                o,
                &frames[t + 1 + j],
                &format!("episode {id}: branch at {t}, recorded action {}", j + 1),
            );
        }
    }
}

/// Check 3: counterfactual actions move as the simulator's constants say, and branches from
/// one snapshot are independent.
fn counterfactuals_are_physical_and_independent(
    rs: &mut Resimulator,
    ds: &Dataset,
    id: u64,
    frames: &[Frame],
) {
    use Action::*;
    let n = frames.len();
    let anchors = [n / 2, 1, n - 1]; // unsorted; n - 1 may follow a terminal STOP
    let seqs = vec![
        vec![TurnLeft],
        vec![Forward],
        vec![Stop],
        vec![TurnRight, Forward, Stop, Stop, Forward, TurnLeft],
        vec![Stop, Forward, Forward],
        vec![TurnLeft],
    ];
    let b = rs
        .branch_episode_with_anchors(ds, id, &anchors, &seqs)
        .unwrap();
    assert_eq!(b.outcomes.len(), anchors.len());
    for (i, &t) in anchors.iter().enumerate() {
        let a = &b.anchors[i];
        assert_same(a, &frames[t], &format!("episode {id} anchor {t}"));
        let out = &b.outcomes[i];
        assert_eq!(out.len(), seqs.len());
        for (seq, o) in seqs.iter().zip(out) {
            assert_eq!(o.len(), seq.len(), "one outcome per action");
        }
        // TurnLeft: +10° in place.
        let left = &out[0][0];
        let dyaw = wrap_angle(left.pose.yaw - a.pose.yaw);
        assert!(
            (dyaw - TURN_DEG.to_radians()).abs() < 1e-5,
            "TurnLeft changed yaw by {}°",
            dyaw.to_degrees()
        );
        assert_eq!((left.pose.x, left.pose.y), (a.pose.x, a.pose.y));
        assert_eq!(left.geodesic_m, a.geodesic_m);
        assert_eq!(left.distance_reduction_m, 0.0);
        // Forward: at most one step, heading kept.
        let fwd = &out[1][0];
        let moved = fwd.pose.xy().distance(a.pose.xy());
        assert!(moved <= FORWARD_STEP_M + 1e-5, "Forward moved {moved} m");
        assert_eq!(fwd.pose.yaw, a.pose.yaw);
        // STOP: a pause, pose and distance kept; image unchanged (same pose, same renderer).
        let stop = &out[2][0];
        assert_eq!(stop.pose, a.pose);
        assert_eq!(stop.geodesic_m, a.geodesic_m);
        assert_eq!(stop.distance_reduction_m, 0.0);
        assert_eq!(stop.rgb, a.rgb);
        // The episode never ends in a branch: actions after STOPs were taken (the call succeeded)
        // and move the agent as usual. Reductions chain: before − after for every action.
        for seq in out {
            let mut prev = a.geodesic_m;
            for o in seq {
                assert_eq!(o.distance_reduction_m, prev - o.geodesic_m);
                prev = o.geodesic_m;
            }
        }
        let after_stop = &out[4];
        assert_eq!(after_stop[0].pose, a.pose);
        assert_eq!(
            after_stop[1], out[1][0],
            "STOP then Forward = Forward (pose, image)"
        );
        // Independence: the same sequence first and last gives the same outcome.
        assert_eq!(
            out[0], out[5],
            "branches from one snapshot contaminate each other"
        );
    }
    // Independence: the sequences in reverse order (and the anchors sorted) give identical
    // outcomes.
    let rev: Vec<Vec<Action>> = seqs.iter().rev().cloned().collect();
    let mut sorted = anchors.to_vec();
    sorted.sort_unstable();
    let again = rs.branch_episode(ds, id, &sorted, &rev).unwrap();
    for (i, &t) in anchors.iter().enumerate() {
        let j = sorted.iter().position(|&s| s == t).unwrap();
        let mut back = again[j].clone();
        back.reverse();
        assert_eq!(
            back, b.outcomes[i],
            "anchor {t}: order of sequences matters"
        );
    }
}

/// Check 4: bad input gives clear errors.
fn bad_input_is_reported(rs: &mut Resimulator, ds: &Dataset, id: u64, n: usize) {
    let dir = ds.dir().display().to_string();
    let e = rs.replay(ds, 999_999, &[0]).unwrap_err().to_string();
    assert!(e.contains("999999") && e.contains(&dir), "{e}");
    let e = rs
        .branch_episode(ds, id, &[0, n], &[vec![Action::Forward]])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!("anchor step {n}")) && e.contains(&format!("episode {id}")),
        "{e}"
    );
    // No anchors: nothing to do, no error.
    assert!(rs.branch_episode(ds, id, &[], &[]).unwrap().is_empty());
}

/// A copy of the dataset whose info.json lacks the generator config.
fn without_config(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst.join("data")).unwrap();
    for e in std::fs::read_dir(src.join("data")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dst.join("data").join(p.file_name().unwrap())).unwrap();
    }
    let mut info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(src.join("info.json")).unwrap()).unwrap();
    info["generator"]
        .as_object_mut()
        .unwrap()
        .remove("config")
        .unwrap();
    std::fs::write(
        dst.join("info.json"),
        serde_json::to_vec_pretty(&info).unwrap(),
    )
    .unwrap();
}

#[test]
fn resimulation_reproduces_the_dataset_and_branches() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    generate(&config(), dir.path(), &|_| {}).unwrap();
    eprintln!("generated in {:.1} s", t0.elapsed().as_secs_f64());
    let ds = Dataset::open(dir.path()).unwrap();
    let mut rs = Resimulator::new(&ds).unwrap();
    assert_eq!(rs.config(), &config());

    let mut pauses = 0;
    let ids: Vec<u64> = ds.episodes().iter().map(|e| e.entry.episode_id).collect();
    assert_eq!(ids.len(), 3);
    for &id in &ids {
        let frames = ds.episode_frames(id).unwrap();
        assert!(frames.len() >= 3, "episode {id}: {} frames", frames.len());
        let t = Instant::now();
        pauses += replay_is_exact(&mut rs, &ds, id, &frames);
        // Speed with the scene's simulator cached: a replay to the last frame.
        let t1 = Instant::now();
        rs.replay(&ds, id, &[frames.len() - 1]).unwrap();
        eprintln!(
            "episode {id}: {:.1} ms per replayed step (simulator cached)",
            1e3 * t1.elapsed().as_secs_f64() / frames.len() as f64
        );
        recorded_branches_match(&mut rs, &ds, id, &frames);
        counterfactuals_are_physical_and_independent(&mut rs, &ds, id, &frames);
        bad_input_is_reported(&mut rs, &ds, id, frames.len());
        eprintln!(
            "episode {id}: {} frames, all checks in {:.1} s",
            frames.len(),
            t.elapsed().as_secs_f64()
        );
    }
    assert!(pauses > 0, "no pause in the data: raise variation.pause");
    eprintln!("{pauses} pauses (non-terminal STOPs) crossed by exact replays");

    // A dataset without the generator config cannot be re-simulated, and says why.
    let bare = tempfile::tempdir().unwrap();
    without_config(dir.path(), bare.path());
    let e = Resimulator::new(&Dataset::open(bare.path()).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("generator.config") && e.contains(&bare.path().display().to_string()),
        "{e}"
    );
    eprintln!("total {:.1} s", t0.elapsed().as_secs_f64());
}
