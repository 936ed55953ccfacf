//! The AV-CDiT network (paper §4.1; CDiT layer order from `reference/cdit.md` §2).
//!
//! * Per-modality adaptors: visual latents are patchified (patch 2, values ordered channel, row,
//!   column) and projected to the width D; audio latent frames are tokens; the scalar reward,
//!   broadcast to `reward_dim` values, is one token. Learned positional embeddings per frame
//!   (context frames 0..m−1 oldest first, row m the target) and modality, N(0, 0.02²).
//! * Conditioning `c = MLP(sin(k)) + MLP(sin(Δt)) + [MLP(sin(x)) | MLP(sin(y)) | MLP(sin(yaw))]`
//!   (256-dim cos-first sinusoids, max period 10 000), injected by AdaLN into every block and the
//!   final layer.
//! * Each block: `x += g₁·SelfAttn(mod(LN x))`; context modulated by its own shift/scale;
//!   `x += g₂·CrossAttn(mod(LN x), mod(LN ctx))` with one learned extra key/value token;
//!   `x += g₃·FFN(mod(LN x))`, where the FFN is the **modality expert**: visual tokens through
//!   the visual FFN, audio and reward tokens through the audio FFN (or one shared FFN).
//! * AdaLN-zero: every block's modulation and the final layer are zero at initialisation, so the
//!   blocks are the identity and the outputs are zero.
//! * Per-modality heads emit `[ε̂ | v]` (twice the latent channels).
//!
//! Parameter names (the checkpoint keys) start with the group they belong to: `cond.`, `vis.`,
//! `aud.`, `rew.`, `blocks.<i>.{attn,cross,adaln,mlp,mlp_vis,mlp_aud}.`, `final.`; training
//! stages select trainable groups by these names.

use crate::config::{ModelConfig, Prediction, Streams};
use crate::reward::RewardHead;
use tch::nn::{self, Init, LinearConfig, Module};
use tch::{Kind, Tensor};

fn xavier(p: &nn::Path, name: &str, input: i64, output: i64) -> nn::Linear {
    let b = (6.0 / (input + output) as f64).sqrt();
    nn::linear(
        p / name,
        input,
        output,
        LinearConfig {
            ws_init: Init::Uniform { lo: -b, up: b },
            bs_init: Some(Init::Const(0.0)),
            bias: true,
        },
    )
}

fn zeros(p: &nn::Path, name: &str, input: i64, output: i64) -> nn::Linear {
    nn::linear(
        p / name,
        input,
        output,
        LinearConfig {
            ws_init: Init::Const(0.0),
            bs_init: Some(Init::Const(0.0)),
            bias: true,
        },
    )
}

fn normal(p: &nn::Path, name: &str, input: i64, output: i64) -> nn::Linear {
    nn::linear(
        p / name,
        input,
        output,
        LinearConfig {
            ws_init: Init::Randn {
                mean: 0.0,
                stdev: 0.02,
            },
            bs_init: Some(Init::Const(0.0)),
            bias: true,
        },
    )
}

/// Sinusoidal embedding of `value` (`[B]`), `dim` features, cos first, max period 10 000.
pub fn sinusoid(value: &Tensor, dim: i64) -> Tensor {
    let half = dim / 2;
    let dev = value.device();
    let freqs = (Tensor::arange(half, (Kind::Float, dev)) * (-(10000f64.ln()) / half as f64)).exp();
    let args = value.to_kind(Kind::Float).unsqueeze(1) * freqs.unsqueeze(0);
    Tensor::cat(&[args.cos(), args.sin()], 1)
}

/// Sinusoid → Linear → SiLU → Linear.
#[derive(Debug)]
struct Embedder {
    l1: nn::Linear,
    l2: nn::Linear,
}

const FREQ_DIM: i64 = 256;

impl Embedder {
    fn new(p: &nn::Path, width: i64) -> Embedder {
        Embedder {
            l1: normal(p, "0", FREQ_DIM, width),
            l2: normal(p, "2", width, width),
        }
    }
    fn forward(&self, v: &Tensor) -> Tensor {
        self.l2
            .forward(&self.l1.forward(&sinusoid(v, FREQ_DIM)).silu())
    }
}

#[derive(Debug)]
struct Mlp {
    fc1: nn::Linear,
    fc2: nn::Linear,
}

impl Mlp {
    fn new(p: &nn::Path, d: i64, h: i64) -> Mlp {
        Mlp {
            fc1: xavier(p, "fc1", d, h),
            fc2: xavier(p, "fc2", h, d),
        }
    }
    fn forward(&self, x: &Tensor) -> Tensor {
        self.fc2.forward(&self.fc1.forward(x).gelu("tanh"))
    }
}

#[derive(Debug)]
enum Ffn {
    Shared(Mlp),
    Experts {
        visual: Option<Mlp>,
        audio: Option<Mlp>,
    },
}

#[derive(Debug)]
struct Block {
    qkv: nn::Linear,
    proj: nn::Linear,
    q: nn::Linear,
    kv: nn::Linear,
    bias_k: Tensor,
    bias_v: Tensor,
    out: nn::Linear,
    adaln: nn::Linear,
    ffn: Ffn,
}

fn layer_norm(x: &Tensor) -> Tensor {
    let d = *x.size().last().expect("tokens have a width");
    x.layer_norm([d], None::<&Tensor>, None::<&Tensor>, 1e-6, true)
}

/// `x·(1 + scale) + shift`, one fused kernel over the tokens.
fn modulate(x: &Tensor, shift: &Tensor, scale: &Tensor) -> Tensor {
    shift.addcmul(x, &(scale + 1.0))
}

impl Block {
    fn new(p: &nn::Path, cfg: &ModelConfig) -> Block {
        let d = cfg.width;
        let h = cfg.width * cfg.mlp_ratio;
        let attn = p / "attn";
        let cross = p / "cross";
        // PyTorch's MultiheadAttention: xavier-uniform over the whole [3D, D] in-projection.
        let b = (6.0 / (4 * d) as f64).sqrt();
        let uni = LinearConfig {
            ws_init: Init::Uniform { lo: -b, up: b },
            bs_init: Some(Init::Const(0.0)),
            bias: true,
        };
        let kv_std = (1.0 / d as f64).sqrt();
        let ffn = if cfg.experts {
            Ffn::Experts {
                visual: cfg
                    .variant
                    .has_visual()
                    .then(|| Mlp::new(&(p / "mlp_vis"), d, h)),
                audio: cfg
                    .variant
                    .has_audio()
                    .then(|| Mlp::new(&(p / "mlp_aud"), d, h)),
            }
        } else {
            Ffn::Shared(Mlp::new(&(p / "mlp"), d, h))
        };
        Block {
            qkv: xavier(&attn, "qkv", d, 3 * d),
            proj: xavier(&attn, "proj", d, d),
            q: nn::linear(&cross / "q", d, d, uni),
            kv: nn::linear(&cross / "kv", d, 2 * d, uni),
            bias_k: cross.var(
                "bias_k",
                &[1, 1, d],
                Init::Randn {
                    mean: 0.0,
                    stdev: kv_std,
                },
            ),
            bias_v: cross.var(
                "bias_v",
                &[1, 1, d],
                Init::Randn {
                    mean: 0.0,
                    stdev: kv_std,
                },
            ),
            out: xavier(&cross, "out", d, d),
            adaln: zeros(p, "adaln", d, 11 * d),
            ffn,
        }
    }

    fn heads(x: &Tensor, heads: i64) -> Tensor {
        let s = x.size();
        x.view([s[0], s[1], heads, s[2] / heads]).transpose(1, 2)
    }

    fn merge(x: &Tensor) -> Tensor {
        let s = x.size();
        x.transpose(1, 2).reshape([s[0], s[2], s[1] * s[3]])
    }

    /// `x`: target tokens `[B, N, D]`; `nv`: how many of them are visual; `ctx_ln`: the
    /// layer-normalised context `[B, M, D]` (the same for every block, so normalised once).
    fn forward(&self, x: &Tensor, c: &Tensor, ctx_ln: &Tensor, nv: i64, heads: i64) -> Tensor {
        let m = self.adaln.forward(&c.silu()).unsqueeze(1).chunk(11, -1);
        // 1. Self-attention over the target tokens.
        let h = modulate(&layer_norm(x), &m[0], &m[1]);
        let qkv = self.qkv.forward(&h).chunk(3, -1);
        let a = Tensor::scaled_dot_product_attention(
            &Block::heads(&qkv[0], heads),
            &Block::heads(&qkv[1], heads),
            &Block::heads(&qkv[2], heads),
            None::<&Tensor>,
            0.0,
            false,
            None,
            false,
        );
        let x = x.addcmul(&m[2], &self.proj.forward(&Block::merge(&a)));
        // 2–3. Cross-attention to the (modulated) context, plus one learned key/value token.
        let cm = modulate(ctx_ln, &m[3], &m[4]);
        let kv = self.kv.forward(&cm).chunk(2, -1);
        let b = x.size()[0];
        let d = *x.size().last().expect("width");
        let k = Tensor::cat(
            &[kv[0].shallow_clone(), self.bias_k.expand([b, 1, d], false)],
            1,
        );
        let v = Tensor::cat(
            &[kv[1].shallow_clone(), self.bias_v.expand([b, 1, d], false)],
            1,
        );
        let q = self.q.forward(&modulate(&layer_norm(&x), &m[5], &m[6]));
        let a = Tensor::scaled_dot_product_attention(
            &Block::heads(&q, heads),
            &Block::heads(&k, heads),
            &Block::heads(&v, heads),
            None::<&Tensor>,
            0.0,
            false,
            None,
            false,
        );
        let x = x.addcmul(&m[7], &self.out.forward(&Block::merge(&a)));
        // 4. Feed-forward: modality experts or one shared network.
        let h = modulate(&layer_norm(&x), &m[8], &m[9]);
        let n = x.size()[1];
        let f = match &self.ffn {
            Ffn::Shared(mlp) => mlp.forward(&h),
            Ffn::Experts { visual, audio } => {
                let mut parts = Vec::with_capacity(2);
                if nv > 0 {
                    let mlp = visual
                        .as_ref()
                        .expect("visual tokens need the visual expert");
                    parts.push(mlp.forward(&h.narrow(1, 0, nv)));
                }
                if n > nv {
                    let mlp = audio.as_ref().expect("audio tokens need the audio expert");
                    parts.push(mlp.forward(&h.narrow(1, nv, n - nv)));
                }
                Tensor::cat(&parts, 1)
            }
        };
        x.addcmul(&m[10], &f)
    }
}

/// Visual adaptor, positional table and head (and the base frame's adaptor).
#[derive(Debug)]
struct VisualIo {
    adaptor: nn::Linear,
    pos: Tensor,
    head: nn::Linear,
    base_adaptor: Option<nn::Linear>,
}

/// Pose features of a frame relative to the anchor, `[.., 3]` (forward, left in action units;
/// yaw in radians) → `[.., 5]`: forward/8, left/8, cos yaw, sin yaw, and the distance/8.
pub fn pose_features(pose: &Tensor) -> Tensor {
    let fwd = pose.select(-1, 0);
    let left = pose.select(-1, 1);
    let yaw = pose.select(-1, 2);
    let dist = (fwd.square() + left.square()).sqrt();
    Tensor::stack(
        &[&fwd / 8.0, &left / 8.0, yaw.cos(), yaw.sin(), dist / 8.0],
        -1,
    )
}

/// A gated MLP per latent frame (`fc2(GELU(fc1 x) ⊙ gate x)`: products of inputs, such as the
/// correlation of the two ears' spectra, are one layer away), averaged over the frames of a
/// segment: `[B, F, A, T]` → `[B, F, D]`.
#[derive(Debug)]
pub(crate) struct FramePool {
    fc1: nn::Linear,
    gate: nn::Linear,
    fc2: nn::Linear,
}

impl FramePool {
    pub(crate) fn new(p: &nn::Path, input: i64, width: i64) -> FramePool {
        FramePool {
            fc1: xavier(p, "fc1", input, width),
            gate: xavier(p, "gate", input, width),
            fc2: xavier(p, "fc2", width, width),
        }
    }

    pub(crate) fn forward(&self, a: &Tensor) -> Tensor {
        let x = a.transpose(2, 3);
        let h = self.fc1.forward(&x).gelu("tanh") * self.gate.forward(&x);
        self.fc2.forward(&h).mean_dim(2, false, Kind::Float)
    }
}

/// The pooled audio memory: frames older than the context, one token each.
#[derive(Debug)]
struct MemoryIo {
    pool: FramePool,
    pose: nn::Linear,
    pos: Tensor,
}

/// Audio adaptor, positional table and head; the reward token's adaptor, position and head;
/// the base frame's adaptor and the pooled memory.
#[derive(Debug)]
struct AudioIo {
    adaptor: nn::Linear,
    pos: Tensor,
    head: nn::Linear,
    base_adaptor: Option<nn::Linear>,
    memory: Option<MemoryIo>,
    reward_adaptor: nn::Linear,
    reward_pos: Tensor,
    reward_head: nn::Linear,
}

/// Noisy targets of one forward pass (a `None` stream takes no part).
#[derive(Debug, Default)]
pub struct Targets<'a> {
    /// Visual latent `[B, C, H, W]`.
    pub visual: Option<&'a Tensor>,
    /// Audio latent `[B, A, T]`.
    pub audio: Option<&'a Tensor>,
    /// Reward values `[B, R]` (present exactly when audio is).
    pub reward: Option<&'a Tensor>,
    /// Visual base frame `[B, C, H, W]` ([`Prediction::ResidualV`]).
    pub base_visual: Option<&'a Tensor>,
    /// Audio base frame `[B, A, T]` ([`Prediction::ResidualV`]).
    pub base_audio: Option<&'a Tensor>,
}

/// Network outputs per stream: `[ε̂ | v]` ([`Prediction::Epsilon`]) or `F`
/// ([`Prediction::ResidualV`]).
#[derive(Debug)]
pub struct Outputs {
    /// `[B, 2C, H, W]`.
    pub visual: Option<Tensor>,
    /// `[B, 2A, T]`.
    pub audio: Option<Tensor>,
    /// `[B, 2R]`.
    pub reward: Option<Tensor>,
}

/// The AV-CDiT network.
#[derive(Debug)]
pub struct AvCdit {
    cfg: ModelConfig,
    k_emb: Embedder,
    dt_emb: Embedder,
    action_emb: [Embedder; 3],
    visual: Option<VisualIo>,
    audio: Option<AudioIo>,
    blocks: Vec<Block>,
    final_adaln: nn::Linear,
    reward_head: Option<RewardHead>,
}

impl AvCdit {
    /// Builds the network under `p` (initialisation as in `reference/cdit.md` §2.5).
    pub fn new(p: &nn::Path, cfg: &ModelConfig) -> AvCdit {
        let d = cfg.width;
        let cond = p / "cond";
        let h3 = d / 3;
        let pos_init = Init::Randn {
            mean: 0.0,
            stdev: 0.02,
        };
        let frames = cfg.context + 1;
        let mult = cfg.head_multiplier();
        let residual = cfg.prediction == Prediction::ResidualV;
        let visual = cfg.variant.has_visual().then(|| {
            let v = p / "vis";
            let pd = cfg.patch_dim();
            VisualIo {
                adaptor: xavier(&v, "adaptor", pd, d),
                pos: v.var("pos", &[frames, cfg.visual_tokens(), d], pos_init),
                head: zeros(&v, "head", d, mult * pd),
                base_adaptor: residual.then(|| xavier(&v, "base_adaptor", pd, d)),
            }
        });
        let older = cfg.memory() - cfg.context;
        let audio = cfg.variant.has_audio().then(|| {
            let a = p / "aud";
            let r = p / "rew";
            AudioIo {
                adaptor: xavier(&a, "adaptor", cfg.audio_dim, d),
                pos: a.var("pos", &[frames, cfg.audio_frames, d], pos_init),
                head: zeros(&a, "head", d, mult * cfg.audio_dim),
                base_adaptor: residual.then(|| xavier(&a, "base_adaptor", cfg.audio_dim, d)),
                memory: (older > 0).then(|| {
                    let m = &a / "memory";
                    MemoryIo {
                        pool: FramePool::new(&(&m / "pool"), cfg.audio_dim, d),
                        pose: xavier(&m, "pose", 5, d),
                        pos: m.var("pos", &[older, d], pos_init),
                    }
                }),
                reward_adaptor: xavier(&r, "adaptor", cfg.reward_dim, d),
                reward_pos: r.var("pos", &[1, 1, d], pos_init),
                reward_head: zeros(&r, "head", d, mult * cfg.reward_dim),
            }
        });
        AvCdit {
            cfg: cfg.clone(),
            k_emb: Embedder::new(&(&cond / "k"), d),
            dt_emb: Embedder::new(&(&cond / "dt"), d),
            action_emb: [
                Embedder::new(&(&cond / "ax"), h3),
                Embedder::new(&(&cond / "ay"), h3),
                Embedder::new(&(&cond / "ayaw"), d - 2 * h3),
            ],
            visual,
            audio,
            blocks: (0..cfg.depth)
                .map(|i| Block::new(&(p / "blocks" / i), cfg))
                .collect(),
            final_adaln: zeros(&(p / "final"), "adaln", d, 2 * d),
            reward_head: cfg
                .reward_head
                .then(|| RewardHead::new(&(p / "rhead"), cfg)),
        }
    }

    /// The deterministic reward head, if the model has one.
    pub fn reward_head(&self) -> Option<&RewardHead> {
        self.reward_head.as_ref()
    }

    /// The base frames of [`Prediction::ResidualV`] for a context (visual `[B, m, C, H, W]`,
    /// audio `[B, M, A, T]`, oldest first, the anchor last) and target offsets `dt` (`[B]`,
    /// frames): the last visual frame and, per row, the audio frame
    /// [`ModelConfig::audio_base`] picks. `None` for an absent stream or another
    /// parameterisation.
    pub fn bases(
        &self,
        visual: Option<&Tensor>,
        audio: Option<&Tensor>,
        dt: &Tensor,
    ) -> (Option<Tensor>, Option<Tensor>) {
        if self.cfg.prediction != Prediction::ResidualV {
            return (None, None);
        }
        let bv = visual.map(|v| v.select(1, v.size()[1] - 1));
        let ba = audio.map(|a| {
            let s = a.size();
            let (b, m) = (s[0], s[1]);
            let dts = Vec::<f64>::try_from(dt.to_kind(Kind::Double).to_device(tch::Device::Cpu))
                .unwrap_or_default();
            let idx: Vec<i64> = dts
                .iter()
                .enumerate()
                .map(|(row, &d)| {
                    let back = self.cfg.audio_base(0, d.round() as i64);
                    row as i64 * m + (m - 1 + back).max(0)
                })
                .collect();
            let flat = a.reshape([b * m, s[2], s[3]]);
            flat.index_select(0, &Tensor::from_slice(&idx).to_device(a.device()))
        });
        (bv, ba)
    }

    /// The architecture.
    pub fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    fn patchify(&self, x: &Tensor) -> Tensor {
        let (b, c, p) = (x.size()[0], self.cfg.visual_channels, self.cfg.patch);
        let g = self.cfg.visual_size / p;
        x.view([b, c, g, p, g, p])
            .permute([0, 2, 4, 1, 3, 5])
            .reshape([b, g * g, c * p * p])
    }

    fn unpatchify(&self, x: &Tensor) -> Tensor {
        let (b, c, p) = (x.size()[0], self.cfg.visual_channels, self.cfg.patch);
        let g = self.cfg.visual_size / p;
        let k = self.cfg.head_multiplier() * c;
        x.view([b, g, g, p, p, k])
            .permute([0, 5, 1, 3, 2, 4])
            .reshape([b, k, g * p, g * p])
    }

    fn visual_io(&self) -> &VisualIo {
        self.visual
            .as_ref()
            .expect("visual stream requested from a model without visual tokens")
    }

    fn audio_io(&self) -> &AudioIo {
        self.audio
            .as_ref()
            .expect("audio stream requested from a model without audio tokens")
    }

    /// Embeds the context once (adaptors + positions): visual `[B, m, C, H, W]` and/or audio
    /// `[B, M, A, T]` latents (oldest first) → tokens. With an audio memory, the audio holds
    /// `M = memory` frames: the last `m = context` enter token by token, the older ones one
    /// pooled token each, with the embedding of their pose relative to the anchor (`pose`,
    /// `[B, M, 3]`: forward, left in action units, yaw).
    pub fn embed_context(
        &self,
        visual: Option<&Tensor>,
        audio: Option<&Tensor>,
        pose: Option<&Tensor>,
    ) -> Tensor {
        let mut parts = Vec::new();
        let d = self.cfg.width;
        if let Some(v) = visual {
            let io = self.visual_io();
            let s = v.size();
            let (b, m) = (s[0], s[1]);
            let tok = io
                .adaptor
                .forward(&self.patchify(&v.reshape([b * m, s[2], s[3], s[4]])))
                .view([b, m, -1, d])
                + io.pos.narrow(0, 0, m).unsqueeze(0);
            parts.push(tok.view([b, -1, d]));
        }
        if let Some(a) = audio {
            let io = self.audio_io();
            let a = &self.cfg.modelled_audio(a, 2);
            let s = a.size();
            let (b, frames) = (s[0], s[1]);
            let m = frames.min(self.cfg.context);
            let recent = a.narrow(1, frames - m, m);
            let tok =
                io.adaptor.forward(&recent.transpose(2, 3)) + io.pos.narrow(0, 0, m).unsqueeze(0);
            parts.push(tok.view([b, -1, d]));
            if let (Some(mem), true) = (&io.memory, frames > m) {
                let older = frames - m;
                let oldest = mem.pos.size()[0] - older;
                let mut t = mem.pool.forward(&a.narrow(1, 0, older))
                    + mem.pos.narrow(0, oldest.max(0), older).unsqueeze(0);
                if let Some(p) = pose {
                    t += mem.pose.forward(&pose_features(&p.narrow(1, 0, older)));
                }
                parts.push(t);
            }
        }
        assert!(!parts.is_empty(), "the context needs at least one modality");
        Tensor::cat(&parts, 1)
    }

    /// The conditioning vector from the diffusion step `k` (`[B]`, original 0..999 scale), the
    /// offset `dt` (`[B]`, frames) and the aggregated action (`[B, 3]`: forward and left
    /// displacement in action units, yaw in radians).
    pub fn cond(&self, k: &Tensor, dt: &Tensor, action: &Tensor) -> Tensor {
        let a = Tensor::cat(
            &[
                self.action_emb[0].forward(&action.select(1, 0)),
                self.action_emb[1].forward(&action.select(1, 1)),
                self.action_emb[2].forward(&action.select(1, 2)),
            ],
            1,
        );
        self.k_emb.forward(k) + self.dt_emb.forward(dt) + a
    }

    /// Target tokens `[B, N, D]` (adaptors + positions; order visual, audio, reward) and how
    /// many of them are visual.
    pub fn embed_targets(&self, x: &Targets) -> (Tensor, i64) {
        let m = self.cfg.context;
        let mut toks = Vec::new();
        let mut nv = 0;
        if let Some(v) = x.visual {
            let io = self.visual_io();
            let mut t = io.adaptor.forward(&self.patchify(v)) + io.pos.get(m).unsqueeze(0);
            if let (Some(ad), Some(base)) = (&io.base_adaptor, x.base_visual) {
                t += ad.forward(&self.patchify(base));
            }
            toks.push(t);
            nv = self.cfg.visual_tokens();
        }
        if let Some(a) = x.audio {
            let io = self.audio_io();
            let mut t = io.adaptor.forward(&a.transpose(1, 2)) + io.pos.get(m).unsqueeze(0);
            if let (Some(ad), Some(base)) = (&io.base_adaptor, x.base_audio) {
                t += ad.forward(&self.cfg.modelled_audio(base, 1).transpose(1, 2));
            }
            toks.push(t);
            let r = x
                .reward
                .expect("the reward token rides with the audio tokens");
            toks.push(io.reward_adaptor.forward(r).unsqueeze(1) + &io.reward_pos);
        }
        (Tensor::cat(&toks, 1), nv)
    }

    /// Runs the CDiT blocks on target tokens `h` (`nv` visual) with context tokens `ctx` and
    /// conditioning `c`.
    pub fn blocks(&self, h: &Tensor, nv: i64, ctx: &Tensor, c: &Tensor) -> Tensor {
        let ctx_ln = layer_norm(ctx);
        let mut h = h.shallow_clone();
        for block in &self.blocks {
            h = block.forward(&h, c, &ctx_ln, nv, self.cfg.heads);
        }
        h
    }

    /// One forward pass: noisy targets, embedded context `[B, M, D]` and conditioning `[B, D]`.
    pub fn forward(&self, x: &Targets, ctx: &Tensor, c: &Tensor) -> Outputs {
        let (h, nv) = self.embed_targets(x);
        let h = self.blocks(&h, nv, ctx, c);
        let na = if x.audio.is_some() {
            self.cfg.audio_frames
        } else {
            0
        };
        let m = self
            .final_adaln
            .forward(&c.silu())
            .unsqueeze(1)
            .chunk(2, -1);
        let h = modulate(&layer_norm(&h), &m[0], &m[1]);
        let b = h.size()[0];
        let visual =
            (nv > 0).then(|| self.unpatchify(&self.visual_io().head.forward(&h.narrow(1, 0, nv))));
        let (audio, reward) = if na > 0 {
            let io = self.audio_io();
            let a = io.head.forward(&h.narrow(1, nv, na)).transpose(1, 2);
            let r = io
                .reward_head
                .forward(&h.narrow(1, nv + na, 1))
                .view([b, -1]);
            (Some(a), Some(r))
        } else {
            (None, None)
        };
        Outputs {
            visual,
            audio,
            reward,
        }
    }

    /// Which streams a call with these targets uses.
    pub fn streams_of(x: &Targets) -> Streams {
        Streams {
            visual: x.visual.is_some(),
            audio: x.audio.is_some(),
        }
    }
}
