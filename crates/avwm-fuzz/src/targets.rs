//! The targets: one per loader of user files. Each writes the input where a user's file would
//! be (a scratch folder per target, with the companion files the loader needs copied from the
//! fixtures) and calls the library's public loader.

use crate::engine::{RunResult, Target};
use avwm_nn::resume::{STATE_FILE, load_training};
use std::path::{Path, PathBuf};

/// Every target's name, in the order `all` runs them.
pub const NAMES: [&str; 21] = [
    "scene_toml",
    "mesh_obj",
    "mesh_ply",
    "mesh_gltf",
    "mesh_glb",
    "sofa",
    "wav",
    "sim_config",
    "gen_config",
    "episodes",
    "dataset_shard",
    "dataset_info",
    "safetensors",
    "tokenizer_json",
    "tokenizer_weights",
    "model_json",
    "training_optim",
    "training_ema",
    "training_state",
    "cache_json",
    "cache_split",
];

/// The loader each target calls (for `avwm-fuzz list` and the docs).
pub fn loader_of(name: &str) -> &'static str {
    match name {
        "scene_toml" => "avwm_scene::file::load_scene_file (scene.toml beside shoebox.obj)",
        "mesh_obj" => "avwm_scene::file::load_scene_file (fixed scene.toml naming mesh.obj)",
        "mesh_ply" => "avwm_scene::file::load_scene_file (fixed scene.toml naming mesh.ply)",
        "mesh_gltf" => "avwm_scene::file::load_scene_file (fixed scene.toml naming mesh.gltf)",
        "mesh_glb" => "avwm_scene::file::load_scene_file (fixed scene.toml naming mesh.glb)",
        "sofa" => "avwm_audio::Hrtf::from_sofa (16 kHz)",
        "wav" => "avwm_audio::SourceSignal::from_wav (read_wav, mix, resample)",
        "sim_config" => {
            "toml::from_str::<avwm_sim::SimConfig> + SimConfig::validate (what Simulator::new checks first)"
        }
        "gen_config" => "toml::from_str::<avwm_datagen::GenConfig> + GenConfig::validate",
        "episodes" => "avwm_datagen::episodes::read_episodes",
        "dataset_shard" => {
            "avwm_data::Dataset::open + episode_frames of every episode (train shard replaced)"
        }
        "dataset_info" => {
            "avwm_data::Dataset::open + episode_frames of every episode (info.json replaced)"
        }
        "safetensors" => "avwm_nn::ckpt::load_tensors",
        "tokenizer_json" => "avwm_tokenizer::Tokenizer::load (JSON replaced, MDCT weights fixed)",
        "tokenizer_weights" => {
            "avwm_tokenizer::Tokenizer::load (weights replaced: ckpt::load_var_store)"
        }
        "model_json" => "avwm_model::WorldModel::load (JSON replaced, tiny AV-CDiT weights fixed)",
        "training_optim" => {
            "avwm_nn::resume::load_training (optim.safetensors replaced: AdamW::load)"
        }
        "training_ema" => "avwm_nn::resume::load_training (ema.safetensors replaced: Ema::load)",
        "training_state" => {
            "avwm_nn::resume::load_training::<avwm_model::train::State> (state.json replaced)"
        }
        "cache_json" => "avwm_tokenizer::cache::open_split (cache.json replaced)",
        "cache_split" => "avwm_tokenizer::cache::open_split (train.safetensors replaced)",
        _ => "?",
    }
}

/// The network, EMA and optimiser whose checkpoint is the `training_optim` fixture: two
/// variables, `layer.weight` (4 × 3) and `layer.bias` (4), with zero-initialised AdamW moments.
pub fn training_vars() -> (tch::nn::VarStore, avwm_nn::ema::Ema, avwm_nn::optim::AdamW) {
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let root = vs.root() / "layer";
    let _w = root.ones("weight", &[4, 3]);
    let _b = root.zeros("bias", &[4]);
    let ema = avwm_nn::ema::Ema::new(&vs, 0.999);
    let opt = avwm_nn::optim::AdamW::new(&vs, avwm_nn::optim::AdamWConfig::default(), |_| true);
    (vs, ema, opt)
}

/// Where the seed corpus and fixtures are (the crate's `corpus/` and `fixtures/`).
#[derive(Debug, Clone)]
pub struct Paths {
    /// `corpus/` (one folder per target).
    pub corpus: PathBuf,
    /// `fixtures/` (companion files: a dataset, a tokenizer, a latent cache).
    pub fixtures: PathBuf,
    /// The repository's `assets/` (the KEMAR SOFA file, the shoebox mesh).
    pub assets: PathBuf,
}

impl Default for Paths {
    fn default() -> Paths {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        Paths {
            corpus: root.join("corpus"),
            fixtures: root.join("fixtures"),
            assets: root.join("../../assets"),
        }
    }
}

/// The files of `dir`, sorted by name (skipping `README.md`).
fn read_seeds(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()))?;
        } else {
            std::fs::copy(&p, to.join(e.file_name()))?;
        }
    }
    Ok(())
}

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// A target whose input is written to `dir/file` and then `load(dir/file)` is called.
fn file_target(
    name: &'static str,
    text: bool,
    seeds: Vec<Vec<u8>>,
    path: PathBuf,
    mut load: impl FnMut(&Path) -> RunResult + 'static,
) -> Target {
    Target {
        name,
        text,
        seeds,
        run: Box::new(move |b: &[u8]| {
            std::fs::write(&path, b).map_err(|e| format!("harness: writing input: {e}"))?;
            load(&path)
        }),
    }
}

const MESH_SOURCE: &str = "[source]\nposition = [0.5, 0.5, 0.5]\n";

/// Builds target `name` with its scratch folder `scratch` (created; companion files copied in).
///
/// # Errors
/// An unknown name or a scratch folder that cannot be prepared.
pub fn build(name: &str, scratch: &Path, paths: &Paths) -> Result<Target, String> {
    std::fs::create_dir_all(scratch).map_err(err)?;
    let seeds_of = |n: &str| read_seeds(&paths.corpus.join(n));
    let scratch = scratch.to_path_buf();
    let target = match name {
        "scene_toml" => {
            std::fs::copy(
                paths.assets.join("meshes/shoebox.obj"),
                scratch.join("shoebox.obj"),
            )
            .map_err(err)?;
            file_target(
                "scene_toml",
                true,
                seeds_of(name),
                scratch.join("scene.toml"),
                |p| avwm_scene::file::load_scene_file(p).map(drop).map_err(err),
            )
        }
        "mesh_obj" | "mesh_ply" | "mesh_gltf" | "mesh_glb" => {
            let ext = &name[5..];
            let up = if ext.starts_with("gl") { "y" } else { "z" };
            let toml = format!("[mesh]\npath = \"mesh.{ext}\"\nup_axis = \"{up}\"\n{MESH_SOURCE}");
            let scene = scratch.join("scene.toml");
            std::fs::write(&scene, toml).map_err(err)?;
            let static_name: &'static str = NAMES
                .iter()
                .find(|n| **n == name)
                .copied()
                .unwrap_or("mesh");
            file_target(
                static_name,
                ext == "obj" || ext == "gltf",
                seeds_of(name),
                scratch.join(format!("mesh.{ext}")),
                move |_| {
                    avwm_scene::file::load_scene_file(&scene)
                        .map(drop)
                        .map_err(err)
                },
            )
        }
        "sofa" => {
            let mut seeds = seeds_of(name);
            // The KEMAR set (1.2 MB) is too big to check in as a seed: read it at start-up.
            if let Ok(b) = std::fs::read(paths.assets.join("hrtf/MIT_KEMAR_normal_pinna.sofa")) {
                seeds.push(b);
            }
            file_target("sofa", false, seeds, scratch.join("hrtf.sofa"), |p| {
                avwm_audio::Hrtf::from_sofa(p, avwm_core::SAMPLE_RATE_HZ)
                    .map(drop)
                    .map_err(err)
            })
        }
        "wav" => file_target(
            "wav",
            false,
            seeds_of(name),
            scratch.join("source.wav"),
            |p| avwm_audio::SourceSignal::from_wav(p).map(drop).map_err(err),
        ),
        "sim_config" => file_target(
            "sim_config",
            true,
            seeds_of(name),
            scratch.join("sim.toml"),
            |p| {
                let text = std::fs::read_to_string(p).map_err(err)?;
                let cfg: avwm_sim::SimConfig = toml::from_str(&text).map_err(err)?;
                cfg.validate().map_err(err)
            },
        ),
        "gen_config" => file_target(
            "gen_config",
            true,
            seeds_of(name),
            scratch.join("gen.toml"),
            |p| {
                let text = std::fs::read_to_string(p).map_err(err)?;
                let cfg: avwm_datagen::GenConfig = toml::from_str(&text).map_err(err)?;
                cfg.validate()
            },
        ),
        "episodes" => file_target(
            "episodes",
            true,
            seeds_of(name),
            scratch.join("episodes.jsonl"),
            |p| {
                avwm_datagen::episodes::read_episodes(p)
                    .map(drop)
                    .map_err(err)
            },
        ),
        "dataset_shard" | "dataset_info" => {
            let ds = scratch.join("dataset");
            copy_dir(&paths.fixtures.join("dataset"), &ds).map_err(err)?;
            let (file, static_name, text) = if name == "dataset_info" {
                (ds.join("info.json"), "dataset_info", true)
            } else {
                (
                    ds.join("data/train-00000-of-00001.parquet"),
                    "dataset_shard",
                    false,
                )
            };
            file_target(static_name, text, seeds_of(name), file, move |_| {
                let d = avwm_data::Dataset::open(&ds).map_err(err)?;
                let ids: Vec<u64> = d.episodes().iter().map(|e| e.entry.episode_id).collect();
                for id in ids {
                    d.episode_frames(id).map_err(err)?;
                }
                Ok(())
            })
        }
        "safetensors" => file_target(
            "safetensors",
            false,
            seeds_of(name),
            scratch.join("ckpt.safetensors"),
            |p| avwm_nn::ckpt::load_tensors(p).map(drop).map_err(err),
        ),
        "tokenizer_json" | "tokenizer_weights" => {
            let dir = scratch.join("tok");
            copy_dir(&paths.fixtures.join("tokenizer"), &dir).map_err(err)?;
            let stem = dir.join("mdct");
            let (file, static_name, text) = if name == "tokenizer_json" {
                (dir.join("mdct.json"), "tokenizer_json", true)
            } else {
                (dir.join("mdct.safetensors"), "tokenizer_weights", false)
            };
            file_target(static_name, text, seeds_of(name), file, move |_| {
                avwm_tokenizer::Tokenizer::load(&stem, tch::Device::Cpu)
                    .map(drop)
                    .map_err(err)
            })
        }
        "model_json" => {
            let dir = scratch.join("model");
            copy_dir(&paths.fixtures.join("model"), &dir).map_err(err)?;
            let stem = dir.join("model");
            file_target(
                "model_json",
                true,
                seeds_of(name),
                dir.join("model.json"),
                move |_| {
                    avwm_model::WorldModel::load(&stem, tch::Device::Cpu)
                        .map(drop)
                        .map_err(err)
                },
            )
        }
        "training_optim" | "training_ema" | "training_state" => {
            let dir = scratch.join("ckpt");
            copy_dir(&paths.fixtures.join("training"), &dir).map_err(err)?;
            let (static_name, file, text) = match name {
                "training_optim" => ("training_optim", "optim.safetensors", false),
                "training_ema" => ("training_ema", "ema.safetensors", false),
                _ => ("training_state", STATE_FILE, true),
            };
            file_target(
                static_name,
                text,
                seeds_of(name),
                dir.join(file),
                move |_| {
                    let (mut vs, mut ema, mut opt) = training_vars();
                    // The state as the world model's trainer reads it (the other files' target
                    // reads it as any JSON: the fixture's state is `{"step": 1}`).
                    if static_name == "training_state" {
                        load_training::<avwm_model::train::State>(&dir, &mut vs, &mut ema, &mut opt)
                            .map(drop)
                    } else {
                        load_training::<serde_json::Value>(&dir, &mut vs, &mut ema, &mut opt)
                            .map(drop)
                    }
                    .map_err(err)
                },
            )
        }
        "cache_json" | "cache_split" => {
            let dir = scratch.join("cache");
            copy_dir(&paths.fixtures.join("cache"), &dir).map_err(err)?;
            let (file, static_name, text) = if name == "cache_json" {
                (dir.join("cache.json"), "cache_json", true)
            } else {
                (dir.join("train.safetensors"), "cache_split", false)
            };
            file_target(static_name, text, seeds_of(name), file, move |_| {
                avwm_tokenizer::cache::open_split(&dir, avwm_data::Split::Train)
                    .map(drop)
                    .map_err(err)
            })
        }
        "selftest_crash" => Target {
            // Not a loader: checks the binary's oracle (tests/oracle.rs). Seed 0 aborts the
            // process, seed 1 stalls for 12 s, seed 2 panics (their mutants rarely equal them);
            // everything else is fine.
            name: "selftest_crash",
            text: false,
            seeds: vec![
                b"abort!".to_vec(),
                b"stall!".to_vec(),
                b"panic!".to_vec(),
                b"fine".to_vec(),
            ],
            run: Box::new(|b: &[u8]| {
                match b {
                    b"abort!" => std::process::abort(),
                    b"stall!" => std::thread::sleep(std::time::Duration::from_secs(12)),
                    b"panic!" => panic!("selftest panic"),
                    _ => {}
                }
                Ok(())
            }),
        },
        _ => return Err(format!("unknown target {name:?} (see `avwm-fuzz list`)")),
    };
    if target.seeds.is_empty() {
        return Err(format!(
            "target {name}: no seeds in {}",
            paths.corpus.join(name).display()
        ));
    }
    Ok(target)
}
