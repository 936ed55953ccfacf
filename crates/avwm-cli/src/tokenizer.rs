//! `avwm tokenizer …`: train, evaluate and apply the frozen visual and audio tokenizers.

use crate::common::{progress, write_json};
use anyhow::{Context, Result};
use avwm_data::{Dataset, Split};
use avwm_tokenizer::cache::encode_dataset;
use avwm_tokenizer::data::FrameSet;
use avwm_tokenizer::eval::evaluate;
use avwm_tokenizer::train::{TrainConfig, train};
use avwm_tokenizer::vae::{VaeConfig, load_diffusers};
use avwm_tokenizer::{Arch, Modality, Tokenizer};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum TokenizerCmd {
    /// Train a tokenizer (resumable: re-run the same command in the same run folder).
    Train {
        /// visual or audio.
        #[arg(long)]
        modality: Modality,
        /// Dataset folder (`avwm data generate`).
        #[arg(long)]
        data: PathBuf,
        /// Run folder (config, logs, checkpoints, the final tokenizer).
        #[arg(long)]
        run: PathBuf,
        /// Architecture and schedule preset: tiny (tests) or small (CPU default); for audio also
        /// mdct (the spectral tokenizer: a lossless lapped transform whose band statistics are
        /// fitted, not trained) and mdct-tiny.
        #[arg(long, default_value = "small")]
        preset: String,
        /// Optimisation steps (overrides the preset; may be raised on resume).
        #[arg(long)]
        steps: Option<u64>,
        /// Batch size (overrides the preset).
        #[arg(long)]
        batch_size: Option<usize>,
        /// Run seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Use every n-th training frame.
        #[arg(long)]
        frame_stride: Option<usize>,
        /// libtorch threads (default: all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
    /// Reconstruction quality on a split (default: test, scenes never seen in training): PSNR and
    /// SSIM (visual); LSD, spectrogram SSIM, ILD, ITD and direction errors (audio).
    Eval {
        /// Tokenizer (`x`, `x.safetensors` or `x.json`).
        #[arg(long)]
        tokenizer: PathBuf,
        /// Dataset folder.
        #[arg(long)]
        data: PathBuf,
        /// Split: train, validation or test.
        #[arg(long, default_value = "test")]
        split: String,
        /// Use every n-th frame.
        #[arg(long, default_value_t = 1)]
        every: usize,
        /// Batch size.
        #[arg(long, default_value_t = 32)]
        batch: usize,
        /// Write the report (JSON) here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// libtorch threads (default: all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
    /// Encode a whole dataset into a latent cache for world-model training (resumable).
    Encode {
        /// Dataset folder.
        #[arg(long)]
        data: PathBuf,
        /// Visual tokenizer.
        #[arg(long, default_value = "models/tokenizer-visual")]
        visual: PathBuf,
        /// Audio tokenizer (`models/tokenizer-audio-mdct`, the spectral codec of avwm's design;
        /// `models/tokenizer-audio` for the paper's AV-CDiT).
        #[arg(long, default_value = "models/tokenizer-audio-mdct")]
        audio: PathBuf,
        /// Cache folder.
        #[arg(long)]
        out: PathBuf,
        /// Frames per batch.
        #[arg(long, default_value_t = 64)]
        batch: usize,
        /// libtorch threads (default: all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
    /// Import Stable Diffusion's VAE (`sd-vae-ft-ema`, diffusers `.safetensors`) as a visual
    /// tokenizer that `eval` and `encode` accept.
    ImportSd {
        /// The diffusers `diffusion_pytorch_model.safetensors` of the VAE.
        #[arg(long)]
        weights: PathBuf,
        /// Output tokenizer path (writes `<out>.safetensors` and `<out>.json`).
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(cmd: TokenizerCmd) -> Result<()> {
    match cmd {
        TokenizerCmd::Train {
            modality,
            data,
            run,
            preset,
            steps,
            batch_size,
            seed,
            frame_stride,
            threads,
        } => {
            avwm_nn::seed::set_threads(threads);
            let mut cfg = TrainConfig::preset(modality, &preset)?;
            cfg.seed = seed;
            if let Some(s) = steps {
                cfg.steps = s;
            }
            if let Some(b) = batch_size {
                cfg.batch_size = b;
            }
            if let Some(f) = frame_stride {
                cfg.frame_stride = f;
            }
            let ds = Dataset::open(&data).with_context(|| format!("opening {}", data.display()))?;
            eprintln!("loading frames of {} …", data.display());
            let train_set = FrameSet::load(&ds, Split::Train, cfg.frame_stride)?;
            let mut val_set = FrameSet::load(&ds, Split::Validation, 1)?;
            let every = (val_set.len() / cfg.val_frames.max(1)).max(1);
            val_set = FrameSet::load(&ds, Split::Validation, every)?;
            eprintln!(
                "{} training frames, {} validation frames",
                train_set.len(),
                val_set.len()
            );
            let device = avwm_nn::default_device();
            let pb = progress(cfg.steps, "training");
            let (tok, mut summary) = train(&cfg, &run, &train_set, &val_set, device, &mut |l| {
                pb.set_position(l.step);
                let val = l.val.map(|v| format!(" val {v:.3}")).unwrap_or_default();
                pb.set_message(format!("loss {:.4}{val}", l.loss));
            })?;
            pb.finish();
            // Record where the data came from beside the tokenizer.
            let mut tok = tok;
            tok.meta.provenance = serde_json::json!({
                "run": run.display().to_string(),
                "data": data.display().to_string(),
                "data_seed": ds.info().generator.pointer("/config/seed").cloned().unwrap_or(serde_json::Value::Null),
                "seed": seed,
                "preset": preset,
                "train_frames": train_set.len(),
            });
            tok.save(&run.join("tokenizer"))?;
            summary.final_val = summary.final_val.filter(|v| v.is_finite());
            write_json(&run.join("summary.json"), &summary)?;
            println!("{}", serde_json::to_string_pretty(&summary)?);
            Ok(())
        }
        TokenizerCmd::Eval {
            tokenizer,
            data,
            split,
            every,
            batch,
            out,
            threads,
        } => {
            avwm_nn::seed::set_threads(threads);
            let split = Split::parse(&split)
                .with_context(|| format!("unknown split `{split}` (train, validation, test)"))?;
            let tok = Tokenizer::load(&tokenizer, avwm_nn::default_device())
                .with_context(|| format!("loading tokenizer {}", tokenizer.display()))?;
            let ds = Dataset::open(&data).with_context(|| format!("opening {}", data.display()))?;
            let set = FrameSet::load(&ds, split, every)?;
            let pb = progress(set.len() as u64, "evaluating");
            let t0 = std::time::Instant::now();
            let quality = evaluate(&tok, &set, batch, &mut |n| pb.set_position(n as u64))?;
            pb.finish_and_clear();
            let report = serde_json::json!({
                "tokenizer": tokenizer.display().to_string(),
                "data": data.display().to_string(),
                "split": split.name(),
                "every": every,
                "seconds": t0.elapsed().as_secs_f64(),
                "quality": quality,
            });
            if let Some(out) = &out {
                write_json(out, &report)?;
            }
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        TokenizerCmd::Encode {
            data,
            visual,
            audio,
            out,
            batch,
            threads,
        } => {
            avwm_nn::seed::set_threads(threads);
            let device = avwm_nn::default_device();
            let v = Tokenizer::load(&visual, device)
                .with_context(|| format!("loading visual tokenizer {}", visual.display()))?;
            let a = Tokenizer::load(&audio, device)
                .with_context(|| format!("loading audio tokenizer {}", audio.display()))?;
            let ds = Dataset::open(&data).with_context(|| format!("opening {}", data.display()))?;
            let pb = progress(0, "encoding");
            let t0 = std::time::Instant::now();
            let meta = encode_dataset(&ds, &visual, &v, &audio, &a, &out, batch, &mut |d, t| {
                pb.set_length(t as u64);
                pb.set_position(d as u64);
            })?;
            pb.finish_and_clear();
            let frames: usize = meta.splits.values().map(|s| s.frames).sum();
            let summary = serde_json::json!({
                "cache": out.display().to_string(),
                "frames": frames,
                "seconds": t0.elapsed().as_secs_f64(),
                "splits": meta.splits,
            });
            write_json(&out.join("summary.json"), &summary)?;
            println!("{}", serde_json::to_string_pretty(&summary)?);
            Ok(())
        }
        TokenizerCmd::ImportSd { weights, out } => {
            let mut tok = Tokenizer::new(Arch::Visual(VaeConfig::sd()), tch::Device::Cpu)?;
            load_diffusers(&mut tok.vs, &weights)
                .with_context(|| format!("importing {}", weights.display()))?;
            tok.meta.provenance = serde_json::json!({
                "imported_from": weights.display().to_string(),
                "sha256": avwm_tokenizer::cache::sha256_file(&weights)?,
            });
            tok.save(&out)?;
            println!("wrote {}", Tokenizer::files(&out).0.display());
            Ok(())
        }
    }
}
