//! Generator configuration and presets.

use crate::generate::GenError;
use avwm_data::AudioEncoding;
use avwm_scene::procedural::ProceduralConfig;
use avwm_sim::SimConfig;
use serde::{Deserialize, Serialize};

/// Natural variation added to shortest-path following, as per-step probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Variation {
    /// Probability per step of starting a look-around: 2–6 turns in place one way (the follower
    /// then turns back).
    pub look_around: f32,
    /// Probability per step of a small detour: a visible navigable point within `detour_radius_m`
    /// becomes an intermediate goal.
    pub detour: f32,
    /// Radius of detour points (m).
    pub detour_radius_m: f32,
    /// Probability per step of a pause: 1–3 non-terminal STOP actions (only where STOP would not
    /// count as success, i.e. ≥ 1 m geodesic from the source).
    pub pause: f32,
}

impl Default for Variation {
    fn default() -> Self {
        Variation {
            look_around: 0.01,
            detour: 0.01,
            detour_radius_m: 1.5,
            pause: 0.01,
        }
    }
}

/// Everything that defines a dataset. Same config ⇒ byte-identical files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GenConfig {
    /// Root seed; every scene, episode and choice derives from it.
    pub seed: u64,
    /// Number of procedural scenes.
    pub scenes: usize,
    /// Total number of episodes (trajectories), spread evenly over the scenes.
    pub episodes: usize,
    /// Scene counts per split in the ratio train:validation:test (paper: 6:1:2).
    pub split_ratio: [u32; 3],
    /// Most frames per episode (paper: 500).
    pub max_frames: usize,
    /// "Never silent" criterion: no frame is farther than this geodesic distance from the source
    /// (m). Starts and goals are drawn within it and an episode ends if a frame exceeds it.
    pub max_source_geodesic_m: f32,
    /// Shortest start–goal geodesic (m) of `source_to_goal` and `random_to_random`, and shortest
    /// start geodesic of `start_to_source`.
    pub min_path_m: f32,
    /// Relative weights of the patterns `source_to_goal`, `start_to_source`, `random_to_random`.
    pub pattern_weights: [f32; 3],
    /// Episodes per Parquet shard (shards never mix scenes).
    pub episodes_per_shard: usize,
    /// WAV sample format.
    pub audio: AudioEncoding,
    /// Variation of the walks.
    pub variation: Variation,
    /// Procedural scene settings.
    pub scene: ProceduralConfig,
    /// Simulator settings.
    pub sim: SimConfig,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig::avw4k()
    }
}

impl GenConfig {
    /// The paper's AVW-4k scale: 76 scenes, 4,560 trajectories (≈ 4,500), ≈ 720 k frames.
    pub fn avw4k() -> GenConfig {
        GenConfig {
            seed: 0,
            scenes: 76,
            episodes: 4560,
            split_ratio: [6, 1, 2],
            max_frames: 500,
            max_source_geodesic_m: 20.0,
            min_path_m: 6.0,
            pattern_weights: [1.0, 1.0, 1.0],
            episodes_per_shard: 20,
            audio: AudioEncoding::Float32,
            variation: Variation::default(),
            scene: ProceduralConfig::default(),
            sim: SimConfig::default(),
        }
    }

    /// The model issues' default: 12 scenes, 300 trajectories, the paper's 128×128 images.
    pub fn small() -> GenConfig {
        GenConfig {
            scenes: 12,
            episodes: 300,
            ..GenConfig::avw4k()
        }
    }

    /// Seconds, for tests and CI: 3 small scenes, 6 short trajectories, 32×32 images.
    pub fn tiny() -> GenConfig {
        GenConfig {
            scenes: 3,
            episodes: 6,
            max_frames: 40,
            min_path_m: 1.5,
            max_source_geodesic_m: 12.0,
            episodes_per_shard: 1,
            variation: Variation {
                look_around: 0.05,
                detour: 0.03,
                pause: 0.05,
                ..Variation::default()
            },
            scene: ProceduralConfig::small(),
            sim: SimConfig::tiny(),
            ..GenConfig::avw4k()
        }
    }

    /// The named preset (`tiny`, `small`, `avw4k`).
    pub fn preset(name: &str) -> Option<GenConfig> {
        match name {
            "tiny" => Some(GenConfig::tiny()),
            "small" => Some(GenConfig::small()),
            "avw4k" => Some(GenConfig::avw4k()),
            _ => None,
        }
    }

    /// Checks ranges.
    ///
    /// # Errors
    /// A message naming the bad field.
    pub fn validate(&self) -> Result<(), String> {
        if self.scenes < 3 {
            return Err(format!(
                "scenes = {}: at least 3 (one per split)",
                self.scenes
            ));
        }
        if self.episodes < self.scenes {
            return Err(format!(
                "episodes = {} < scenes = {}",
                self.episodes, self.scenes
            ));
        }
        if self.split_ratio.contains(&0) {
            return Err("split_ratio: every split needs a positive share".into());
        }
        if !(2..=avwm_core::MAX_EPISODE_STEPS).contains(&self.max_frames) {
            return Err(format!(
                "max_frames = {}: must be in 2..=500",
                self.max_frames
            ));
        }
        if self.episodes_per_shard == 0 {
            return Err("episodes_per_shard must be ≥ 1".into());
        }
        if !(self.max_source_geodesic_m > self.min_path_m && self.min_path_m >= 0.0) {
            return Err("need 0 ≤ min_path_m < max_source_geodesic_m".into());
        }
        if self.pattern_weights.iter().any(|w| w.is_nan() || *w < 0.0)
            || self.pattern_weights.iter().sum::<f32>() <= 0.0
        {
            return Err("pattern_weights must be ≥ 0 with a positive sum".into());
        }
        let v = &self.variation;
        for (name, p) in [
            ("look_around", v.look_around),
            ("detour", v.detour),
            ("pause", v.pause),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("variation.{name} = {p}: a probability in [0, 1]"));
            }
        }
        self.sim.validate().map_err(|e| format!("sim: {e}"))?;
        self.scene.validate().map_err(|e| e.to_string())
    }

    /// This configuration with the fields of the TOML file `path` on top (tables merge key by
    /// key, any other value replaces), then validated: how `avwm data generate --config` applies
    /// a file to its preset, so that a file need only hold what differs.
    ///
    /// # Errors
    /// [`GenError::Io`] if the file cannot be read; [`GenError::Config`] naming the file if it is
    /// not TOML, does not fit the generator's configuration, or the result is out of range.
    pub fn with_overrides(&self, path: &std::path::Path) -> Result<GenConfig, GenError> {
        let bad = |what: String| GenError::Config(format!("{}: {what}", path.display()));
        let text = std::fs::read_to_string(path).map_err(|source| GenError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let over: toml::Value = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let mut merged = toml::Value::try_from(self).map_err(|e| bad(e.to_string()))?;
        overlay(&mut merged, over);
        let cfg: GenConfig = merged
            .try_into()
            .map_err(|e: toml::de::Error| bad(format!("not a generator configuration: {e}")))?;
        cfg.validate().map_err(bad)?;
        Ok(cfg)
    }
}

/// Puts `over` on top of `base`: tables merge key by key, any other value replaces.
fn overlay(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(bv) => overlay(bv, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_override_file_changes_only_what_it_names_and_is_validated() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let base = GenConfig::tiny();
        let p = file("ok.toml", "episodes = 12\n[sim.camera]\nwidth = 48\n");
        let cfg = base.with_overrides(&p).unwrap();
        assert_eq!((cfg.episodes, cfg.sim.camera.width), (12, 48));
        // Everything else is the preset's, nested tables included.
        let mut expected = base.clone();
        expected.episodes = 12;
        expected.sim.camera.width = 48;
        assert_eq!(cfg, expected);
        // Refusals name the file and the problem.
        for (name, text, what) in [
            ("syntax.toml", "episodes = = 3", "syntax.toml"),
            (
                "unknown.toml",
                "episodez = 3",
                "not a generator configuration",
            ),
            ("range.toml", "scenes = 1", "at least 3"),
            (
                "sim.toml",
                "[sim]\nsource_level_dbfs = 1000.0",
                "source_level_dbfs",
            ),
        ] {
            let e = base
                .with_overrides(&file(name, text))
                .unwrap_err()
                .to_string();
            assert!(e.contains(what) && e.contains(name), "{name}: {e}");
        }
        let e = base
            .with_overrides(&dir.path().join("missing.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.toml"), "{e}");
    }
}
