//! Helpers shared by the subcommands.

use anyhow::{Context, Result, bail};
use avwm_scene::Scene;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;
use std::sync::Arc;

/// Parses `"a,b,c"` into exactly `N` floats.
pub fn parse_floats<const N: usize>(s: &str, what: &str) -> Result<[f32; N]> {
    let v: Vec<f32> = s
        .split(',')
        .map(|x| {
            x.trim()
                .parse::<f32>()
                .with_context(|| format!("{what}: {x:?} is not a number"))
        })
        .collect::<Result<_>>()?;
    if v.len() != N {
        bail!(
            "{what}: expected {N} comma-separated numbers, got {} in {s:?}",
            v.len()
        );
    }
    if v.iter().any(|x| !x.is_finite()) {
        bail!("{what}: values must be finite, got {s:?}");
    }
    Ok(std::array::from_fn(|i| v[i]))
}

/// A named bundle of settings for the simulator and the procedural scenes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// Seconds: 32×32 images, 3–5 room scenes, light acoustic precomputation (tests, CI).
    Tiny,
    /// The paper's settings: 128×128 images, 3–10 room apartments of 150–450 m².
    Default,
}

impl Preset {
    /// The preset's name, shared with the libraries' `preset(name)` constructors.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Tiny => "tiny",
            Preset::Default => "default",
        }
    }

    /// Simulator settings of the preset.
    pub fn sim_config(self) -> avwm_sim::SimConfig {
        avwm_sim::SimConfig::preset(self.name()).expect("every CLI preset is a simulator preset")
    }

    /// Procedural scene settings of the preset.
    pub fn scene_config(self) -> avwm_scene::procedural::ProceduralConfig {
        avwm_scene::procedural::ProceduralConfig::preset(self.name())
            .expect("every CLI preset is a scene preset")
    }
}

/// Loads a scene file, or generates the procedural scene of `seed` with the preset's settings.
pub fn load_scene(scene: Option<&Path>, seed: u64, preset: Preset) -> Result<Arc<Scene>> {
    let s = match scene {
        Some(path) => avwm_scene::file::load_scene_file(path)
            .with_context(|| format!("loading scene {}", path.display()))?,
        None => avwm_scene::procedural::generate(seed, &preset.scene_config())
            .with_context(|| format!("generating procedural scene {seed}"))?,
    };
    Ok(Arc::new(s))
}

/// The simulator config: the file if given, else the preset's.
pub fn sim_config(path: Option<&Path>, preset: Preset) -> Result<avwm_sim::SimConfig> {
    match path {
        Some(_) => load_toml(path),
        None => Ok(preset.sim_config()),
    }
}

/// Reads a TOML config file into `T`, or `T::default()` when no file is given.
pub fn load_toml<T: serde::de::DeserializeOwned + Default>(path: Option<&Path>) -> Result<T> {
    match path {
        None => Ok(T::default()),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            toml::from_str(&text).with_context(|| format!("parsing {}", p.display()))
        }
    }
}

/// Writes JSON atomically, creating missing parent folders.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let bytes = serde_json::to_vec_pretty(value)?;
    avwm_core::write_atomic(path, &bytes).with_context(|| format!("writing {}", path.display()))
}

/// A progress bar with a count and ETA on stderr.
pub fn progress(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .expect("a valid progress template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}
