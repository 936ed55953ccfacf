//! SoundSpaces' AV-Nav actor-critic (`ss_baselines/av_nav/ppo/policy.py`: a visual CNN, an audio
//! CNN, a GRU over their concatenation, a linear policy and value), sized for a CPU as
//! `reference/planning.md` §1.4 measured, plus SAVi's goal auxiliary head on the GRU state.
//! Initialisation as SoundSpaces: orthogonal weights (ReLU gain for the encoders, 0.01 for the
//! policy, 1 for the value), zero biases.

use crate::config::{AUX_OUTPUTS, AgentConfig, NetConfig, SPEC_BINS, SPEC_CHANNELS, SPEC_FRAMES};
use crate::obs::{AgentObs, rgb_input, spectrogram, stack};
use crate::{AgentError, Result};
use avwm_nn::ckpt;
use std::path::Path;
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

/// File name of an agent's weights inside its folder.
pub const WEIGHTS_FILE: &str = "agent.safetensors";
/// File name of an agent's [`AgentConfig`] inside its folder.
pub const CONFIG_FILE: &str = "agent.json";

/// The network's outputs for one step of a batch.
#[derive(Debug)]
pub struct StepOut {
    /// `[B, 4]` action logits (STOP, FORWARD, LEFT, RIGHT).
    pub logits: Tensor,
    /// `[B]` state values.
    pub value: Tensor,
    /// `[B, 3]` goal auxiliary prediction.
    pub aux: Tensor,
    /// `[B, H]` the new recurrent state.
    pub hidden: Tensor,
}

/// The actor-critic.
#[derive(Debug)]
pub struct AgentNet {
    cfg: NetConfig,
    visual: nn::Sequential,
    audio: nn::Sequential,
    gru_ih: nn::Linear,
    gru_hh: nn::Linear,
    actor: nn::Linear,
    critic: nn::Linear,
    aux: nn::Linear,
}

fn conv(p: nn::Path, cin: i64, cout: i64, k: [i64; 2], s: i64) -> nn::Conv2D {
    let c = nn::ConvConfigND::<[i64; 2]> {
        stride: [s, s],
        bs_init: nn::Init::Const(0.0),
        ..Default::default()
    };
    let mut conv = nn::conv(p, cin, cout, k, c);
    // tch's orthogonal initialiser returns the flattened matrix without restoring a convolution
    // kernel's four dimensions, so the kernel is drawn flat here and reshaped.
    let flat = nn::init(
        nn::Init::Orthogonal { gain: 2f64.sqrt() },
        &[cout, cin * k[0] * k[1]],
        conv.ws.device(),
    );
    tch::no_grad(|| {
        conv.ws.copy_(&flat.view([cout, cin, k[0], k[1]]));
    });
    conv
}

fn linear(p: nn::Path, i: i64, o: i64, gain: f64) -> nn::Linear {
    nn::linear(
        p,
        i,
        o,
        nn::LinearConfig {
            ws_init: nn::Init::Orthogonal { gain },
            bs_init: Some(nn::Init::Const(0.0)),
            bias: true,
        },
    )
}

impl AgentNet {
    /// Builds the network under `p` (on its device).
    pub fn new(p: &nn::Path, cfg: &NetConfig) -> AgentNet {
        let [v1, v2, v3] = cfg.visual_channels;
        let mut visual = nn::seq()
            .add(conv(p / "v0", 3, v1, [8, 8], 4))
            .add_fn(|x| x.relu())
            .add(conv(p / "v1", v1, v2, [4, 4], 2))
            .add_fn(|x| x.relu())
            .add(conv(p / "v2", v2, v3, [3, 3], 1))
            .add_fn(|x| x.relu().flatten(1, -1));
        let [a1, a2, a3] = cfg.audio_channels;
        let mut audio = nn::seq()
            .add(conv(p / "a0", SPEC_CHANNELS, a1, [5, 5], 2))
            .add_fn(|x| x.relu())
            .add(conv(p / "a1", a1, a2, [3, 3], 2))
            .add_fn(|x| x.relu())
            .add(conv(p / "a2", a2, a3, [3, 3], 1))
            .add_fn(|x| x.relu().flatten(1, -1));
        // Flattened sizes: each valid convolution maps n to (n − k) / s + 1.
        let out = |n: i64, k: i64, st: i64| (n - k) / st + 1;
        let vs = out(out(out(cfg.image_size, 8, 4), 4, 2), 3, 1);
        let vflat = v3 * vs * vs;
        let (af, at) = (
            out(out(out(SPEC_BINS, 5, 2), 3, 2), 3, 1),
            out(out(out(SPEC_FRAMES, 5, 2), 3, 2), 3, 1),
        );
        let aflat = a3 * af * at;
        let relu = 2f64.sqrt();
        visual = visual
            .add(linear(p / "v_fc", vflat, cfg.visual_embed, relu))
            .add_fn(|x| x.relu());
        audio = audio
            .add(linear(p / "a_fc", aflat, cfg.audio_embed, relu))
            .add_fn(|x| x.relu());
        let input = cfg.visual_embed + cfg.audio_embed;
        let h = cfg.hidden;
        AgentNet {
            cfg: *cfg,
            visual,
            audio,
            gru_ih: linear(p / "gru_ih", input, 3 * h, 1.0),
            gru_hh: linear(p / "gru_hh", h, 3 * h, 1.0),
            actor: linear(p / "actor", h, 4, 0.01),
            critic: linear(p / "critic", h, 1, 1.0),
            aux: linear(p / "aux", h, AUX_OUTPUTS, 1.0),
        }
    }

    /// The sizes.
    pub fn config(&self) -> &NetConfig {
        &self.cfg
    }

    /// A zero recurrent state for `batch` agents.
    pub fn initial_hidden(&self, batch: i64, device: Device) -> Tensor {
        Tensor::zeros([batch, self.cfg.hidden], (Kind::Float, device))
    }

    /// Embeds a batch of observations: `[B, 3, S, S]` uint8 images and `[B, 2, 2400]` audio →
    /// `[B, E]`.
    pub fn encode(&self, rgb_u8: &Tensor, audio: &Tensor) -> Tensor {
        let v = self.visual.forward(&rgb_input(rgb_u8));
        let a = self.audio.forward(&spectrogram(audio));
        Tensor::cat(&[v, a], 1)
    }

    /// One GRU step.
    pub fn recur(&self, x: &Tensor, h: &Tensor) -> Tensor {
        let gi = self.gru_ih.forward(x).chunk(3, 1);
        let gh = self.gru_hh.forward(h).chunk(3, 1);
        let r = (&gi[0] + &gh[0]).sigmoid();
        let z = (&gi[1] + &gh[1]).sigmoid();
        let n = (&gi[2] + r * &gh[2]).tanh();
        (1.0 - &z) * n + z * h
    }

    /// Policy logits, value and auxiliary prediction of recurrent states `[.., H]`.
    pub fn heads(&self, h: &Tensor) -> (Tensor, Tensor, Tensor) {
        (
            self.actor.forward(h),
            self.critic.forward(h).squeeze_dim(-1),
            self.aux.forward(h),
        )
    }

    /// One step for a batch: encode, recur from `hidden`, read the heads.
    pub fn step(&self, rgb_u8: &Tensor, audio: &Tensor, hidden: &Tensor) -> StepOut {
        let x = self.encode(rgb_u8, audio);
        let h = self.recur(&x, hidden);
        let (logits, value, aux) = self.heads(&h);
        StepOut {
            logits,
            value,
            aux,
            hidden: h,
        }
    }

    /// Runs whole sequences: `[T, B, …]` observations, `[T, B]` masks (0 where an episode starts,
    /// resetting the state) from `[B, H]` states. Returns `[T, B, 4]` logits, `[T, B]` values and
    /// `[T, B, 3]` auxiliary predictions. The encoders run on all T·B frames at once.
    pub fn sequence(
        &self,
        rgb_u8: &Tensor,
        audio: &Tensor,
        masks: &Tensor,
        h0: &Tensor,
    ) -> (Tensor, Tensor, Tensor) {
        let s = rgb_u8.size();
        let (t, b) = (s[0], s[1]);
        let x = self
            .encode(&rgb_u8.flatten(0, 1), &audio.flatten(0, 1))
            .view([t, b, -1]);
        let mut h = h0.shallow_clone();
        let mut hs = Vec::with_capacity(t as usize);
        for i in 0..t {
            h = masks.get(i).unsqueeze(1) * &h;
            h = self.recur(&x.get(i), &h);
            hs.push(h.shallow_clone());
        }
        self.heads(&Tensor::stack(&hs, 0))
    }
}

/// A trained agent: its configuration, weights and network.
#[derive(Debug)]
pub struct Agent {
    /// What it is.
    pub config: AgentConfig,
    /// The weights.
    pub vs: nn::VarStore,
    /// The network.
    pub net: AgentNet,
}

/// What the agent makes of a batch of observations ([`Agent::perceive`]).
#[derive(Debug)]
pub struct Perceived {
    /// `[B, H]` the new recurrent states.
    pub hidden: Tensor,
    /// The policy's log-probabilities, 4 per observation (STOP, FORWARD, LEFT, RIGHT).
    pub logp: Vec<f32>,
    /// The critic's value of every observation.
    pub value: Vec<f32>,
}

impl Agent {
    /// Perceives `obs` from the recurrent states `hidden` (`[B, H]`, one row per observation),
    /// without gradients: the new states, the policy and the values, on the CPU.
    ///
    /// # Errors
    /// [`AgentError::Model`] when the outputs cannot be read.
    pub fn perceive(&self, obs: &[&AgentObs], hidden: &Tensor) -> Result<Perceived> {
        let device = self.vs.device();
        let (rgb, audio) = stack(obs, self.config.net.image_size as usize);
        let out = tch::no_grad(|| {
            self.net
                .step(&rgb.to_device(device), &audio.to_device(device), hidden)
        });
        let read = |t: Tensor, what: &str| -> Result<Vec<f32>> {
            Vec::try_from(t.to_device(Device::Cpu).flatten(0, -1))
                .map_err(|e| AgentError::Model(format!("reading the {what}: {e}")))
        };
        Ok(Perceived {
            logp: read(out.logits.log_softmax(-1, Kind::Float), "policy")?,
            value: read(out.value, "value")?,
            hidden: out.hidden,
        })
    }

    /// A freshly initialised agent (weights from the current torch seed).
    pub fn new(config: AgentConfig, device: Device) -> Result<Agent> {
        config.net.validate()?;
        let vs = nn::VarStore::new(device);
        let net = AgentNet::new(&vs.root(), &config.net);
        Ok(Agent { config, vs, net })
    }

    /// Number of parameters.
    pub fn parameters(&self) -> i64 {
        self.vs
            .trainable_variables()
            .iter()
            .map(|t| t.numel() as i64)
            .sum()
    }

    /// Loads an agent folder (`agent.json` + `agent.safetensors`).
    ///
    /// # Errors
    /// A missing or corrupt file, or weights that do not fit the configuration (named).
    pub fn load(dir: &Path, device: Device) -> Result<Agent> {
        let cfg_path = dir.join(CONFIG_FILE);
        if !cfg_path.is_file() {
            return Err(AgentError::Config(format!(
                "{} is not an agent folder: {} is missing",
                dir.display(),
                CONFIG_FILE
            )));
        }
        let config: AgentConfig = ckpt::read_json(&cfg_path)?;
        let mut agent = Agent::new(config, device)?;
        ckpt::load_var_store(&mut agent.vs, &dir.join(WEIGHTS_FILE), false)?;
        Ok(agent)
    }

    /// Writes the agent folder atomically, file by file (`agent.json` last).
    ///
    /// # Errors
    /// I/O.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|source| AgentError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        ckpt::save_var_store(&self.vs, &dir.join(WEIGHTS_FILE))?;
        ckpt::write_json(&dir.join(CONFIG_FILE), &self.config)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> Agent {
        tch::manual_seed(0);
        Agent::new(
            AgentConfig {
                net: NetConfig::default(),
                sim_preset: "default".into(),
                data_preset: "small".into(),
            },
            Device::Cpu,
        )
        .unwrap()
    }

    #[test]
    fn about_one_million_parameters() {
        let n = agent().parameters();
        assert!((800_000..1_300_000).contains(&n), "{n} parameters");
    }

    #[test]
    fn sequence_equals_stepping_with_resets() {
        let a = agent();
        let (t, b) = (5, 2);
        tch::manual_seed(1);
        let rgb = Tensor::randint(255, [t, b, 3, 64, 64], (Kind::Uint8, Device::Cpu));
        let audio = Tensor::randn([t, b, 2, 2400], (Kind::Float, Device::Cpu)) * 0.01;
        let mut m = vec![1f32; (t * b) as usize];
        m[(2 * b + 1) as usize] = 0.0; // env 1 starts a new episode at t = 2
        let masks = Tensor::from_slice(&m).view([t, b]);
        let h0 = Tensor::randn([b, 256], (Kind::Float, Device::Cpu)) * 0.1;
        let (logits, values, _) = tch::no_grad(|| a.net.sequence(&rgb, &audio, &masks, &h0));
        let mut h = h0.shallow_clone();
        for i in 0..t {
            h = &h * masks.get(i).unsqueeze(1);
            let out = tch::no_grad(|| a.net.step(&rgb.get(i), &audio.get(i), &h));
            h = out.hidden;
            let d = (out.logits - logits.get(i)).abs().max().double_value(&[]);
            let dv = (out.value - values.get(i)).abs().max().double_value(&[]);
            assert!(d < 1e-5 && dv < 1e-5, "t {i}: {d} {dv}");
        }
    }

    #[test]
    fn save_load_round_trip_and_missing_folder_is_named() {
        let a = agent();
        let dir = tempfile::tempdir().unwrap();
        a.save(dir.path()).unwrap();
        let b = Agent::load(dir.path(), Device::Cpu).unwrap();
        assert_eq!(a.config, b.config);
        let x = Tensor::ones([1, 256], (Kind::Float, Device::Cpu));
        let (la, _, _) = a.net.heads(&x);
        let (lb, _, _) = b.net.heads(&x);
        assert_eq!(
            Vec::<f32>::try_from(la.flatten(0, -1)).unwrap(),
            Vec::<f32>::try_from(lb.flatten(0, -1)).unwrap()
        );
        let e = Agent::load(&dir.path().join("nope"), Device::Cpu).unwrap_err();
        assert!(e.to_string().contains("agent.json is missing"), "{e}");
    }
}
