//! The agent shipped in `models/agent-avnav` is the one `models/manifest.json` records (same
//! bytes, same training configuration), loads, and acts on an observation of a scene it never
//! trained in.

use avwm_agent::Agent;
use avwm_agent::obs::agent_obs;
use avwm_core::{Env, EpisodeSpec, Seed};
use avwm_scene::procedural::{ProceduralConfig, generate};
use avwm_sim::{SimConfig, Simulator};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;
use tch::Device;

const NAME: &str = "agent-avnav";

fn models() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models")
}

#[test]
fn shipped_agent_matches_its_manifest_and_acts() {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(models().join("manifest.json")).unwrap())
            .unwrap();
    let entry = &manifest[NAME];
    let weights = std::fs::read(models().join(NAME).join("agent.safetensors")).unwrap();
    let sha = format!("{:x}", Sha256::digest(&weights));
    assert_eq!(entry["sha256"].as_str(), Some(sha.as_str()));
    assert!(entry["frames"].as_u64().unwrap() > 0);
    assert!(entry["cpu_hours_at_most"].as_f64().unwrap() > 0.0);
    assert!(!entry["curve"].as_array().unwrap().is_empty());

    let agent = Agent::load(&models().join(NAME), Device::Cpu).unwrap();
    assert_eq!(
        agent.config.net,
        serde_json::from_value(entry["config"]["net"].clone()).unwrap()
    );
    let params = agent.parameters();
    assert!(
        (900_000..1_000_000).contains(&params),
        "{params} parameters"
    );

    // A scene of no dataset split, at the evaluation's 128² resolution.
    let scene = Arc::new(generate(9001, &ProceduralConfig::default()).unwrap());
    let mut sim = Simulator::new(scene, &SimConfig::default()).unwrap();
    let seed = Seed(3);
    let start = sim.random_start(seed);
    let obs = sim.reset(&EpisodeSpec { seed, start }).unwrap();
    let o = agent_obs(&obs, agent.config.net.image_size as usize).unwrap();
    let hidden = agent.net.initial_hidden(1, Device::Cpu);
    let p = agent.perceive(&[&o], &hidden).unwrap();
    let total: f32 = p.logp.iter().map(|l| l.exp()).sum();
    assert!((total - 1.0).abs() < 1e-4, "policy sums to {total}");
    assert!(p.value[0].is_finite());
    assert_eq!(p.hidden.size(), [1, agent.config.net.hidden]);
}
