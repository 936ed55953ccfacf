use crate::codec::{Codec, CodecConfig};
use crate::mdct::{Mdct, MdctConfig};
use crate::vae::{Vae, VaeConfig};
use crate::{Result, TokError};
use avwm_nn::ckpt;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::nn::VarStore;
use tch::{Device, Tensor};

/// Which sense a tokenizer encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    /// RGB images.
    Visual,
    /// Binaural audio segments.
    Audio,
}

impl std::str::FromStr for Modality {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Modality, String> {
        match s {
            "visual" => Ok(Modality::Visual),
            "audio" => Ok(Modality::Audio),
            _ => Err(format!("unknown modality `{s}` (visual or audio)")),
        }
    }
}

/// Architecture of a tokenizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "modality", rename_all = "lowercase")]
pub enum Arch {
    /// The visual autoencoder.
    Visual(VaeConfig),
    /// The audio autoencoder.
    Audio(CodecConfig),
    /// The spectral audio tokenizer (lossless lapped transform, band levels and shapes).
    #[serde(rename = "audio_mdct")]
    AudioMdct(MdctConfig),
}

impl Arch {
    /// The modality.
    pub fn modality(&self) -> Modality {
        match self {
            Arch::Visual(_) => Modality::Visual,
            Arch::Audio(_) | Arch::AudioMdct(_) => Modality::Audio,
        }
    }

    /// The latent scale factor.
    pub fn scaling_factor(&self) -> f64 {
        match self {
            Arch::Visual(c) => c.scaling_factor,
            Arch::Audio(c) => c.scaling_factor,
            Arch::AudioMdct(c) => c.scaling_factor,
        }
    }

    /// Sets the latent scale factor.
    pub fn set_scaling_factor(&mut self, s: f64) {
        match self {
            Arch::Visual(c) => c.scaling_factor = s,
            Arch::Audio(c) => c.scaling_factor = s,
            Arch::AudioMdct(c) => c.scaling_factor = s,
        }
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`TokError::Config`].
    pub fn validate(&self) -> Result<()> {
        match self {
            Arch::Visual(c) => c.validate(),
            Arch::Audio(c) => c.validate(),
            Arch::AudioMdct(c) => c.validate(),
        }
        .map_err(TokError::Config)
    }

    /// A lower bound on the number of parameters of the network (see each configuration's
    /// `min_parameters`), computed without building it. Call on a valid architecture.
    pub fn min_parameters(&self) -> u128 {
        match self {
            Arch::Visual(c) => c.min_parameters(),
            Arch::Audio(c) => c.min_parameters(),
            Arch::AudioMdct(c) => c.min_parameters(),
        }
    }
}

/// The JSON file beside a tokenizer's weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenizerMeta {
    /// Always `avwm-tokenizer`.
    pub format: String,
    /// Architecture, including the latent scale factor.
    pub arch: Arch,
    /// Optimisation steps the weights had.
    pub steps: u64,
    /// Free-form provenance (run folder, data, seed, measured quality).
    #[serde(default)]
    pub provenance: serde_json::Value,
}

/// Format tag of [`TokenizerMeta`].
pub const TOKENIZER_FORMAT: &str = "avwm-tokenizer";

enum Net {
    Visual(Box<Vae>),
    Audio(Box<Codec>),
    Mdct(Box<Mdct>),
}

/// A tokenizer: its weights and network.
pub struct Tokenizer {
    /// The variables (weights).
    pub vs: VarStore,
    net: Net,
    /// Architecture and provenance.
    pub meta: TokenizerMeta,
}

impl Tokenizer {
    /// A freshly initialised tokenizer (libtorch's generator must have been seeded).
    ///
    /// # Errors
    /// [`TokError::Config`] for an invalid architecture.
    pub fn new(arch: Arch, device: Device) -> Result<Tokenizer> {
        arch.validate()?;
        let vs = VarStore::new(device);
        let net = match &arch {
            Arch::Visual(c) => Net::Visual(Box::new(Vae::new(&vs.root(), c))),
            Arch::Audio(c) => Net::Audio(Box::new(Codec::new(&vs.root(), c))),
            Arch::AudioMdct(c) => Net::Mdct(Box::new(Mdct::new(&vs.root(), c))),
        };
        Ok(Tokenizer {
            vs,
            net,
            meta: TokenizerMeta {
                format: TOKENIZER_FORMAT.into(),
                arch,
                steps: 0,
                provenance: serde_json::Value::Null,
            },
        })
    }

    /// The weights file and the JSON file of a tokenizer called `path` (with or without either
    /// extension): `x.safetensors` and `x.json`.
    pub fn files(path: &Path) -> (PathBuf, PathBuf) {
        let stem = match path.extension().and_then(|e| e.to_str()) {
            Some("safetensors") | Some("json") => path.with_extension(""),
            _ => path.to_path_buf(),
        };
        (
            stem.with_extension("safetensors"),
            stem.with_extension("json"),
        )
    }

    /// Loads a tokenizer saved by [`Tokenizer::save`] (frozen: no gradients).
    ///
    /// # Errors
    /// Missing files, a JSON that is not a tokenizer, or weights that do not match it.
    pub fn load(path: &Path, device: Device) -> Result<Tokenizer> {
        let (weights, json) = Tokenizer::files(path);
        let meta: TokenizerMeta = ckpt::read_json(&json)?;
        if meta.format != TOKENIZER_FORMAT {
            return Err(TokError::Config(format!(
                "{}: format is `{}`, expected `{TOKENIZER_FORMAT}`",
                json.display(),
                meta.format
            )));
        }
        // Read the weights before building the network (a config far larger than its weights
        // is refused before libtorch allocates it).
        meta.arch
            .validate()
            .map_err(|e| TokError::Config(format!("{}: {e}", json.display())))?;
        let tensors = ckpt::load_tensors_for(&weights, &json, meta.arch.min_parameters())?;
        let mut tok = Tokenizer::new(meta.arch.clone(), device)?;
        ckpt::fill_var_store(&mut tok.vs, tensors, &weights, false)?;
        tok.vs.freeze();
        tok.meta = meta;
        Ok(tok)
    }

    /// Writes `<path>.safetensors` and `<path>.json` atomically.
    ///
    /// # Errors
    /// I/O.
    pub fn save(&self, path: &Path) -> Result<()> {
        let (weights, json) = Tokenizer::files(path);
        ckpt::save_var_store(&self.vs, &weights)?;
        ckpt::write_json(&json, &self.meta)?;
        Ok(())
    }

    /// The modality.
    pub fn modality(&self) -> Modality {
        self.meta.arch.modality()
    }

    /// The visual network, if this is a visual tokenizer.
    pub fn vae(&self) -> Option<&Vae> {
        match &self.net {
            Net::Visual(v) => Some(v),
            Net::Audio(_) | Net::Mdct(_) => None,
        }
    }

    /// The audio network, if this is an audio tokenizer.
    pub fn codec(&self) -> Option<&Codec> {
        match &self.net {
            Net::Audio(c) => Some(c),
            Net::Visual(_) | Net::Mdct(_) => None,
        }
    }

    /// The spectral audio tokenizer, if this is one.
    pub fn mdct(&self) -> Option<&Mdct> {
        match &self.net {
            Net::Mdct(m) => Some(m),
            _ => None,
        }
    }

    /// The spectral audio tokenizer, mutably (to fit its statistics).
    pub fn mdct_mut(&mut self) -> Option<&mut Mdct> {
        match &mut self.net {
            Net::Mdct(m) => Some(m),
            _ => None,
        }
    }

    /// Whether the tokenizer has weights to learn by gradient descent (the spectral tokenizer
    /// only fits two statistics).
    pub fn is_learned(&self) -> bool {
        !matches!(self.net, Net::Mdct(_))
    }

    /// Encodes a batch to `(mean, log-variance)` of the latent, unscaled. Images `[B, 3, H, W]` in
    /// [−1, 1] give `[B, 4, H/8, W/8]` each; audio `[B, 2, T]` gives a deterministic latent
    /// `[B, D, T/hop]` whose log-variance is `None`.
    pub fn encode(&self, x: &Tensor) -> (Tensor, Option<Tensor>) {
        match &self.net {
            Net::Visual(v) => {
                let (m, lv) = v.encode(x);
                (m, Some(lv))
            }
            Net::Audio(c) => (c.encode(x), None),
            Net::Mdct(m) => (m.encode(x), None),
        }
    }

    /// Decodes unscaled latents.
    pub fn decode(&self, z: &Tensor) -> Tensor {
        match &self.net {
            Net::Visual(v) => v.decode(z),
            Net::Audio(c) => c.decode(z),
            Net::Mdct(m) => m.decode(z),
        }
    }

    /// Encode then decode (the posterior mean for the visual tokenizer).
    pub fn reconstruct(&self, x: &Tensor) -> Tensor {
        let (m, _) = self.encode(x);
        self.decode(&m)
    }
}
