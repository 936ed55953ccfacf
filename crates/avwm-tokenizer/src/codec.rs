//! The audio tokenizer: a SoundStream-style convolutional autoencoder (Zeghidour et al. 2021) over
//! the binaural segment, with a continuous latent.
//!
//! SoundStream's encoder has four strided blocks (×2, ×4, ×5, ×8 = ×320). The paper drops one block
//! because its segments are short (0.15 s = 2400 samples at 16 kHz, not a multiple of 320); avwm
//! drops the first, keeping ×4, ×5, ×8 = ×160, so a segment becomes 15 latent frames (one every
//! 10 ms). Each block is three residual units (causal dilated convolutions, dilations 1, 3, 9,
//! kernel 7, ELU) followed by a causal strided convolution (kernel 2·stride) that doubles the
//! channels; the decoder mirrors it with transposed convolutions. Both ears enter as the two input
//! channels of one network, so interaural time and level differences pass through one latent.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

/// Architecture of the audio autoencoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodecConfig {
    /// Audio channels (2: left, right).
    pub channels: i64,
    /// Channels after the input convolution; each block doubles them.
    pub base_channels: i64,
    /// Strides of the encoder blocks (their product is the hop in samples).
    pub strides: Vec<i64>,
    /// Latent dimension per frame.
    pub latent_dim: i64,
    /// Segment length in samples (must be a multiple of the hop).
    pub segment: i64,
    /// Latent scale factor (1 / std of the training latents), as for the visual latents.
    pub scaling_factor: f64,
    /// Level channel: the encoder divides the segment by its RMS level (one gain for both ears,
    /// so interaural level differences are kept) and appends `ln(RMS)` as one more latent channel
    /// (constant over frames); the decoder multiplies by `exp` of that channel's mean. Received
    /// levels span more than 60 dB between near and far, which a plain convolutional codec
    /// reproduces poorly. The gain uses the whole segment, so this channel is not causal.
    #[serde(default)]
    pub level_channel: bool,
}

impl CodecConfig {
    /// avwm's CPU default: base 16 channels, strides 4·5·8, 64-dim latent, 2400-sample segments.
    pub fn small() -> CodecConfig {
        CodecConfig {
            channels: 2,
            base_channels: 16,
            strides: vec![4, 5, 8],
            latent_dim: 64,
            segment: 2400,
            scaling_factor: 1.0,
            level_channel: true,
        }
    }

    /// Seconds-scale model for tests.
    pub fn tiny() -> CodecConfig {
        CodecConfig {
            base_channels: 4,
            latent_dim: 16,
            ..CodecConfig::small()
        }
    }

    /// Samples per latent frame.
    pub fn hop(&self) -> i64 {
        self.strides.iter().product()
    }

    /// Latent channels: `latent_dim`, plus one with [`CodecConfig::level_channel`].
    pub fn latent_channels(&self) -> i64 {
        self.latent_dim + i64::from(self.level_channel)
    }

    /// Latent frames per segment.
    pub fn frames(&self) -> i64 {
        self.segment / self.hop().max(1)
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// A message naming the bad field.
    pub fn validate(&self) -> Result<(), String> {
        if self.strides.is_empty() || self.strides.iter().any(|s| *s <= 0) {
            return Err("strides must be non-empty and positive".into());
        }
        // Sizes from a JSON file reach libtorch's infallible constructors and the arithmetic
        // below: keep them far from overflow and from allocations that cannot succeed.
        if self.strides.len() > MAX_BLOCKS || self.strides.iter().any(|s| *s > MAX_STRIDE) {
            return Err(format!(
                "more than {MAX_BLOCKS} strides or a stride above {MAX_STRIDE}: {:?}",
                self.strides
            ));
        }
        if self.channels > MAX_AUDIO_CHANNELS
            || self.latent_dim > MAX_WIDTH
            || self.base_channels > MAX_WIDTH >> self.strides.len()
            || self.segment > MAX_SEGMENT
        {
            return Err(format!(
                "sizes out of range: channels {} (at most {MAX_AUDIO_CHANNELS}), base_channels {} \
                 doubled {} times (at most {MAX_WIDTH}), latent_dim {} (at most {MAX_WIDTH}), \
                 segment {} (at most {MAX_SEGMENT} samples)",
                self.channels,
                self.base_channels,
                self.strides.len(),
                self.latent_dim,
                self.segment
            ));
        }
        if self.segment <= 0 || self.segment % self.hop() != 0 {
            return Err(format!(
                "segment {} is not a positive multiple of the hop {}",
                self.segment,
                self.hop()
            ));
        }
        if self.channels <= 0 || self.base_channels <= 0 || self.latent_dim <= 0 {
            return Err("channels, base_channels and latent_dim must be positive".into());
        }
        Ok(())
    }

    /// A lower bound on the number of parameters of the network this configuration builds,
    /// computed without building it: the weights of the residual units (a 7-tap and a pointwise
    /// `c × c` convolution, three units per block, in the encoder and the decoder) and of the
    /// `c ↔ 2c` resampling convolutions (`2·stride` taps); biases and the in/out convolutions
    /// are left out. A loader compares it with the weights file before it allocates anything.
    /// Call on a valid configuration.
    pub fn min_parameters(&self) -> u128 {
        self.strides
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let c = (self.base_channels.max(0) as u128) << i;
                let units = 2 * DILATIONS.len() as u128 * 8 * c * c;
                let resample = 2 * 2 * c * c * 2 * s.max(0) as u128;
                units + resample
            })
            .sum()
    }
}

/// A causal 1-D convolution: left padding only, so output `t` sees inputs `≤ t`.
#[derive(Debug)]
struct CausalConv {
    conv: nn::Conv1D,
    left: i64,
}

impl CausalConv {
    fn new(p: nn::Path, i: i64, o: i64, k: i64, stride: i64, dilation: i64) -> CausalConv {
        let conv = nn::conv1d(
            p,
            i,
            o,
            k,
            nn::ConvConfig {
                stride,
                dilation,
                ..Default::default()
            },
        );
        CausalConv {
            conv,
            left: (k - 1) * dilation + 1 - stride,
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        self.conv.forward(&x.constant_pad_nd([self.left, 0]))
    }
}

#[derive(Debug)]
struct ResUnit {
    dilated: CausalConv,
    pointwise: CausalConv,
}

impl ResUnit {
    fn new(p: nn::Path, c: i64, dilation: i64) -> ResUnit {
        ResUnit {
            dilated: CausalConv::new(&p / "dilated", c, c, 7, 1, dilation),
            pointwise: CausalConv::new(&p / "pointwise", c, c, 1, 1, 1),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        x + self
            .pointwise
            .forward(&self.dilated.forward(&x.elu()).elu())
    }
}

const DILATIONS: [i64; 3] = [1, 3, 9];

/// Most encoder blocks (strides) a configuration may have.
const MAX_BLOCKS: usize = 8;
/// Largest stride of a block.
const MAX_STRIDE: i64 = 64;
/// Most audio channels.
const MAX_AUDIO_CHANNELS: i64 = 64;
/// Widest layer (channels) and latent dimension.
const MAX_WIDTH: i64 = 1 << 16;
/// Longest segment (samples): 2²² is over four minutes at 16 kHz.
const MAX_SEGMENT: i64 = 1 << 22;

#[derive(Debug)]
struct EncBlock {
    units: Vec<ResUnit>,
    down: CausalConv,
}

#[derive(Debug)]
struct DecBlock {
    up: nn::ConvTranspose1D,
    stride: i64,
    units: Vec<ResUnit>,
}

/// The audio autoencoder. Audio is `[B, 2, T]` floats in [−1, 1]; latents are `[B, D, T/hop]`.
#[derive(Debug)]
pub struct Codec {
    cfg: CodecConfig,
    enc_in: CausalConv,
    enc_blocks: Vec<EncBlock>,
    enc_out: CausalConv,
    dec_in: CausalConv,
    dec_blocks: Vec<DecBlock>,
    dec_out: CausalConv,
}

impl Codec {
    /// Builds the network under `p`. The configuration must be valid ([`CodecConfig::validate`]).
    pub fn new(p: &nn::Path, cfg: &CodecConfig) -> Codec {
        let c0 = cfg.base_channels;
        let n = cfg.strides.len();
        let e = p / "encoder";
        let enc_blocks = cfg
            .strides
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let c = c0 << i;
                let bp = &e / "blocks" / i;
                EncBlock {
                    units: DILATIONS
                        .iter()
                        .enumerate()
                        .map(|(j, &d)| ResUnit::new(&bp / "units" / j, c, d))
                        .collect(),
                    down: CausalConv::new(&bp / "down", c, 2 * c, 2 * s, s, 1),
                }
            })
            .collect();
        let d = p / "decoder";
        let dec_blocks = cfg
            .strides
            .iter()
            .enumerate()
            .rev()
            .enumerate()
            .map(|(k, (i, &s))| {
                let c = c0 << i;
                let bp = &d / "blocks" / k;
                DecBlock {
                    up: nn::conv_transpose1d(
                        &bp / "up",
                        2 * c,
                        c,
                        2 * s,
                        nn::ConvTransposeConfig {
                            stride: s,
                            ..Default::default()
                        },
                    ),
                    stride: s,
                    units: DILATIONS
                        .iter()
                        .enumerate()
                        .map(|(j, &dl)| ResUnit::new(&bp / "units" / j, c, dl))
                        .collect(),
                }
            })
            .collect();
        let top = c0 << n;
        Codec {
            cfg: cfg.clone(),
            enc_in: CausalConv::new(&e / "conv_in", cfg.channels, c0, 7, 1, 1),
            enc_blocks,
            enc_out: CausalConv::new(&e / "conv_out", top, cfg.latent_dim, 3, 1, 1),
            dec_in: CausalConv::new(&d / "conv_in", cfg.latent_dim, top, 7, 1, 1),
            dec_blocks,
            dec_out: CausalConv::new(&d / "conv_out", c0, cfg.channels, 7, 1, 1),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &CodecConfig {
        &self.cfg
    }

    /// Encodes `[B, 2, T]` to latents `[B, D, T/hop]` (`[B, D + 1, T/hop]` with the level
    /// channel), unscaled.
    pub fn encode(&self, x: &Tensor) -> Tensor {
        if !self.cfg.level_channel {
            return self.encode_normalised(x);
        }
        let log_rms = level(x);
        let z = self.encode_normalised(&(x / log_rms.exp().view([-1, 1, 1])));
        let f = z.size()[2];
        Tensor::cat(&[z, log_rms.view([-1, 1, 1]).expand([-1, 1, f], false)], 1)
    }

    fn encode_normalised(&self, x: &Tensor) -> Tensor {
        let mut h = self.enc_in.forward(x);
        for b in &self.enc_blocks {
            for u in &b.units {
                h = u.forward(&h);
            }
            h = b.down.forward(&h.elu());
        }
        self.enc_out.forward(&h.elu())
    }

    /// Decodes latents `[B, D(+1), F]` to audio `[B, 2, F·hop]`.
    pub fn decode(&self, z: &Tensor) -> Tensor {
        if !self.cfg.level_channel {
            return self.decode_normalised(z);
        }
        let d = self.cfg.latent_dim;
        let gain = z.narrow(1, d, 1).mean_dim(2, true, Kind::Float).exp();
        self.decode_normalised(&z.narrow(1, 0, d)) * gain
    }

    /// The normalised waveform (before the level is applied) of `[B, D(+1), F]` latents.
    pub fn decode_normalised(&self, z: &Tensor) -> Tensor {
        let z = z.narrow(1, 0, self.cfg.latent_dim);
        let mut h = self.dec_in.forward(&z);
        for b in &self.dec_blocks {
            let t = h.size()[2];
            // Transposed conv with kernel 2s yields (t+1)s samples; keep the causal first t·s.
            h = b.up.forward(&h.elu()).narrow(2, 0, t * b.stride);
            for u in &b.units {
                h = u.forward(&h);
            }
        }
        self.dec_out.forward(&h.elu())
    }
}

/// `ln` of the RMS level of each segment of `[B, C, T]` over both channels and time, floored at
/// 1e-5 (−100 dBFS): `[B]`.
pub fn level(x: &Tensor) -> Tensor {
    (x.square()
        .mean_dim([1i64, 2].as_slice(), false, Kind::Float)
        + 1e-10)
        .sqrt()
        .log()
}

/// STFT resolutions `(n_fft, hop)` of the multi-resolution spectral loss.
pub const STFT_RESOLUTIONS: [(i64, i64); 4] = [(64, 16), (128, 32), (256, 64), (512, 128)];

/// Loss terms of the audio autoencoder (each a scalar tensor).
pub struct CodecLoss {
    /// Mean absolute waveform error.
    pub wave_l1: Tensor,
    /// Multi-resolution STFT: mean |log(|X̂|+ε) − log(|X|+ε)| plus mean ||X̂| − |X|| / mean |X|.
    pub stft: Tensor,
    /// Interaural level: mean |(log|X̂_L| − log|X̂_R|) − (log|X_L| − log|X_R|)| over resolutions.
    pub interaural: Tensor,
    /// Interaural phase: mean over bins of |û − u|, weighted by the target's cross-spectrum
    /// magnitude, where u = X_L·conj(X_R) / |X_L·X_R| is the PHAT-weighted cross-spectrum that
    /// GCC-PHAT turns into the ITD.
    pub interaural_phase: Tensor,
}

impl CodecLoss {
    /// The weighted total used for training.
    pub fn total(&self) -> Tensor {
        &self.wave_l1 * 10.0 + &self.stft + &self.interaural + &self.interaural_phase
    }
}

/// Computes the loss between a reconstruction and the input, both `[B, 2, T]`.
pub fn codec_loss(pred: &Tensor, target: &Tensor) -> CodecLoss {
    let (b, c, t) = target.size3().expect("audio is [B, C, T]");
    let wave_l1 = (pred - target).abs().mean(Kind::Float);
    let p = pred.reshape([b * c, t]);
    let y = target.reshape([b * c, t]);
    let zero = || Tensor::zeros([], (Kind::Float, pred.device()));
    let (mut stft, mut inter, mut phase) = (zero(), zero(), zero());
    let eps = 1e-5;
    for (n_fft, hop) in STFT_RESOLUTIONS {
        let win = Tensor::hann_window(n_fft, (Kind::Float, pred.device()));
        let spec = |x: &Tensor| {
            // Centred frames with reflect padding (padding by hand: libtorch rejects the
            // `align_to_window` flag that the centred binding always passes).
            let padded = x
                .unsqueeze(1)
                .reflection_pad1d([n_fft / 2, n_fft / 2])
                .squeeze_dim(1);
            padded.stft(n_fft, hop, n_fft, Some(&win), false, true, true, false)
        };
        let sp = spec(&p);
        let sy = spec(&y);
        let mp = sp.abs();
        let my = sy.abs();
        let lp = (&mp + eps).log();
        let ly = (&my + eps).log();
        let sc = (&mp - &my).abs().mean(Kind::Float) / (my.mean(Kind::Float) + eps);
        stft += (&lp - &ly).abs().mean(Kind::Float) + sc;
        if c == 2 {
            let sz = lp.size();
            let lp2 = lp.reshape([b, c, sz[1], sz[2]]);
            let ly2 = ly.reshape([b, c, sz[1], sz[2]]);
            let dp = lp2.select(1, 0) - lp2.select(1, 1);
            let dy = ly2.select(1, 0) - ly2.select(1, 1);
            inter += (dp - dy).abs().mean(Kind::Float);
            let sp2 = sp.reshape([b, c, sz[1], sz[2]]);
            let sy2 = sy.reshape([b, c, sz[1], sz[2]]);
            let cross = |s: &Tensor| s.select(1, 0) * s.select(1, 1).conj();
            let (cp, cy) = (cross(&sp2), cross(&sy2));
            let wy = cy.abs();
            let up = &cp / (cp.abs() + eps * eps);
            let uy = &cy / (&wy + eps * eps);
            let w = &wy / (wy.mean(Kind::Float) + eps * eps);
            phase += ((up - uy).abs() * w).mean(Kind::Float);
        }
    }
    let k = STFT_RESOLUTIONS.len() as f64;
    CodecLoss {
        wave_l1,
        stft: stft / k,
        interaural: inter / k,
        interaural_phase: phase / k,
    }
}
