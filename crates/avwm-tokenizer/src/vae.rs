//! The visual tokenizer: a KL-regularised convolutional autoencoder in the style of the Stable
//! Diffusion VAE (Rombach et al. 2022), with the parameter names of diffusers' `AutoencoderKL`,
//! so that `sd-vae-ft-ema` weights load into [`VaeConfig::sd`] unchanged.
//!
//! Layout (per level `i` of `block_out_channels`): `layers_per_block` residual blocks, then a
//! stride-2 convolution (asymmetric padding 0/1 as in diffusers) except at the last level; a middle
//! block `resnet → self-attention → resnet`; GroupNorm + SiLU + 3×3 convolution to `2·latent`
//! channels (mean and log-variance); a 1×1 `quant_conv`. The decoder mirrors it with
//! `layers_per_block + 1` residual blocks per level and nearest-neighbour upsampling + 3×3 conv.
//! Four levels give 8× downsampling: 128×128×3 → 4×16×16.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

/// Architecture of the autoencoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VaeConfig {
    /// Image channels.
    pub in_channels: i64,
    /// Latent channels.
    pub latent_channels: i64,
    /// Channels per level (the number of levels − 1 is the number of 2× downsamplings).
    pub block_out_channels: Vec<i64>,
    /// Residual blocks per encoder level (the decoder has one more).
    pub layers_per_block: i64,
    /// GroupNorm groups.
    pub norm_num_groups: i64,
    /// Self-attention in the middle blocks.
    pub mid_attention: bool,
    /// Latent scale factor: latents are multiplied by it before diffusion (SD: 0.18215). Computed
    /// from the training data as 1 / std of the latents when a tokenizer is trained.
    pub scaling_factor: f64,
}

impl VaeConfig {
    /// The Stable Diffusion VAE (`sd-vae-ft-ema`): 128/256/512/512, 2 layers, 32 groups, attention.
    pub fn sd() -> VaeConfig {
        VaeConfig {
            in_channels: 3,
            latent_channels: 4,
            block_out_channels: vec![128, 256, 512, 512],
            layers_per_block: 2,
            norm_num_groups: 32,
            mid_attention: true,
            scaling_factor: 0.18215,
        }
    }

    /// avwm's CPU default, trained on avwm data: 16/32/64/128, one layer per level, 8 groups
    /// (about 2.8 GFLOPs per 128×128 image forward, a quarter of 32/64/128/128).
    pub fn small() -> VaeConfig {
        VaeConfig {
            in_channels: 3,
            latent_channels: 4,
            block_out_channels: vec![16, 32, 64, 128],
            layers_per_block: 1,
            norm_num_groups: 8,
            mid_attention: true,
            scaling_factor: 1.0,
        }
    }

    /// Seconds-scale model for tests (still 8× downsampling).
    pub fn tiny() -> VaeConfig {
        VaeConfig {
            in_channels: 3,
            latent_channels: 4,
            block_out_channels: vec![8, 8, 16, 16],
            layers_per_block: 1,
            norm_num_groups: 4,
            mid_attention: true,
            scaling_factor: 1.0,
        }
    }

    /// Spatial downsampling factor.
    pub fn downsample(&self) -> i64 {
        1 << (self.block_out_channels.len().saturating_sub(1))
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// A message naming the bad field.
    pub fn validate(&self) -> Result<(), String> {
        if self.block_out_channels.is_empty() {
            return Err("block_out_channels is empty".into());
        }
        if self.norm_num_groups <= 0 {
            return Err(format!(
                "norm_num_groups {} must be positive",
                self.norm_num_groups
            ));
        }
        if let Some(c) = self
            .block_out_channels
            .iter()
            .find(|c| **c <= 0 || **c % self.norm_num_groups != 0)
        {
            return Err(format!(
                "block_out_channels entry {c} is not a positive multiple of norm_num_groups {}",
                self.norm_num_groups
            ));
        }
        if self.latent_channels <= 0 || self.in_channels <= 0 || self.layers_per_block <= 0 {
            return Err("channels and layers_per_block must be positive".into());
        }
        // Sizes from a JSON file reach libtorch's infallible constructors: keep the arithmetic
        // on them far from overflow (found by avwm-fuzz).
        let largest = self
            .block_out_channels
            .iter()
            .chain([&self.latent_channels, &self.in_channels])
            .max()
            .copied()
            .unwrap_or(0);
        if largest > MAX_CHANNELS
            || self.layers_per_block > 64
            || self.block_out_channels.len() > 16
        {
            return Err(format!(
                "channel counts above {MAX_CHANNELS}, more than 64 layers per block or more than \
                 16 blocks"
            ));
        }
        Ok(())
    }

    /// A lower bound on the number of parameters of the network this configuration builds,
    /// computed without building it (the 3×3 convolutions of the residual blocks, the encoder's
    /// downsamplers, the middle blocks and their attention; biases, norms, shortcuts and the
    /// in/out convolutions are left out). A loader compares it with the weights file before it
    /// allocates anything. Call on a valid configuration.
    pub fn min_parameters(&self) -> u128 {
        let sq = |c: i64| (c.max(0) as u128).pow(2);
        let layers = self.layers_per_block.max(0) as u128;
        let n = self.block_out_channels.len();
        // Encoder: 2·L − 1 full c×c 3×3 convolutions per level (conv1 of the first block reads
        // the previous width); decoder: 2·(L + 1) − 1. Together 4·L.
        let blocks: u128 = self
            .block_out_channels
            .iter()
            .map(|&c| 4 * layers * 9 * sq(c))
            .sum();
        let down: u128 = self.block_out_channels[..n.saturating_sub(1)]
            .iter()
            .map(|&c| 9 * sq(c))
            .sum();
        let last = sq(self.block_out_channels.last().copied().unwrap_or(0));
        // Two middle blocks of two residual blocks of two 3×3 convolutions, and q, k, v, out.
        let mid = 2 * 2 * 2 * 9 * last + if self.mid_attention { 2 * 4 * last } else { 0 };
        blocks + down + mid
    }
}

/// The largest channel count [`VaeConfig::validate`] accepts.
const MAX_CHANNELS: i64 = 1 << 16;

fn gn(p: nn::Path, groups: i64, c: i64) -> nn::GroupNorm {
    nn::group_norm(
        p,
        groups,
        c,
        nn::GroupNormConfig {
            eps: 1e-6,
            ..Default::default()
        },
    )
}

fn conv(p: nn::Path, i: i64, o: i64, k: i64, stride: i64, padding: i64) -> nn::Conv2D {
    nn::conv2d(
        p,
        i,
        o,
        k,
        nn::ConvConfig {
            stride,
            padding,
            ..Default::default()
        },
    )
}

#[derive(Debug)]
struct Resnet {
    norm1: nn::GroupNorm,
    conv1: nn::Conv2D,
    norm2: nn::GroupNorm,
    conv2: nn::Conv2D,
    shortcut: Option<nn::Conv2D>,
}

impl Resnet {
    fn new(p: nn::Path, i: i64, o: i64, groups: i64) -> Resnet {
        Resnet {
            norm1: gn(&p / "norm1", groups, i),
            conv1: conv(&p / "conv1", i, o, 3, 1, 1),
            norm2: gn(&p / "norm2", groups, o),
            conv2: conv(&p / "conv2", o, o, 3, 1, 1),
            shortcut: (i != o).then(|| conv(&p / "conv_shortcut", i, o, 1, 1, 0)),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let h = self.conv1.forward(&self.norm1.forward(x).silu());
        let h = self.conv2.forward(&self.norm2.forward(&h).silu());
        match &self.shortcut {
            Some(s) => s.forward(x) + h,
            None => x + h,
        }
    }
}

/// Single-head spatial self-attention of the middle block (diffusers `Attention` names).
#[derive(Debug)]
struct Attention {
    norm: nn::GroupNorm,
    q: nn::Linear,
    k: nn::Linear,
    v: nn::Linear,
    out: nn::Linear,
}

impl Attention {
    fn new(p: nn::Path, c: i64, groups: i64) -> Attention {
        Attention {
            norm: gn(&p / "group_norm", groups, c),
            q: nn::linear(&p / "to_q", c, c, Default::default()),
            k: nn::linear(&p / "to_k", c, c, Default::default()),
            v: nn::linear(&p / "to_v", c, c, Default::default()),
            out: nn::linear(&p / "to_out" / 0, c, c, Default::default()),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let (b, c, h, w) = x.size4().expect("attention input is NCHW");
        let t = self
            .norm
            .forward(x)
            .view([b, c, h * w])
            .transpose(1, 2)
            .unsqueeze(1);
        let q = self.q.forward(&t);
        let k = self.k.forward(&t);
        let v = self.v.forward(&t);
        let a = Tensor::scaled_dot_product_attention(
            &q,
            &k,
            &v,
            None::<Tensor>,
            0.0,
            false,
            None,
            false,
        );
        let o = self.out.forward(&a.squeeze_dim(1));
        x + o.transpose(1, 2).reshape([b, c, h, w])
    }
}

#[derive(Debug)]
struct Mid {
    r0: Resnet,
    attn: Option<Attention>,
    r1: Resnet,
}

impl Mid {
    fn new(p: nn::Path, c: i64, groups: i64, attention: bool) -> Mid {
        Mid {
            r0: Resnet::new(&p / "resnets" / 0, c, c, groups),
            attn: attention.then(|| Attention::new(&p / "attentions" / 0, c, groups)),
            r1: Resnet::new(&p / "resnets" / 1, c, c, groups),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let h = self.r0.forward(x);
        let h = match &self.attn {
            Some(a) => a.forward(&h),
            None => h,
        };
        self.r1.forward(&h)
    }
}

#[derive(Debug)]
struct Level {
    resnets: Vec<Resnet>,
    resample: Option<nn::Conv2D>,
}

/// The autoencoder. Images are NCHW floats in [−1, 1].
#[derive(Debug)]
pub struct Vae {
    cfg: VaeConfig,
    enc_in: nn::Conv2D,
    enc_levels: Vec<Level>,
    enc_mid: Mid,
    enc_norm: nn::GroupNorm,
    enc_out: nn::Conv2D,
    quant: nn::Conv2D,
    post_quant: nn::Conv2D,
    dec_in: nn::Conv2D,
    dec_mid: Mid,
    dec_levels: Vec<Level>,
    dec_norm: nn::GroupNorm,
    dec_out: nn::Conv2D,
}

impl Vae {
    /// Builds the network under `p` (diffusers names: `encoder.*`, `decoder.*`, `quant_conv`,
    /// `post_quant_conv`). The configuration must be valid ([`VaeConfig::validate`]).
    pub fn new(p: &nn::Path, cfg: &VaeConfig) -> Vae {
        let g = cfg.norm_num_groups;
        let ch = &cfg.block_out_channels;
        let n = ch.len();
        let last = ch[n - 1];
        let e = p / "encoder";
        let mut enc_levels = Vec::with_capacity(n);
        let mut prev = ch[0];
        for (i, &out) in ch.iter().enumerate() {
            let bp = &e / "down_blocks" / i;
            let resnets = (0..cfg.layers_per_block)
                .map(|j| Resnet::new(&bp / "resnets" / j, if j == 0 { prev } else { out }, out, g))
                .collect();
            let resample =
                (i + 1 < n).then(|| conv(&bp / "downsamplers" / 0 / "conv", out, out, 3, 2, 0));
            enc_levels.push(Level { resnets, resample });
            prev = out;
        }
        let d = p / "decoder";
        let mut dec_levels = Vec::with_capacity(n);
        let rev: Vec<i64> = ch.iter().rev().copied().collect();
        let mut prev = rev[0];
        for (i, &out) in rev.iter().enumerate() {
            let bp = &d / "up_blocks" / i;
            let resnets = (0..=cfg.layers_per_block)
                .map(|j| Resnet::new(&bp / "resnets" / j, if j == 0 { prev } else { out }, out, g))
                .collect();
            let resample =
                (i + 1 < n).then(|| conv(&bp / "upsamplers" / 0 / "conv", out, out, 3, 1, 1));
            dec_levels.push(Level { resnets, resample });
            prev = out;
        }
        let z2 = 2 * cfg.latent_channels;
        Vae {
            cfg: cfg.clone(),
            enc_in: conv(&e / "conv_in", cfg.in_channels, ch[0], 3, 1, 1),
            enc_levels,
            enc_mid: Mid::new(&e / "mid_block", last, g, cfg.mid_attention),
            enc_norm: gn(&e / "conv_norm_out", g, last),
            enc_out: conv(&e / "conv_out", last, z2, 3, 1, 1),
            quant: conv(p / "quant_conv", z2, z2, 1, 1, 0),
            post_quant: conv(
                p / "post_quant_conv",
                cfg.latent_channels,
                cfg.latent_channels,
                1,
                1,
                0,
            ),
            dec_in: conv(&d / "conv_in", cfg.latent_channels, last, 3, 1, 1),
            dec_mid: Mid::new(&d / "mid_block", last, g, cfg.mid_attention),
            dec_levels,
            dec_norm: gn(&d / "conv_norm_out", g, ch[0]),
            dec_out: conv(&d / "conv_out", ch[0], cfg.in_channels, 3, 1, 1),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &VaeConfig {
        &self.cfg
    }

    /// Encodes images `[B, 3, H, W]` in [−1, 1] to the posterior's mean and log-variance, each
    /// `[B, latent, H/f, W/f]` (unscaled; multiply by `scaling_factor` for diffusion).
    pub fn encode(&self, x: &Tensor) -> (Tensor, Tensor) {
        let mut h = self.enc_in.forward(x);
        for level in &self.enc_levels {
            for r in &level.resnets {
                h = r.forward(&h);
            }
            if let Some(down) = &level.resample {
                // diffusers pads right and bottom by one before the stride-2 convolution.
                h = down.forward(&h.constant_pad_nd([0, 1, 0, 1]));
            }
        }
        h = self.enc_mid.forward(&h);
        h = self.enc_out.forward(&self.enc_norm.forward(&h).silu());
        let moments = self.quant.forward(&h);
        let parts = moments.chunk(2, 1);
        (parts[0].shallow_clone(), parts[1].clamp(-30.0, 20.0))
    }

    /// Decodes latents `[B, latent, h, w]` (unscaled) to images in roughly [−1, 1].
    pub fn decode(&self, z: &Tensor) -> Tensor {
        let mut h = self.dec_in.forward(&self.post_quant.forward(z));
        h = self.dec_mid.forward(&h);
        for level in &self.dec_levels {
            for r in &level.resnets {
                h = r.forward(&h);
            }
            if let Some(up) = &level.resample {
                h = up.forward(&h.upsample_nearest2d_vec(None::<&[i64]>, &[2.0, 2.0][..]));
            }
        }
        self.dec_out.forward(&self.dec_norm.forward(&h).silu())
    }

    /// Samples `z = mean + exp(logvar / 2) · ε` with libtorch's (seeded) generator.
    pub fn sample(mean: &Tensor, logvar: &Tensor) -> Tensor {
        mean + (logvar * 0.5).exp() * mean.randn_like()
    }

    /// KL divergence of the posterior from N(0, I), summed over latent elements, mean over batch.
    pub fn kl(mean: &Tensor, logvar: &Tensor) -> Tensor {
        let b = mean.size()[0] as f64;
        ((mean.square() + logvar.exp() - 1.0 - logvar) * 0.5).sum(Kind::Float) / b
    }
}

/// Renames the attention parameters of older diffusers checkpoints (`query`, `key`, `value`,
/// `proj_attn`) to the current names, and reshapes 1×1-convolution attention weights
/// (`[c, c, 1, 1]`, as in the original LDM files) to linear weights.
pub fn diffusers_rename(name: &str, t: Tensor) -> (String, Tensor) {
    let renamed = name
        .replace(".query.", ".to_q.")
        .replace(".key.", ".to_k.")
        .replace(".value.", ".to_v.")
        .replace(".proj_attn.", ".to_out.0.");
    let t = if renamed.contains(".attentions.") && t.dim() == 4 {
        let s = t.size();
        t.reshape([s[0], s[1]])
    } else {
        t
    };
    (renamed, t)
}

/// Loads a diffusers `AutoencoderKL` `.safetensors` file (e.g. `sd-vae-ft-ema`) into a var store
/// built with the matching configuration ([`VaeConfig::sd`] for Stable Diffusion's VAE). Old
/// attention names are renamed ([`diffusers_rename`]); every parameter must be present with the
/// right shape, and the file may hold nothing else.
///
/// # Errors
/// [`avwm_nn::NnError::Checkpoint`] naming the first missing, unexpected or mis-shaped tensor.
pub fn load_diffusers(vs: &mut nn::VarStore, path: &std::path::Path) -> avwm_nn::Result<()> {
    let raw = avwm_nn::ckpt::load_tensors(path)?;
    let mut renamed = std::collections::BTreeMap::new();
    for (name, t) in raw {
        let (n, t) = diffusers_rename(&name, t);
        renamed.insert(n, t);
    }
    avwm_nn::ckpt::copy_into(&avwm_nn::ckpt::named_variables(vs), &mut renamed, path)?;
    if let Some(extra) = renamed.keys().next() {
        return Err(avwm_nn::NnError::Checkpoint {
            path: path.to_path_buf(),
            message: format!("tensor `{extra}` is not a parameter of this AutoencoderKL"),
        });
    }
    Ok(())
}
