//! Tokenizer training: resumable from its run folder with results identical to an uninterrupted
//! run, EMA weights, JSONL logs, NaN guard, and the latent scale factor measured at the end.
//!
//! Run folder:
//! ```text
//! run/
//!   config.json            the resolved TrainConfig (a resumed run must match it)
//!   log.jsonl              one line per logged step, one per validation
//!   ckpt/model.safetensors, ckpt/ema.safetensors, ckpt/optim.safetensors, ckpt/state.json
//!   tokenizer.safetensors  final EMA weights     } written when training ends
//!   tokenizer.json         TokenizerMeta         }
//!   summary.json           steps, time, final losses, scale factor
//! ```

use crate::codec::{CodecConfig, codec_loss};
use crate::data::FrameSet;
use crate::mdct::MdctConfig;
use crate::vae::{Vae, VaeConfig};
use crate::{Arch, Modality, Result, TokError, Tokenizer};
use avwm_core::Seed;
use avwm_nn::NnError;
use avwm_nn::ckpt;
use avwm_nn::ema::Ema;
use avwm_nn::optim::{AdamW, AdamWConfig};
use avwm_nn::resume::{load_training, save_training};
use avwm_nn::runlog::JsonlLog;
use avwm_nn::seed::torch_seed_derived;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// Training configuration (saved as `config.json` in the run folder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Architecture (its scale factor is overwritten at the end).
    pub arch: Arch,
    /// Run seed.
    pub seed: u64,
    /// Optimisation steps in total.
    pub steps: u64,
    /// Batch size.
    pub batch_size: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Linear warm-up steps.
    pub warmup: u64,
    /// Final learning rate as a fraction of the peak (cosine decay).
    pub final_lr_fraction: f64,
    /// EMA decay.
    pub ema_decay: f64,
    /// KL weight (visual only).
    pub kl_weight: f64,
    /// Gradient clipping (global L2 norm).
    pub grad_clip: f64,
    /// Log every this many steps.
    pub log_every: u64,
    /// Checkpoint (and validate) every this many steps.
    pub ckpt_every: u64,
    /// Use every `frame_stride`-th frame of the training split.
    pub frame_stride: usize,
    /// Validation frames (every-th frame of the val split, capped at this many).
    pub val_frames: usize,
    /// Visual only: train on random square crops of this side (px) instead of whole images
    /// (the network is convolutional; validation uses whole images). `None`: whole images.
    #[serde(default)]
    pub crop: Option<i64>,
}

impl TrainConfig {
    /// Defaults for `modality` at a preset (`tiny` or `small`).
    ///
    /// # Errors
    /// [`TokError::Config`] for an unknown preset.
    pub fn preset(modality: Modality, preset: &str) -> Result<TrainConfig> {
        let arch = match (modality, preset) {
            (Modality::Visual, "tiny") => Arch::Visual(VaeConfig::tiny()),
            (Modality::Visual, "small") => Arch::Visual(VaeConfig::small()),
            (Modality::Audio, "tiny") => Arch::Audio(CodecConfig::tiny()),
            (Modality::Audio, "small") => Arch::Audio(CodecConfig::small()),
            (Modality::Audio, "mdct") => Arch::AudioMdct(MdctConfig::small()),
            (Modality::Audio, "mdct-tiny") => Arch::AudioMdct(MdctConfig::tiny()),
            (m, p) => {
                let audio = if m == Modality::Audio {
                    ", mdct, mdct-tiny"
                } else {
                    ""
                };
                return Err(TokError::Config(format!(
                    "unknown preset `{p}` (tiny, small{audio})"
                )));
            }
        };
        let tiny = preset.ends_with("tiny");
        Ok(TrainConfig {
            arch: arch.clone(),
            seed: 0,
            // The spectral tokenizer is fitted, not optimised.
            steps: match (&arch, tiny) {
                (Arch::AudioMdct(_), _) => 0,
                (_, true) => 30,
                (_, false) => 8000,
            },
            batch_size: if tiny { 4 } else { 16 },
            lr: if tiny { 2e-3 } else { 5e-4 },
            warmup: if tiny { 5 } else { 200 },
            final_lr_fraction: 0.1,
            ema_decay: if tiny { 0.9 } else { 0.999 },
            kl_weight: 1e-6,
            grad_clip: 1.0,
            log_every: if tiny { 5 } else { 25 },
            ckpt_every: if tiny { 10 } else { 250 },
            frame_stride: 1,
            val_frames: if tiny { 8 } else { 64 },
            crop: match (modality, tiny) {
                (Modality::Visual, false) => Some(64),
                _ => None,
            },
        })
    }

    /// Learning rate at `step` (0-based): linear warm-up, then cosine to `final_lr_fraction`.
    pub fn lr_at(&self, step: u64) -> f64 {
        if step < self.warmup {
            return self.lr * (step + 1) as f64 / self.warmup as f64;
        }
        let span = self.steps.saturating_sub(self.warmup).max(1) as f64;
        let p = ((step - self.warmup) as f64 / span).min(1.0);
        let f = self.final_lr_fraction
            + (1.0 - self.final_lr_fraction) * 0.5 * (1.0 + (std::f64::consts::PI * p).cos());
        self.lr * f
    }
}

/// State beside the checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    step: u64,
    train_seconds: f64,
}

/// One logged record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepLog {
    /// Step count after this step.
    pub step: u64,
    /// Learning rate used.
    pub lr: f64,
    /// Total loss.
    pub loss: f64,
    /// Loss terms by name.
    pub terms: Vec<(String, f64)>,
    /// Gradient norm before clipping.
    pub grad_norm: f64,
    /// Seconds of training so far (across resumes).
    pub seconds: f64,
    /// Validation result (only on checkpoint steps): PSNR (dB) for visual, log-spectral distance for
    /// audio.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val: Option<f64>,
}

/// What [`train`] returns and writes as `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainSummary {
    /// Modality.
    pub modality: Modality,
    /// Steps done.
    pub steps: u64,
    /// Seconds of training (across resumes).
    pub train_seconds: f64,
    /// Training frames available.
    pub train_frames: usize,
    /// Trainable parameters.
    pub parameters: i64,
    /// Loss of the last logged step.
    pub final_loss: f64,
    /// Last validation value (PSNR dB for visual, log-spectral distance for audio).
    pub final_val: Option<f64>,
    /// Latent scale factor (1 / std of latents of training frames).
    pub scaling_factor: f64,
    /// Whether this call resumed an earlier run.
    pub resumed_from: u64,
}

fn loss_terms(tok: &Tokenizer, x: &Tensor, kl_weight: f64) -> (Tensor, Vec<(String, Tensor)>) {
    if let Some(vae) = tok.vae() {
        let (m, lv) = vae.encode(x);
        let z = Vae::sample(&m, &lv);
        let y = vae.decode(&z);
        let l1 = (&y - x).abs().mean(Kind::Float);
        let l2 = (&y - x).square().mean(Kind::Float);
        let kl = Vae::kl(&m, &lv);
        let total = &l1 + &l2 + &kl * kl_weight;
        (
            total,
            vec![("l1".into(), l1), ("l2".into(), l2), ("kl".into(), kl)],
        )
    } else {
        let codec = tok.codec().expect("a tokenizer is visual or audio");
        let z = codec.encode(x);
        // With the level channel the level passes through exactly, so the loss compares the
        // normalised waveforms (every segment weighs the same, loud or quiet).
        let l = if codec.config().level_channel {
            let g = crate::codec::level(x).exp().view([-1, 1, 1]);
            codec_loss(&codec.decode_normalised(&z), &(x / g))
        } else {
            codec_loss(&codec.decode(&z), x)
        };
        let total = l.total();
        (
            total,
            vec![
                ("wave_l1".into(), l.wave_l1),
                ("stft".into(), l.stft),
                ("interaural".into(), l.interaural),
                ("interaural_phase".into(), l.interaural_phase),
            ],
        )
    }
}

fn batch(set: &FrameSet, modality: Modality, idx: &[usize], device: Device) -> Tensor {
    match modality {
        Modality::Visual => set.image_batch(idx),
        Modality::Audio => set.audio_batch(idx),
    }
    .to_device(device)
}

/// Validation value of a model on `val`: mean PSNR (dB) for visual, mean log-spectral distance
/// (`avwm-metrics`, both ears) for audio.
fn validate(tok: &Tokenizer, val: &FrameSet, device: Device) -> f64 {
    let idx: Vec<usize> = (0..val.len()).collect();
    tch::no_grad(|| {
        let mut acc = 0.0;
        for chunk in idx.chunks(32) {
            let x = batch(val, tok.modality(), chunk, device);
            let y = tok.reconstruct(&x);
            acc += match tok.modality() {
                Modality::Visual => {
                    // PSNR on [0, 255]: images span 2 in [−1, 1].
                    let mse = (y.clamp(-1.0, 1.0) - &x).square().mean_dim(
                        [1i64, 2, 3].as_slice(),
                        false,
                        Kind::Float,
                    ) / 4.0;
                    (mse.clamp_min(1e-10).log10() * -10.0)
                        .sum(Kind::Float)
                        .double_value(&[])
                }
                Modality::Audio => {
                    let mut an = avwm_metrics::audio::AudioAnalyzer::default();
                    crate::data::tensor_to_audio(&y)
                        .iter()
                        .zip(chunk)
                        .map(|((l, r), &i)| {
                            let (tl, tr) = val.audio_samples(i);
                            an.binaural_lsd(tl, tr, l, r).unwrap_or(f64::NAN)
                        })
                        .sum::<f64>()
                }
            };
        }
        acc / idx.len().max(1) as f64
    })
}

/// Latent scale factor: 1 / std of the (mean) latents of up to 512 training frames.
fn measure_scale(tok: &Tokenizer, set: &FrameSet, device: Device) -> f64 {
    let n = set.len().min(512);
    let step = (set.len() / n.max(1)).max(1);
    let idx: Vec<usize> = (0..n).map(|i| i * step).collect();
    tch::no_grad(|| {
        let zs: Vec<Tensor> = idx
            .chunks(64)
            .map(|c| tok.encode(&batch(set, tok.modality(), c, device)).0)
            .collect();
        let z = Tensor::cat(&zs, 0);
        let std = z.std(true).double_value(&[]);
        if std > 0.0 { 1.0 / std } else { 1.0 }
    })
}

/// Writes `config.json` of a run, refusing a folder that holds another configuration (only
/// `steps` may change on resume).
fn write_run_config(cfg: &TrainConfig, run: &Path) -> Result<()> {
    let config_path = run.join("config.json");
    if config_path.is_file() {
        let old: TrainConfig = ckpt::read_json(&config_path)?;
        let same = TrainConfig {
            steps: cfg.steps,
            ..old.clone()
        } == *cfg;
        if !same {
            return Err(TokError::Config(format!(
                "{} holds another configuration; use a new run folder (only `steps` may change on resume)",
                config_path.display()
            )));
        }
    }
    Ok(ckpt::write_json(&config_path, cfg)?)
}

/// Training frames that the spectral tokenizer's statistics are measured on (evenly spaced).
pub const FIT_FRAMES: usize = 8192;

/// "Trains" the spectral tokenizer: its transform is fixed, only the mean and standard deviation
/// of each band's log level are measured, on up to [`FIT_FRAMES`] evenly spaced training frames.
/// Deterministic: a second call in the same folder writes the same tokenizer. Writes the same
/// run files as [`train`] (no checkpoints: there is nothing to resume).
fn fit(
    cfg: &TrainConfig,
    run: &Path,
    train_set: &FrameSet,
    val_set: &FrameSet,
    device: Device,
    on_log: &mut dyn FnMut(&StepLog),
) -> Result<(Tokenizer, TrainSummary)> {
    if train_set.is_empty() {
        return Err(TokError::NoTrainingFrames);
    }
    std::fs::create_dir_all(run).map_err(NnError::io(run))?;
    write_run_config(cfg, run)?;
    let t0 = Instant::now();
    let mut tok = Tokenizer::new(cfg.arch.clone(), device)?;
    let n = train_set.len().min(FIT_FRAMES);
    let idx: Vec<usize> = (0..n).map(|i| i * train_set.len() / n).collect();
    let x = batch(train_set, Modality::Audio, &idx, device);
    tok.mdct_mut()
        .expect("the arch is the spectral tokenizer")
        .fit(&x);
    let val = (!val_set.is_empty()).then(|| validate(&tok, val_set, device));
    let seconds = t0.elapsed().as_secs_f64();
    let last = StepLog {
        step: 0,
        lr: 0.0,
        loss: 0.0,
        terms: vec![],
        grad_norm: 0.0,
        seconds,
        val,
    };
    // One line: a re-run replaces the log.
    let log_path = run.join("log.jsonl");
    let line = serde_json::to_string(&last).map_err(|source| NnError::Json {
        path: log_path.clone(),
        source,
    })?;
    avwm_core::write_atomic(&log_path, format!("{line}\n").as_bytes())?;
    on_log(&last);
    tok.meta.provenance = serde_json::json!({
        "run": run.display().to_string(),
        "seed": cfg.seed,
        "train_frames": train_set.len(),
        "fit_frames": n,
    });
    tok.vs.freeze();
    tok.save(&run.join("tokenizer"))?;
    let summary = TrainSummary {
        modality: Modality::Audio,
        steps: 0,
        train_seconds: seconds,
        train_frames: train_set.len(),
        parameters: 0,
        final_loss: 0.0,
        final_val: val,
        scaling_factor: cfg.arch.scaling_factor(),
        resumed_from: 0,
    };
    ckpt::write_json(&run.join("summary.json"), &summary)?;
    Ok((tok, summary))
}

fn ckpt_dir(run: &Path) -> PathBuf {
    run.join("ckpt")
}

/// Trains (or resumes) a tokenizer in `run` on `train_set`, validating on `val_set`.
/// `on_log` is called for every logged step (progress bars live in the caller).
///
/// # Errors
/// A run folder whose `config.json` differs from `cfg` (other than `steps`), a corrupt checkpoint,
/// a non-finite loss ([`NnError::NonFinite`]; the last good checkpoint is kept), or I/O.
pub fn train(
    cfg: &TrainConfig,
    run: &Path,
    train_set: &FrameSet,
    val_set: &FrameSet,
    device: Device,
    on_log: &mut dyn FnMut(&StepLog),
) -> Result<(Tokenizer, TrainSummary)> {
    cfg.arch.validate()?;
    if matches!(cfg.arch, Arch::AudioMdct(_)) {
        return fit(cfg, run, train_set, val_set, device, on_log);
    }
    if cfg.batch_size == 0 || cfg.log_every == 0 || cfg.ckpt_every == 0 || cfg.steps == 0 {
        return Err(TokError::Config(
            "steps, batch_size, log_every and ckpt_every must be positive".into(),
        ));
    }
    if train_set.is_empty() {
        return Err(TokError::NoTrainingFrames);
    }
    std::fs::create_dir_all(ckpt_dir(run)).map_err(NnError::io(run))?;
    write_run_config(cfg, run)?;
    let seed = Seed(cfg.seed);
    let modality = cfg.arch.modality();
    torch_seed_derived(seed, "init", 0);
    let mut tok = Tokenizer::new(cfg.arch.clone(), device)?;
    let adam = AdamWConfig::default();
    let mut opt = AdamW::new(&tok.vs, adam, |_| true);
    let mut ema = Ema::new(&tok.vs, cfg.ema_decay);
    let mut state = State {
        step: 0,
        train_seconds: 0.0,
    };
    if let Some(saved) = load_training::<State>(&ckpt_dir(run), &mut tok.vs, &mut ema, &mut opt)? {
        state = saved;
    }
    // The log keeps the steps up to the checkpoint (none when starting afresh, e.g. after a kill
    // before the first checkpoint).
    JsonlLog::truncate_after(&run.join("log.jsonl"), state.step)?;
    let resumed_from = state.step;
    let mut log = JsonlLog::append(&run.join("log.jsonl"))?;
    let mut last = StepLog {
        step: state.step,
        lr: 0.0,
        loss: f64::NAN,
        terms: vec![],
        grad_norm: 0.0,
        seconds: state.train_seconds,
        val: None,
    };
    // A resumed run reports the loss and validation of its last logged steps, as an
    // uninterrupted one does (the log holds exactly the steps up to the checkpoint).
    let logged: Vec<StepLog> = JsonlLog::records(&run.join("log.jsonl"))?;
    if let Some(l) = logged.last() {
        last = l.clone();
    }
    let mut last_val = logged.iter().rev().find_map(|l| l.val);
    let t0 = Instant::now();
    let base_seconds = state.train_seconds;
    while state.step < cfg.steps {
        let step = state.step;
        let mut rng = seed.derive("batch", step).rng();
        let idx: Vec<usize> = (0..cfg.batch_size)
            .map(|_| rng.random_range(0..train_set.len()))
            .collect();
        let mut x = batch(train_set, modality, &idx, device);
        if let (Modality::Visual, Some(c)) = (modality, cfg.crop) {
            let (h, w) = (train_set.height, train_set.width);
            if c < h && c < w {
                let crops: Vec<Tensor> = (0..cfg.batch_size as i64)
                    .map(|i| {
                        let y0 = rng.random_range(0..=h - c);
                        let x0 = rng.random_range(0..=w - c);
                        x.narrow(0, i, 1).narrow(2, y0, c).narrow(3, x0, c)
                    })
                    .collect();
                x = Tensor::cat(&crops, 0);
            }
        }
        torch_seed_derived(seed, "noise", step);
        let (loss, terms) = loss_terms(&tok, &x, cfg.kl_weight);
        let lr = cfg.lr_at(step);
        let (lv, grad_norm) = opt.minimize(&loss, step, cfg.grad_clip, lr)?;
        ema.update(&tok.vs);
        state.step += 1;
        state.train_seconds = base_seconds + t0.elapsed().as_secs_f64();
        let is_ckpt = state.step.is_multiple_of(cfg.ckpt_every) || state.step == cfg.steps;
        if state.step.is_multiple_of(cfg.log_every) || is_ckpt {
            last = StepLog {
                step: state.step,
                lr,
                loss: lv,
                terms: terms
                    .iter()
                    .map(|(n, t)| (n.clone(), t.double_value(&[])))
                    .collect(),
                grad_norm,
                seconds: state.train_seconds,
                val: None,
            };
            if is_ckpt {
                // Validate the EMA weights, then checkpoint.
                let mut probe = Tokenizer::new(cfg.arch.clone(), device)?;
                ema.copy_to(&mut probe.vs)?;
                if !val_set.is_empty() {
                    last.val = Some(validate(&probe, val_set, device));
                    last_val = last.val;
                }
            }
            // The log line before the checkpoint: a kill between the two resumes from the
            // previous checkpoint and drops this line, so the log never misses a step.
            log.write(&last)?;
            if is_ckpt {
                save_training(&ckpt_dir(run), &tok.vs, &ema, &opt, &state)?;
            }
            on_log(&last);
        }
    }
    // Final tokenizer: EMA weights + measured scale factor.
    let mut arch = cfg.arch.clone();
    let mut final_tok = Tokenizer::new(arch.clone(), device)?;
    ema.copy_to(&mut final_tok.vs)?;
    let scale = measure_scale(&final_tok, train_set, device);
    arch.set_scaling_factor(scale);
    final_tok.meta.arch = arch;
    final_tok.meta.steps = state.step;
    final_tok.meta.provenance = serde_json::json!({
        "run": run.display().to_string(),
        "seed": cfg.seed,
        "train_frames": train_set.len(),
    });
    final_tok.vs.freeze();
    final_tok.save(&run.join("tokenizer"))?;
    let summary = TrainSummary {
        modality,
        steps: state.step,
        train_seconds: state.train_seconds,
        train_frames: train_set.len(),
        parameters: opt.trainable_numel(),
        final_loss: last.loss,
        final_val: last_val.or(last.val),
        scaling_factor: scale,
        resumed_from,
    };
    ckpt::write_json(&run.join("summary.json"), &summary)?;
    Ok((final_tok, summary))
}
