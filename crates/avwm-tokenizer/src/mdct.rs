//! The spectral audio tokenizer: a lapped transform with band energies and normalised band
//! shapes, as perceptual codecs carry them (Opus' CELT layer: energy per band, then the unit-norm
//! shape of the band), without quantisation.
//!
//! Each ear's 0.15 s segment (2400 samples) goes through a **circular MDCT** with a sine window of
//! `2·hop` samples and hop `hop` = 160: frame `k` reads samples `k·hop … k·hop + 2·hop − 1`
//! (indices modulo the segment), so 2400 samples give exactly 15 frames of 160 coefficients
//! (critically sampled, one frame per 10 ms as the SoundStream codec's latent). With the sine
//! window and the scale √(2/hop) the transform is orthogonal (time-domain aliasing cancels between
//! neighbouring frames, the last frame with the first), so decoding the coefficients gives the
//! segment back to float precision: the tokenizer itself adds no error, and interaural time and
//! level differences pass through exactly.
//!
//! The coefficients of each frame and ear are grouped into bands (`band_edges`, 50 Hz per bin at
//! hop 160). A latent frame holds, per band and ear, the standardised log RMS of the band,
//! `(ln √(mean c² + ε²) − μ_b) / σ_b` (μ_b and σ_b measured on the training split, stored as the
//! tokenizer's two weight tensors), and, per coefficient, the coefficient divided by its band's
//! RMS (unit mean square per band). The decoder rescales each band's shape to unit mean square
//! before applying the band's level, so whatever a world model predicts for the shape, the band
//! carries exactly the predicted energy: errors of the fine structure never leak into another
//! band, and a spectral distance sees the predicted envelope.
//!
//! Latent `[B, 2·bands + 2·hop, frames]`: channels `0..bands` left levels, `bands..2·bands` right
//! levels, then the left shape (`hop` values) and the right shape.

use serde::{Deserialize, Serialize};
use tch::nn;
use tch::{Kind, Tensor};

/// Floor of a band's RMS (≈ −160 dBFS), so that silent bands have a finite log level.
pub const BAND_RMS_FLOOR: f64 = 1e-8;

/// Architecture of the spectral tokenizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MdctConfig {
    /// Audio channels (2: left, right).
    pub channels: i64,
    /// Segment length in samples (a multiple of `hop`, at least two hops).
    pub segment: i64,
    /// Frame hop = coefficients per frame (window `2·hop`).
    pub hop: i64,
    /// Band edges in coefficient indices: strictly increasing, from 0 to `hop`.
    pub band_edges: Vec<i64>,
    /// Latent scale factor (1: the latent is standardised by construction).
    pub scaling_factor: f64,
}

impl MdctConfig {
    /// The CPU default: hop 160 (10 ms, 15 frames per 0.15 s) and 20 bands, 2 bins (100 Hz)
    /// wide below 1 kHz, growing to 32 bins (1.6 kHz) at the top: 40 level channels and 320
    /// shape channels per frame.
    pub fn small() -> MdctConfig {
        MdctConfig {
            channels: 2,
            segment: 2400,
            hop: 160,
            band_edges: vec![
                0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 24, 28, 32, 40, 48, 64, 80, 96, 128, 160,
            ],
            scaling_factor: 1.0,
        }
    }

    /// Seconds-scale variant for tests (same transform, fewer bands).
    pub fn tiny() -> MdctConfig {
        MdctConfig {
            band_edges: vec![0, 8, 16, 32, 64, 160],
            ..MdctConfig::small()
        }
    }

    /// Number of bands.
    pub fn bands(&self) -> i64 {
        self.band_edges.len() as i64 - 1
    }

    /// Latent channels: a level per band and ear, and a shape value per coefficient and ear.
    pub fn latent_channels(&self) -> i64 {
        self.channels * (self.bands() + self.hop)
    }

    /// Latent frames per segment.
    pub fn frames(&self) -> i64 {
        self.segment / self.hop.max(1)
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// A message naming the bad field.
    pub fn validate(&self) -> Result<(), String> {
        if self.channels <= 0 || self.hop <= 0 {
            return Err("channels and hop must be positive".into());
        }
        // The transform matrices are `2·hop × hop` and the frame index `2·segment` long: sizes
        // from a JSON file must not reach allocations that cannot succeed.
        if self.hop > MAX_HOP || self.segment > MAX_SEGMENT || self.channels > MAX_CHANNELS {
            return Err(format!(
                "sizes out of range: hop {} (at most {MAX_HOP}), segment {} (at most \
                 {MAX_SEGMENT} samples), channels {} (at most {MAX_CHANNELS})",
                self.hop, self.segment, self.channels
            ));
        }
        if self.segment / 2 < self.hop || self.segment % self.hop != 0 {
            return Err(format!(
                "segment {} is not a multiple of the hop {} of at least two frames",
                self.segment, self.hop
            ));
        }
        let e = &self.band_edges;
        if e.len() < 2
            || e[0] != 0
            || e[e.len() - 1] != self.hop
            || e.windows(2).any(|w| w[1] <= w[0])
        {
            return Err(format!(
                "band_edges must rise strictly from 0 to the hop {}, got {e:?}",
                self.hop
            ));
        }
        Ok(())
    }

    /// The number of parameters of the tokenizer (its two fitted statistics, one value per band
    /// each), computed without building it. Call on a valid configuration.
    pub fn min_parameters(&self) -> u128 {
        2 * (self.band_edges.len().saturating_sub(1)) as u128
    }
}

/// Longest hop (coefficients per frame) a configuration may have.
const MAX_HOP: i64 = 1 << 13;
/// Longest segment (samples): 2²² is over four minutes at 16 kHz.
const MAX_SEGMENT: i64 = 1 << 22;
/// Most audio channels.
const MAX_CHANNELS: i64 = 64;

/// The spectral tokenizer: fixed transform matrices and the two fitted statistics.
#[derive(Debug)]
pub struct Mdct {
    cfg: MdctConfig,
    /// `[2·hop, hop]`: windowed, scaled MDCT basis.
    basis: Tensor,
    /// `[frames·2·hop]`: sample index read by each frame position (circular).
    index: Tensor,
    /// `[hop, bands]`: one-hot band membership of each coefficient.
    member: Tensor,
    /// `[bands]`: coefficients per band.
    width: Tensor,
    /// `[bands]`: mean of the log band RMS (fitted).
    pub band_mean: Tensor,
    /// `[bands]`: standard deviation of the log band RMS (fitted).
    pub band_std: Tensor,
}

impl Mdct {
    /// Builds the transform under `p` (two variables, `band_mean` = 0 and `band_std` = 1 until
    /// fitted or loaded). The configuration must be valid ([`MdctConfig::validate`]).
    pub fn new(p: &nn::Path, cfg: &MdctConfig) -> Mdct {
        let dev = p.device();
        let (n, f, t) = (cfg.hop, cfg.frames(), cfg.segment);
        let nb = cfg.bands();
        let scale = (2.0 / n as f64).sqrt();
        let mut basis = vec![0f32; (2 * n * n) as usize];
        for m in 0..2 * n {
            let w = (std::f64::consts::PI * (m as f64 + 0.5) / (2 * n) as f64).sin();
            for j in 0..n {
                let arg = std::f64::consts::PI / n as f64
                    * (m as f64 + 0.5 + n as f64 / 2.0)
                    * (j as f64 + 0.5);
                basis[(m * n + j) as usize] = (scale * w * arg.cos()) as f32;
            }
        }
        let index: Vec<i64> = (0..f)
            .flat_map(|k| (0..2 * n).map(move |m| (k * n + m) % t))
            .collect();
        let mut member = vec![0f32; (n * nb) as usize];
        let mut width = vec![0f32; nb as usize];
        for b in 0..nb as usize {
            for j in cfg.band_edges[b]..cfg.band_edges[b + 1] {
                member[j as usize * nb as usize + b] = 1.0;
            }
            width[b] = (cfg.band_edges[b + 1] - cfg.band_edges[b]) as f32;
        }
        let mut band_mean = p.var("band_mean", &[nb], nn::Init::Const(0.0));
        let mut band_std = p.var("band_std", &[nb], nn::Init::Const(1.0));
        let _ = band_mean.requires_grad_(false);
        let _ = band_std.requires_grad_(false);
        Mdct {
            cfg: cfg.clone(),
            basis: Tensor::from_slice(&basis).view([2 * n, n]).to_device(dev),
            index: Tensor::from_slice(&index).to_device(dev),
            member: Tensor::from_slice(&member).view([n, nb]).to_device(dev),
            width: Tensor::from_slice(&width).to_device(dev),
            band_mean,
            band_std,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &MdctConfig {
        &self.cfg
    }

    /// MDCT coefficients of `[B, C, T]` audio: `[B, C, frames, hop]`.
    pub fn analyse(&self, x: &Tensor) -> Tensor {
        let (b, c, _) = x.size3().expect("audio is [B, C, T]");
        let (n, f) = (self.cfg.hop, self.cfg.frames());
        x.index_select(2, &self.index)
            .view([b, c, f, 2 * n])
            .matmul(&self.basis)
    }

    /// Audio `[B, C, T]` from MDCT coefficients `[B, C, frames, hop]` (windowed overlap-add).
    pub fn synthesise(&self, coef: &Tensor) -> Tensor {
        let (b, c, f, n) = coef.size4().expect("coefficients are [B, C, F, hop]");
        let frames = coef.matmul(&self.basis.tr()).view([b, c, f * 2 * n]);
        Tensor::zeros([b, c, self.cfg.segment], (coef.kind(), coef.device())).index_add(
            2,
            &self.index,
            &frames,
        )
    }

    /// Natural log of the RMS of every band: `[B, C, frames, bands]`.
    pub fn log_band_rms(&self, coef: &Tensor) -> Tensor {
        (coef.square().matmul(&self.member) / &self.width + BAND_RMS_FLOOR * BAND_RMS_FLOOR)
            .sqrt()
            .log()
    }

    /// Encodes `[B, C, T]` to the latent `[B, C·(bands + hop), frames]` (unscaled).
    pub fn encode(&self, x: &Tensor) -> Tensor {
        let (b, c, _) = x.size3().expect("audio is [B, C, T]");
        let f = self.cfg.frames();
        let coef = self.analyse(x);
        let log_rms = self.log_band_rms(&coef);
        let rms = log_rms.exp().matmul(&self.member.tr());
        let shape = &coef / rms;
        let level = (log_rms - &self.band_mean) / &self.band_std;
        // [B, C, F, K] → [B, C·K, F], levels of both ears first.
        let to_channels = |t: Tensor| {
            let k = t.size()[3];
            t.permute([0, 1, 3, 2]).reshape([b, c * k, f])
        };
        Tensor::cat(&[to_channels(level), to_channels(shape)], 1)
    }

    /// Decodes latents `[B, C·(bands + hop), frames]` to audio `[B, C, T]`.
    pub fn decode(&self, z: &Tensor) -> Tensor {
        let (b, _, f) = z.size3().expect("latents are [B, D, F]");
        let (c, nb, n) = (self.cfg.channels, self.cfg.bands(), self.cfg.hop);
        let from_channels = |t: Tensor, k: i64| t.reshape([b, c, k, f]).permute([0, 1, 3, 2]);
        let level = from_channels(z.narrow(1, 0, c * nb), nb);
        let shape = from_channels(z.narrow(1, c * nb, c * n), n);
        let log_rms = level * &self.band_std + &self.band_mean;
        // Unit mean square per band, then the band's level.
        let ms = shape.square().matmul(&self.member) / &self.width;
        let gain = (log_rms.exp() / (ms + 1e-12).sqrt()).matmul(&self.member.tr());
        self.synthesise(&(shape * gain))
    }

    /// Sets the statistics from the log band RMS of `x` (`[B, C, T]` training audio, both ears
    /// pooled): per band the mean and the standard deviation (floored at 0.05).
    pub fn fit(&mut self, x: &Tensor) {
        let log_rms = self.log_band_rms(&self.analyse(x));
        let nb = self.cfg.bands();
        let v = log_rms.reshape([-1, nb]);
        let mean = v.mean_dim(0, false, Kind::Float);
        let std = v.std_dim(0, false, false).clamp_min(0.05);
        tch::no_grad(|| {
            self.band_mean.copy_(&mean);
            self.band_std.copy_(&std);
        });
    }
}
