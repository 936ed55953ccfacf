//! End-to-end properties of the simulator on small procedural scenes.

use avwm_core::{Action, Env, EpisodeSpec, MAX_EPISODE_STEPS, SLACK_REWARD, SUCCESS_REWARD, Seed};
use avwm_scene::procedural::{ProceduralConfig, generate};
use avwm_sim::policy::{Policy, PolicyKind};
use avwm_sim::{SimConfig, SimError, Simulator};
use std::sync::{Arc, OnceLock};

fn scene() -> Arc<avwm_scene::Scene> {
    static SCENE: OnceLock<Arc<avwm_scene::Scene>> = OnceLock::new();
    SCENE
        .get_or_init(|| Arc::new(generate(3, &ProceduralConfig::small()).expect("scene")))
        .clone()
}

fn sim() -> Simulator {
    Simulator::new(scene(), &SimConfig::tiny()).expect("simulator")
}

fn spec(sim: &Simulator, seed: u64) -> EpisodeSpec {
    let s = Seed(seed);
    EpisodeSpec {
        seed: s,
        start: sim.random_start(s),
    }
}

/// Runs a policy until done or `max` actions; returns (actions, rewards, final info).
fn run(
    sim: &mut Simulator,
    kind: PolicyKind,
    seed: u64,
    max: usize,
) -> (Vec<Action>, Vec<f32>, avwm_core::StepInfo) {
    let sp = spec(sim, seed);
    sim.reset(&sp).unwrap();
    let mut policy = Policy::new(kind, Seed(seed));
    let (mut actions, mut rewards) = (Vec::new(), Vec::new());
    loop {
        let pose = sim.state().unwrap().pose;
        let a = if actions.len() + 1 == max {
            Action::Stop
        } else {
            policy.act(sim, pose)
        };
        let step = sim.step(a).unwrap();
        actions.push(a);
        rewards.push(step.reward);
        if step.done {
            return (actions, rewards, step.info);
        }
    }
}

#[test]
fn reward_terms_telescope_over_an_episode() {
    let mut sim = sim();
    for (kind, seed) in [(PolicyKind::Random, 1), (PolicyKind::ShortestPath, 2)] {
        let start = spec(&sim, seed).start;
        let d0 = sim.nav().geodesic_to_source(start.xy());
        let (actions, rewards, info) = run(&mut sim, kind, seed, 120);
        let total: f32 = rewards.iter().sum();
        let expected = SLACK_REWARD * actions.len() as f32
            + (d0 - info.geodesic_m)
            + if info.success { SUCCESS_REWARD } else { 0.0 };
        assert!(
            (total - expected).abs() < 1e-3,
            "return {total} vs telescoped {expected}"
        );
    }
}

#[test]
fn shortest_path_policy_succeeds_and_stops_within_one_metre() {
    let mut sim = sim();
    for seed in [5, 6, 7, 8] {
        let (actions, _, info) = run(&mut sim, PolicyKind::ShortestPath, seed, MAX_EPISODE_STEPS);
        assert_eq!(actions.last(), Some(&Action::Stop));
        assert!(
            info.success,
            "seed {seed}: ended at geodesic {} m after {} actions",
            info.geodesic_m,
            actions.len()
        );
        assert!(info.geodesic_m < 1.0);
    }
}

#[test]
fn same_seed_gives_identical_image_and_audio_bytes() {
    let record = |sim: &mut Simulator| {
        let sp = spec(sim, 11);
        let mut obs = vec![sim.reset(&sp).unwrap()];
        for a in [
            Action::Forward,
            Action::TurnLeft,
            Action::Forward,
            Action::Forward,
            Action::TurnRight,
            Action::Stop,
        ] {
            obs.push(sim.step(a).unwrap().obs);
        }
        obs
    };
    let a = record(&mut sim());
    let b = record(&mut sim());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.rgb.data, y.rgb.data);
        let bits = |v: &[f32]| v.iter().map(|s| s.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&x.audio.left), bits(&y.audio.left));
        assert_eq!(bits(&x.audio.right), bits(&y.audio.right));
    }
    // And the audio is not silent: the source is audible from the start pose.
    let rms = (a[1].audio.left.iter().map(|s| s * s).sum::<f32>() / 2400.0).sqrt();
    assert!(rms > 1e-4, "rms {rms}");
}

#[test]
fn restore_replays_exactly_the_same_future() {
    let mut sim = sim();
    let sp = spec(&sim, 21);
    sim.reset(&sp).unwrap();
    for _ in 0..4 {
        sim.step(Action::Forward).unwrap();
    }
    let snap = sim.snapshot();
    let future = [
        Action::TurnLeft,
        Action::Forward,
        Action::Forward,
        Action::TurnRight,
        Action::Forward,
    ];
    let first: Vec<_> = future.iter().map(|a| sim.step(*a).unwrap()).collect();
    // Branch elsewhere, then come back.
    sim.restore(&snap);
    sim.step(Action::TurnRight).unwrap();
    sim.step(Action::TurnRight).unwrap();
    sim.restore(&snap);
    let second: Vec<_> = future.iter().map(|a| sim.step(*a).unwrap()).collect();
    assert_eq!(first, second);
}

#[test]
fn steps_after_the_end_and_bad_starts_are_errors() {
    let mut sim = sim();
    assert!(matches!(sim.step(Action::Forward), Err(SimError::NotReset)));
    let sp = spec(&sim, 3);
    sim.reset(&sp).unwrap();
    assert!(sim.step(Action::Stop).unwrap().done);
    assert!(matches!(
        sim.step(Action::Forward),
        Err(SimError::EpisodeOver)
    ));
    let far = EpisodeSpec {
        seed: Seed(1),
        start: avwm_core::Pose::new(-1000.0, -1000.0, 0.0),
    };
    assert!(matches!(sim.reset(&far), Err(SimError::BadStart { .. })));
}

#[test]
fn turning_in_place_keeps_position_and_changes_only_heading() {
    let mut sim = sim();
    let sp = spec(&sim, 8);
    sim.reset(&sp).unwrap();
    let p0 = sim.state().unwrap().pose;
    let s = sim.step(Action::TurnLeft).unwrap();
    assert_eq!((s.info.pose.x, s.info.pose.y), (p0.x, p0.y));
    let dyaw = avwm_core::wrap_angle(s.info.pose.yaw - p0.yaw);
    assert!((dyaw - 10f32.to_radians()).abs() < 1e-5);
    assert!(
        (s.reward - SLACK_REWARD).abs() < 1e-6,
        "a turn only costs the time penalty"
    );
}

#[test]
fn source_level_is_one_global_gain() {
    // The level convention scales the source only: every sample of every step is scaled by the
    // same factor, 10^(ΔdB/20), wherever the agent is, and the images do not change.
    let steps = |level: f32| {
        let cfg = SimConfig {
            source_level_dbfs: level,
            ..SimConfig::tiny()
        };
        let mut sim = Simulator::new(scene(), &cfg).unwrap();
        let sp = spec(&sim, 5);
        let mut obs = vec![sim.reset(&sp).unwrap()];
        for a in [Action::Forward, Action::TurnLeft, Action::Forward] {
            obs.push(sim.step(a).unwrap().obs);
        }
        obs
    };
    let (quiet, loud) = (steps(-36.0), steps(-16.0));
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (q, l) in quiet.iter().zip(&loud) {
        assert_eq!(q.rgb.data, l.rgb.data);
        let qa = q.audio.left.iter().chain(&q.audio.right);
        let la: Vec<f32> = l.audio.left.iter().chain(&l.audio.right).copied().collect();
        let peak = la.iter().fold(0f32, |m, v| m.max(v.abs()));
        for (a, b) in qa.zip(&la) {
            num += f64::from(*a) * f64::from(*b);
            den += f64::from(*a) * f64::from(*a);
            // 20 dB = a factor 10 on every sample, up to the FFT convolution's float32 error
            // (relative to the frame's peak).
            assert!((b - 10.0 * a).abs() <= 1e-4 * peak, "{a} {b} (peak {peak})");
        }
    }
    assert!((num / den - 10.0).abs() < 1e-3, "{}", num / den);
    // A non-finite level is a configuration error, not a panic.
    let bad = SimConfig {
        source_level_dbfs: f32::INFINITY,
        ..SimConfig::tiny()
    };
    assert!(matches!(
        Simulator::new(scene(), &bad),
        Err(SimError::Audio(_))
    ));
}
