//! The latent cache: every frame of a dataset encoded once by the frozen tokenizers, so that
//! world-model training reads latents instead of decoding PNG and WAV again.
//!
//! Layout of a cache folder:
//! ```text
//! cache/
//!   cache.json               CacheMeta: tokenizers (path, sha256, architecture, scale factors),
//!                            dataset, frames per split
//!   train.safetensors        one file per split, rows in dataset order (episode, then step):
//!   validation.safetensors     episode_id  i64 [N]        step          i64 [N]
//!   test.safetensors           action      i64 [N] (−1 at step 0)     pose f32 [N, 3] (x, y, yaw)
//!                              reward      f32 [N]        geodesic_m    f32 [N]
//!                              distance_reduction_m f32 [N]
//!                              visual_mean f32 [N, 4, H/8, W/8]  visual_logvar f32 [same]
//!                              audio       f32 [N, D, T/hop]
//! ```
//! Latents are stored **unscaled**: multiply by the scale factor in `cache.json` before diffusion.
//! Visual latents are the posterior's mean and log-variance, so a trainer may use the mean or
//! draw `mean + exp(logvar / 2)·ε`; the audio latent is deterministic.
//!
//! Splits are written one at a time, atomically; re-running the command skips splits already
//! written with the same tokenizers (resume).

use crate::{Modality, Result, TokError, Tokenizer, TokenizerMeta};
use avwm_data::{Dataset, Filter, Split};
use avwm_nn::{NnError, ckpt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tch::{Kind, Tensor};

/// Format tag of `cache.json`.
pub const CACHE_FORMAT: &str = "avwm-latents";
/// Version of the cache layout.
pub const CACHE_VERSION: u32 = 1;

/// A tokenizer as recorded in the cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenizerRef {
    /// Weights file.
    pub path: String,
    /// SHA-256 of the weights file.
    pub sha256: String,
    /// Its metadata (architecture with scale factor).
    pub meta: TokenizerMeta,
}

/// One split in the cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheSplit {
    /// File name in the cache folder.
    pub file: String,
    /// Frames.
    pub frames: usize,
    /// Episodes.
    pub episodes: usize,
}

/// `cache.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheMeta {
    /// Always [`CACHE_FORMAT`].
    pub format: String,
    /// [`CACHE_VERSION`].
    pub version: u32,
    /// Dataset folder encoded.
    pub dataset: String,
    /// Visual tokenizer.
    pub visual: TokenizerRef,
    /// Audio tokenizer.
    pub audio: TokenizerRef,
    /// Visual latent scale factor (copied from the tokenizer).
    pub visual_scale: f64,
    /// Audio latent scale factor (copied from the tokenizer).
    pub audio_scale: f64,
    /// Splits written so far, by name.
    pub splits: BTreeMap<String, CacheSplit>,
}

/// Name of the cache's JSON file.
pub const CACHE_FILE: &str = "cache.json";

/// SHA-256 of a file, hex.
///
/// # Errors
/// I/O.
pub fn sha256_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(NnError::io(path))?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn tokenizer_ref(path: &Path, tok: &Tokenizer) -> Result<TokenizerRef> {
    let (weights, _) = Tokenizer::files(path);
    Ok(TokenizerRef {
        path: weights.display().to_string(),
        sha256: sha256_file(&weights)?,
        meta: tok.meta.clone(),
    })
}

/// Encodes every split of `ds` into `out`, resuming splits already written with the same
/// tokenizers. `on_frames(done, total)` reports progress over all frames.
///
/// # Errors
/// A tokenizer of the wrong modality, a cache folder written by other tokenizers, dataset or I/O
/// errors.
#[allow(clippy::too_many_arguments)]
pub fn encode_dataset(
    ds: &Dataset,
    visual_path: &Path,
    visual: &Tokenizer,
    audio_path: &Path,
    audio: &Tokenizer,
    out: &Path,
    batch: usize,
    on_frames: &mut dyn FnMut(usize, usize),
) -> Result<CacheMeta> {
    if visual.modality() != Modality::Visual || audio.modality() != Modality::Audio {
        return Err(TokError::Config(
            "--visual must be a visual tokenizer and --audio an audio tokenizer".into(),
        ));
    }
    std::fs::create_dir_all(out).map_err(NnError::io(out))?;
    let mut meta = CacheMeta {
        format: CACHE_FORMAT.into(),
        version: CACHE_VERSION,
        dataset: ds.dir().display().to_string(),
        visual: tokenizer_ref(visual_path, visual)?,
        audio: tokenizer_ref(audio_path, audio)?,
        visual_scale: visual.meta.arch.scaling_factor(),
        audio_scale: audio.meta.arch.scaling_factor(),
        splits: BTreeMap::new(),
    };
    let meta_path = out.join(CACHE_FILE);
    if meta_path.is_file() {
        let old: CacheMeta = ckpt::read_json(&meta_path)?;
        if old.visual.sha256 != meta.visual.sha256 || old.audio.sha256 != meta.audio.sha256 {
            return Err(TokError::Config(format!(
                "{} was written with other tokenizers; use a new cache folder",
                meta_path.display()
            )));
        }
        meta.splits = old
            .splits
            .into_iter()
            .filter(|(_, s)| out.join(&s.file).is_file())
            .collect();
    }
    let splits = [Split::Train, Split::Validation, Split::Test];
    let total: usize = ds.episodes().iter().map(|e| e.entry.frames).sum();
    let mut done: usize = ds
        .episodes()
        .iter()
        .filter(|e| meta.splits.contains_key(e.split.name()))
        .map(|e| e.entry.frames)
        .sum();
    for split in splits {
        if meta.splits.contains_key(split.name()) {
            continue;
        }
        let filter = Filter::split(split);
        let episodes: Vec<u64> = ds
            .episodes()
            .iter()
            .filter(|e| filter.accepts(e))
            .map(|e| e.entry.episode_id)
            .collect();
        let mut cols = Columns::default();
        for &id in &episodes {
            let frames = ds.episode_frames(id)?;
            for chunk in frames.chunks(batch.max(1)) {
                let (w, h) = (chunk[0].rgb.width as i64, chunk[0].rgb.height as i64);
                let bytes: Vec<u8> = chunk.iter().flat_map(|f| f.rgb.data.clone()).collect();
                let x = crate::data::images_to_tensor(&bytes, chunk.len() as i64, h, w)
                    .to_device(visual.vs.device());
                let t = chunk[0].audio.left.len() as i64;
                let a: Vec<f32> = chunk
                    .iter()
                    .flat_map(|f| f.audio.left.iter().chain(&f.audio.right).copied())
                    .collect();
                let a = Tensor::from_slice(&a)
                    .view([chunk.len() as i64, 2, t])
                    .to_device(audio.vs.device());
                let (vm, vl, az) = tch::no_grad(|| {
                    let (m, lv) = visual.encode(&x);
                    (
                        m,
                        lv.expect("the visual tokenizer has a log-variance"),
                        audio.encode(&a).0,
                    )
                });
                cols.visual_mean.push(vm.to_device(tch::Device::Cpu));
                cols.visual_logvar.push(vl.to_device(tch::Device::Cpu));
                cols.audio.push(az.to_device(tch::Device::Cpu));
                for f in chunk {
                    cols.episode.push(f.episode_id as i64);
                    cols.step.push(f.step as i64);
                    cols.action.push(f.action.map_or(-1, |a| i64::from(a.id())));
                    cols.pose.extend([f.pose.x, f.pose.y, f.pose.yaw]);
                    cols.reward.push(f.reward);
                    cols.geodesic.push(f.geodesic_m);
                    cols.reduction.push(f.distance_reduction_m);
                }
                done += chunk.len();
                on_frames(done, total);
            }
        }
        if cols.episode.is_empty() {
            continue;
        }
        let file = format!("{}.safetensors", split.name());
        let n = cols.episode.len();
        cols.write(&out.join(&file))?;
        meta.splits.insert(
            split.name().to_string(),
            CacheSplit {
                file,
                frames: n,
                episodes: episodes.len(),
            },
        );
        ckpt::write_json(&meta_path, &meta)?;
    }
    ckpt::write_json(&meta_path, &meta)?;
    Ok(meta)
}

#[derive(Default)]
struct Columns {
    episode: Vec<i64>,
    step: Vec<i64>,
    action: Vec<i64>,
    pose: Vec<f32>,
    reward: Vec<f32>,
    geodesic: Vec<f32>,
    reduction: Vec<f32>,
    visual_mean: Vec<Tensor>,
    visual_logvar: Vec<Tensor>,
    audio: Vec<Tensor>,
}

impl Columns {
    fn write(&self, path: &Path) -> Result<()> {
        let n = self.episode.len() as i64;
        let tensors = vec![
            ("episode_id".to_string(), Tensor::from_slice(&self.episode)),
            ("step".to_string(), Tensor::from_slice(&self.step)),
            ("action".to_string(), Tensor::from_slice(&self.action)),
            (
                "pose".to_string(),
                Tensor::from_slice(&self.pose).view([n, 3]),
            ),
            ("reward".to_string(), Tensor::from_slice(&self.reward)),
            ("geodesic_m".to_string(), Tensor::from_slice(&self.geodesic)),
            (
                "distance_reduction_m".to_string(),
                Tensor::from_slice(&self.reduction),
            ),
            ("visual_mean".to_string(), Tensor::cat(&self.visual_mean, 0)),
            (
                "visual_logvar".to_string(),
                Tensor::cat(&self.visual_logvar, 0),
            ),
            (
                "audio".to_string(),
                Tensor::cat(&self.audio, 0).to_kind(Kind::Float),
            ),
        ];
        ckpt::save_tensors(path, &tensors)?;
        Ok(())
    }
}

/// An opened cache split: all columns in memory.
pub struct CacheSplitData {
    /// Tensors by name (see the module docs).
    pub tensors: BTreeMap<String, Tensor>,
}

/// Reads `cache.json` of a latent cache and checks its format and version.
///
/// # Errors
/// The folder holds no `cache.json` (it is not a latent cache), or a broken or foreign one.
pub fn read_meta(dir: &Path) -> Result<CacheMeta> {
    let meta_path: PathBuf = dir.join(CACHE_FILE);
    if !meta_path.is_file() {
        return Err(TokError::Config(format!(
            "{} is not a latent cache: it has no {CACHE_FILE} (run `avwm tokenizer encode`)",
            dir.display()
        )));
    }
    let meta: CacheMeta = ckpt::read_json(&meta_path)?;
    if meta.format != CACHE_FORMAT || meta.version != CACHE_VERSION {
        return Err(TokError::Config(format!(
            "{}: not an {CACHE_FORMAT} v{CACHE_VERSION} cache",
            meta_path.display()
        )));
    }
    Ok(meta)
}

/// Reads `cache.json` and one split of a cache.
///
/// # Errors
/// A missing or foreign cache, a split that was not written, a corrupt file or missing column.
pub fn open_split(dir: &Path, split: Split) -> Result<(CacheMeta, CacheSplitData)> {
    let meta_path: PathBuf = dir.join(CACHE_FILE);
    let meta = read_meta(dir)?;
    let entry = meta.splits.get(split.name()).ok_or_else(|| {
        TokError::Config(format!(
            "{}: split `{}` is not in the cache",
            meta_path.display(),
            split.name()
        ))
    })?;
    let path = dir.join(&entry.file);
    let tensors = ckpt::load_tensors(&path)?;
    for col in [
        "episode_id",
        "step",
        "action",
        "pose",
        "reward",
        "geodesic_m",
        "distance_reduction_m",
        "visual_mean",
        "visual_logvar",
        "audio",
    ] {
        match tensors.get(col) {
            Some(t) if t.size().first().copied() == Some(entry.frames as i64) => {}
            _ => {
                return Err(TokError::Config(format!(
                    "{}: column `{col}` is missing or does not have {} rows",
                    path.display(),
                    entry.frames
                )));
            }
        }
    }
    Ok((meta, CacheSplitData { tensors }))
}
