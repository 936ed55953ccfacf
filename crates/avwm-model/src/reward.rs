//! The deterministic reward head (avwm's addition beside the paper's diffused reward token).
//!
//! One diffusion sample of a scalar is noise even where the model knows its mean, and a planner
//! needs the expectation `E[r | context, action]` (DIAMOND trains a separate reward model,
//! DreamerV3 a reward head on its latent state). The sign of the reward, whether a move brings
//! the agent closer to the source, is in the history of the sound: how the level and the
//! interaural cues changed while the agent moved and turned. So the head reads the whole audio
//! memory with the pose of every frame relative to the anchor:
//!
//! * each memory frame → one token: a gated MLP over its latent frames, averaged
//!   (the `FramePool` of the network), plus an embedding of its relative pose and a learned position;
//! * one query token from the action (forward, left, cos/sin yaw, yaw) and Δt;
//! * two pre-norm transformer layers over these tokens;
//! * from the query token: the expected reward (the geodesic-distance reduction in units of
//!   `reward_scale_m`) and the logit of "the target frame is within the success radius", the
//!   probability that STOP there succeeds. With [`RewardForm::PerMetre`] (avwm's default) the
//!   first output is the reward per metre of the action's displacement, and the head returns
//!   it times the displacement's length: a turn or STOP, which leave the geodesic distance
//!   as it was, earns exactly 0.
//!
//! Parameters live under `rhead.` and train jointly with the diffusion loss (their own terms;
//! no gradient reaches the diffusion network, which shares no parameter with the head).

use crate::config::{ModelConfig, RewardForm};
use crate::net::{FramePool, pose_features};
use tch::nn::{self, Init, LinearConfig, Module};
use tch::{Kind, Tensor};

/// Width of the head's tokens.
pub const HEAD_WIDTH: i64 = 128;
/// Attention heads of the head's layers.
const HEAD_HEADS: i64 = 4;
/// Transformer layers of the head.
const HEAD_LAYERS: usize = 2;

fn linear(p: &nn::Path, name: &str, i: i64, o: i64) -> nn::Linear {
    let b = (6.0 / (i + o) as f64).sqrt();
    nn::linear(
        p / name,
        i,
        o,
        LinearConfig {
            ws_init: Init::Uniform { lo: -b, up: b },
            bs_init: Some(Init::Const(0.0)),
            bias: true,
        },
    )
}

fn layer_norm(x: &Tensor) -> Tensor {
    let d = *x.size().last().expect("tokens have a width");
    x.layer_norm([d], None::<&Tensor>, None::<&Tensor>, 1e-5, true)
}

#[derive(Debug)]
struct Layer {
    qkv: nn::Linear,
    proj: nn::Linear,
    fc1: nn::Linear,
    fc2: nn::Linear,
}

impl Layer {
    fn new(p: &nn::Path) -> Layer {
        let w = HEAD_WIDTH;
        Layer {
            qkv: linear(p, "qkv", w, 3 * w),
            proj: linear(p, "proj", w, w),
            fc1: linear(p, "fc1", w, 4 * w),
            fc2: linear(p, "fc2", 4 * w, w),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let s = x.size();
        let (b, n, w) = (s[0], s[1], s[2]);
        let heads = |t: &Tensor| t.view([b, n, HEAD_HEADS, w / HEAD_HEADS]).transpose(1, 2);
        let qkv = self.qkv.forward(&layer_norm(x)).chunk(3, -1);
        let a = Tensor::scaled_dot_product_attention(
            &heads(&qkv[0]),
            &heads(&qkv[1]),
            &heads(&qkv[2]),
            None::<&Tensor>,
            0.0,
            false,
            None,
            false,
        )
        .transpose(1, 2)
        .reshape([b, n, w]);
        let x = x + self.proj.forward(&a);
        let h = self
            .fc2
            .forward(&self.fc1.forward(&layer_norm(&x)).gelu("tanh"));
        x + h
    }
}

/// What the reward head predicts for each row.
#[derive(Debug)]
pub struct RewardEstimate {
    /// Expected reward in units of `reward_scale_m` `[B]`.
    pub mean: Tensor,
    /// Logit of "the target is within the success radius" `[B]`.
    pub success_logit: Tensor,
}

/// The deterministic reward head.
#[derive(Debug)]
pub struct RewardHead {
    audio_dim: i64,
    /// Metres of displacement per action unit, in reward units, where the head predicts the
    /// reward per metre ([`RewardForm::PerMetre`]); `None` for [`RewardForm::Direct`].
    per_unit: Option<f64>,
    pool: FramePool,
    pose: nn::Linear,
    pos: Tensor,
    query: nn::Linear,
    layers: Vec<Layer>,
    out: nn::Linear,
}

impl RewardHead {
    /// Builds the head under `p` for `cfg`'s audio latents and memory.
    pub fn new(p: &nn::Path, cfg: &ModelConfig) -> RewardHead {
        let w = HEAD_WIDTH;
        RewardHead {
            audio_dim: cfg.audio_dim,
            per_unit: (cfg.reward_form == RewardForm::PerMetre)
                .then(|| cfg.action_unit_m / cfg.reward_scale_m),
            pool: FramePool::new(&(p / "pool"), cfg.audio_dim, w),
            pose: linear(p, "pose", 5, w),
            pos: p.var(
                "pos",
                &[cfg.memory() + 1, w],
                Init::Randn {
                    mean: 0.0,
                    stdev: 0.02,
                },
            ),
            query: linear(p, "query", 6, w),
            layers: (0..HEAD_LAYERS)
                .map(|i| Layer::new(&(p / "layers" / i)))
                .collect(),
            out: linear(p, "out", w, 2),
        }
    }

    /// The estimate from the audio memory `[B, M, A, T]` (scaled latents, oldest first; the
    /// head reads the modelled channels, the first `audio_dim`), the
    /// memory frames' poses relative to the anchor `[B, M, 3]`, the aggregated action `[B, 3]`
    /// (forward, left in action units, yaw) and Δt `[B]` (frames).
    pub fn forward(
        &self,
        audio: &Tensor,
        pose: &Tensor,
        action: &Tensor,
        dt: &Tensor,
    ) -> RewardEstimate {
        let m = audio.size()[1];
        let total = self.pos.size()[0];
        let full = audio.size()[2];
        let audio = if full > self.audio_dim {
            audio.narrow(2, 0, self.audio_dim)
        } else {
            audio.shallow_clone()
        };
        let frames = self.pool.forward(&audio)
            + self.pose.forward(&pose_features(pose))
            + self.pos.narrow(0, total - 1 - m, m).unsqueeze(0);
        let yaw = action.select(1, 2);
        let q = Tensor::stack(
            &[
                action.select(1, 0) / 8.0,
                action.select(1, 1) / 8.0,
                yaw.cos(),
                yaw.sin(),
                yaw.shallow_clone(),
                dt.to_kind(Kind::Float) / 16.0,
            ],
            1,
        );
        let query = (self.query.forward(&q) + self.pos.get(total - 1)).unsqueeze(1);
        let mut x = Tensor::cat(&[frames, query], 1);
        for l in &self.layers {
            x = l.forward(&x);
        }
        let o = self.out.forward(&layer_norm(&x.select(1, m)));
        let mean = match self.per_unit {
            None => o.select(1, 0),
            Some(k) => {
                let length =
                    (action
                        .narrow(1, 0, 2)
                        .square()
                        .sum_dim_intlist(1, false, Kind::Float)
                        * (k * k))
                        .sqrt();
                o.select(1, 0) * length
            }
        };
        RewardEstimate {
            mean,
            success_logit: o.select(1, 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn head(form: RewardForm) -> RewardHead {
        let cfg = ModelConfig {
            reward_form: form,
            ..ModelConfig::preset("tiny").unwrap().avwm()
        };
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        RewardHead::new(&vs.root(), &cfg)
    }

    /// Rows: a left turn, STOP, one forward step, two forward steps, a step to the left.
    fn estimate(h: &RewardHead) -> Vec<f64> {
        tch::manual_seed(4);
        let (b, m) = (5, 16);
        let audio = Tensor::randn([b, m, h.audio_dim, 15], (Kind::Float, Device::Cpu));
        let pose = Tensor::randn([b, m, 3], (Kind::Float, Device::Cpu));
        let action = Tensor::from_slice(&[
            0.0f32, 0.0, 0.17, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1.0, 0.0,
        ])
        .view([b, 3]);
        let dt = Tensor::from_slice(&[1i64, 1, 1, 2, 1]);
        let e = tch::no_grad(|| h.forward(&audio, &pose, &action, &dt));
        Vec::<f64>::try_from(e.mean.to_kind(Kind::Double)).unwrap()
    }

    #[test]
    fn per_metre_head_gives_turns_and_stop_exactly_nothing() {
        let r = estimate(&head(RewardForm::PerMetre));
        assert_eq!((r[0], r[1]), (0.0, 0.0), "{r:?}");
        assert!(r[2..].iter().all(|x| x.is_finite() && *x != 0.0), "{r:?}");
        // The same head and inputs, read as the reward itself: nothing forces a turn to 0.
        let d = estimate(&head(RewardForm::Direct));
        assert!(d[0] != 0.0 && d[1] != 0.0, "{d:?}");
        // The per-metre output is the direct one times the displacement (0.15 m per unit).
        for (i, metres) in [(2, 0.15), (3, 0.30), (4, 0.15)] {
            assert!((r[i] - d[i] * metres).abs() < 1e-6, "row {i}: {r:?} {d:?}");
        }
    }
}
