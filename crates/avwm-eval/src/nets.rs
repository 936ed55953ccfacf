//! [`FeatureNets`]: the user-supplied TorchScript feature networks and the metrics built on them.
//!
//! A directory (`--feature-nets DIR`) holds any subset of these files; each absent network makes the
//! metrics built on it [`Metric::NotComputed`]:
//!
//! | file | metric | input | output |
//! |---|---|---|---|
//! | [`INCEPTION_FILE`] | FID | `[B, 3, H, W]` f32 RGB in `[0, 1]`, any `H, W` | `[B, 2048]` (or `[B, 2048, 1, 1]`, or a list/tuple whose first item is that) |
//! | [`LPIPS_FILE`] + [`LPIPS_LIN_FILE`] | LPIPS | `[B, 3, H, W]` f32 RGB in `[−1, 1]`, `H, W ≥ 31` | a tuple/list of the 5 AlexNet ReLU maps `[B, C_l, H_l, W_l]`, `C = 64, 192, 384, 256, 256`, or one `[B, Σ C_l H_l W_l]` tensor of them flattened and concatenated |
//! | [`DREAMSIM_FILE`] | DreamSim | `[B, 3, 224, 224]` f32 RGB in `[0, 1]` | `[B, D]` embeddings |
//! | [`VGGISH_FILE`] | FAD | `[K, 1, 96, 64]` f32 log-mel examples ([`crate::audio`]) | `[K, 128]` embeddings |
//!
//! Preprocessing on our side (images arrive as `[N, 3, H, W]` uint8 or float in `[0, 1]`):
//! - **FID** (pytorch-fid convention): uint8 → f32 / 255, nothing else. The exported pytorch-fid
//!   `InceptionV3(resize_input=True, normalize_input=True)` does the bilinear resize to 299 × 299
//!   (`align_corners=False`) and the scaling to `[−1, 1]` itself, exactly as in pytorch-fid.
//! - **LPIPS** (lpips v0.1, `net='alex'`, `normalize=True` semantics): `x ↦ 2x − 1`; the module
//!   contains lpips' `ScalingLayer` and AlexNet's feature slices. We then do the rest, in f64, as
//!   lpips does: unit-normalise each map along channels (`f / (√Σ_c f² + 1e-10)`), square the
//!   difference, weight channels with the layer's non-negative 1 × 1 linear weights (from
//!   [`LPIPS_LIN_FILE`]), average over space, sum over the 5 layers. No resizing (lpips does none).
//! - **DreamSim**: bicubic resize to 224 × 224 with PIL's kernel (libtorch's antialiased bicubic,
//!   `a = −0.5`, as PIL's `Image.resize(BICUBIC)` in dreamsim's preprocessing), clamp to `[0, 1]`
//!   and round to multiples of 1/255 (PIL's output is uint8). Distance `1 − cos(e_a, e_b)`
//!   (`eps = 1e-8`), as `PerceptualModel.forward`.
//! - **FAD**: see [`crate::audio`]; per channel (left, right), then the two distances are averaged.

use std::path::{Path, PathBuf};

use tch::{CModule, Device, IValue, Kind, Tensor};

use crate::audio::{StereoClip, log_mel_examples};
use crate::frechet::frechet_distance_features;
use crate::{EvalError, FeatureMetrics, Metric, Result};

/// pytorch-fid InceptionV3 (2048-d pool features) for FID.
pub const INCEPTION_FILE: &str = "inception.pt";
/// lpips' AlexNet (ScalingLayer + the 5 feature slices) for LPIPS.
pub const LPIPS_FILE: &str = "lpips_alex.pt";
/// lpips' 5 linear-layer weights, keys `lin0` … `lin4`, each `[1, C_l, 1, 1]` (or `[C_l]`), ≥ 0.
pub const LPIPS_LIN_FILE: &str = "lpips_alex_lin.safetensors";
/// DreamSim's embedding network.
pub const DREAMSIM_FILE: &str = "dreamsim.pt";
/// VGGish's network (without its NumPy front end and without PCA/quantisation).
pub const VGGISH_FILE: &str = "vggish.pt";
/// Dimension of the Inception features FID uses.
pub const INCEPTION_DIM: i64 = 2048;
/// Dimension of VGGish embeddings.
pub const VGGISH_DIM: i64 = 128;
/// Channels of lpips' 5 AlexNet feature maps (relu1 … relu5).
pub const ALEX_CHANNELS: [i64; 5] = [64, 192, 384, 256, 256];
/// DreamSim's input side.
pub const DREAMSIM_SIZE: i64 = 224;
/// lpips' epsilon in the channel normalisation.
pub const LPIPS_EPS: f64 = 1e-10;

/// lpips' AlexNet and its linear-layer weights.
#[derive(Debug)]
pub struct Lpips {
    net: CModule,
    lins: Vec<Tensor>,
}

impl Lpips {
    /// The 5 linear-layer weights, `[C_l]` f64 each.
    pub fn lins(&self) -> &[Tensor] {
        &self.lins
    }
}

/// The feature networks found in a directory (each optional) and the metrics built on them.
#[derive(Debug)]
pub struct FeatureNets {
    inception: Option<CModule>,
    lpips: Option<Lpips>,
    dreamsim: Option<CModule>,
    vggish: Option<CModule>,
    device: Device,
    /// Images (or VGGish examples) per forward call.
    pub batch_size: i64,
}

fn net_err(file: &str, msg: impl Into<String>) -> EvalError {
    EvalError::Network {
        file: file.to_string(),
        msg: msg.into(),
    }
}

fn load_module(dir: &Path, file: &str, device: Device) -> Result<Option<CModule>> {
    let path = dir.join(file);
    if !path.exists() {
        return Ok(None);
    }
    let mut m = CModule::load_on_device(&path, device)
        .map_err(|e| net_err(file, format!("loading {}: {e}", path.display())))?;
    m.f_set_eval()?;
    Ok(Some(m))
}

fn load_lins(path: &Path) -> Result<Vec<Tensor>> {
    let named = Tensor::read_safetensors(path)
        .map_err(|e| net_err(LPIPS_LIN_FILE, format!("reading {}: {e}", path.display())))?;
    let mut lins = Vec::with_capacity(5);
    for (l, &c) in ALEX_CHANNELS.iter().enumerate() {
        let key = format!("lin{l}");
        let w = named
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, t)| t)
            .ok_or_else(|| net_err(LPIPS_LIN_FILE, format!("no tensor '{key}'")))?;
        if w.numel() != c as usize {
            return Err(net_err(
                LPIPS_LIN_FILE,
                format!("'{key}' has shape {:?}, expected [1, {c}, 1, 1]", w.size()),
            ));
        }
        let w = w.to_kind(Kind::Double).reshape([c]);
        if w.isfinite().all().int64_value(&[]) != 1 || w.min().double_value(&[]) < 0.0 {
            return Err(net_err(
                LPIPS_LIN_FILE,
                format!("'{key}' must be finite and ≥ 0"),
            ));
        }
        lins.push(w);
    }
    Ok(lins)
}

/// Converts images `[N, 3, H, W]` (uint8 0–255, or float in `[0, 1]`) to f32 in `[0, 1]`.
pub fn to_unit_images(images: &Tensor) -> Result<Tensor> {
    let size = images.size();
    if size.len() != 4 || size[1] != 3 || size[0] < 1 {
        return Err(EvalError::Input(format!(
            "images must be [N ≥ 1, 3, H, W], got {size:?}"
        )));
    }
    match images.kind() {
        Kind::Uint8 => Ok(images.to_kind(Kind::Float) / 255.0),
        Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16 => {
            let x = images.to_kind(Kind::Float);
            if x.isfinite().all().int64_value(&[]) != 1 {
                return Err(EvalError::NonFinite("images".into()));
            }
            let (lo, hi) = (x.min().double_value(&[]), x.max().double_value(&[]));
            if lo < -1e-6 || hi > 1.0 + 1e-6 {
                return Err(EvalError::Input(format!(
                    "float images must be in [0, 1], got [{lo}, {hi}]"
                )));
            }
            Ok(x.clamp(0.0, 1.0))
        }
        k => Err(EvalError::Input(format!("images of kind {k:?}"))),
    }
}

/// Packs RGB images (`width · height · 3` bytes each, row-major, as `avwm_core::RgbImage::data`)
/// into a `[N, 3, H, W]` uint8 tensor.
pub fn images_from_rgb(images: &[&[u8]], width: usize, height: usize) -> Result<Tensor> {
    if images.is_empty() {
        return Err(EvalError::Input("no images".into()));
    }
    let mut all = Vec::with_capacity(images.len() * width * height * 3);
    for img in images {
        if img.len() != width * height * 3 {
            return Err(EvalError::Input(format!(
                "an image of {} bytes is not {width}×{height}×3",
                img.len()
            )));
        }
        all.extend_from_slice(img);
    }
    Ok(Tensor::from_slice(&all)
        .view([images.len() as i64, height as i64, width as i64, 3])
        .permute([0, 3, 1, 2])
        .contiguous())
}

/// Spatial sizes `(H_l, W_l)` of lpips' 5 AlexNet maps for an `H × W` input (conv1 k11 s4 p2,
/// max-pool k3 s2, conv2 k5 p2, max-pool k3 s2, conv3–5 k3 p1).
pub fn alexnet_feature_sizes(h: i64, w: i64) -> Result<[(i64, i64); 5]> {
    let f = |x: i64| -> Option<[i64; 3]> {
        let c1 = (x + 4 - 11).checked_div(4)? + 1;
        if x + 4 < 11 || c1 < 3 {
            return None;
        }
        let p1 = (c1 - 3) / 2 + 1;
        if p1 < 3 {
            return None;
        }
        let p2 = (p1 - 3) / 2 + 1;
        Some([c1, p1, p2])
    };
    match (f(h), f(w)) {
        (Some(a), Some(b)) => Ok([
            (a[0], b[0]),
            (a[1], b[1]),
            (a[2], b[2]),
            (a[2], b[2]),
            (a[2], b[2]),
        ]),
        _ => Err(EvalError::Input(format!(
            "{h}×{w} images are too small for AlexNet (≥ 31 px)"
        ))),
    }
}

/// Splits a `[B, Σ C_l H_l W_l]` tensor (the 5 AlexNet maps flattened and concatenated) of an
/// `h × w` input back into the 5 maps.
pub fn split_alexnet_features(flat: &Tensor, h: i64, w: i64) -> Result<Vec<Tensor>> {
    let sizes = alexnet_feature_sizes(h, w)?;
    let size = flat.size();
    let total: i64 = sizes
        .iter()
        .zip(ALEX_CHANNELS)
        .map(|((a, b), c)| a * b * c)
        .sum();
    if size.len() != 2 || size[1] != total {
        return Err(net_err(
            LPIPS_FILE,
            format!("flat output {size:?} for a {h}×{w} input, expected [B, {total}]"),
        ));
    }
    let mut out = Vec::with_capacity(5);
    let mut off = 0;
    for ((a, b), c) in sizes.into_iter().zip(ALEX_CHANNELS) {
        out.push(flat.narrow(1, off, c * a * b).reshape([size[0], c, a, b]));
        off += c * a * b;
    }
    Ok(out)
}

/// Interprets an LPIPS module's output for an `h × w` input as the 5 AlexNet maps (f64),
/// checking their channel counts.
pub fn alexnet_feature_maps(out: IValue, h: i64, w: i64) -> Result<Vec<Tensor>> {
    let maps = match out {
        IValue::Tensor(t) => split_alexnet_features(&t, h, w)?,
        IValue::TensorList(v) => v,
        IValue::Tuple(v) | IValue::GenericList(v) => v
            .into_iter()
            .map(|i| match i {
                IValue::Tensor(t) => Ok(t),
                other => Err(net_err(
                    LPIPS_FILE,
                    format!("output item {other:?} is not a tensor"),
                )),
            })
            .collect::<Result<_>>()?,
        other => return Err(net_err(LPIPS_FILE, format!("unexpected output {other:?}"))),
    };
    if maps.len() != 5 {
        return Err(net_err(
            LPIPS_FILE,
            format!("{} feature maps, expected 5", maps.len()),
        ));
    }
    maps.into_iter()
        .zip(ALEX_CHANNELS)
        .enumerate()
        .map(|(l, (m, c))| {
            let s = m.size();
            if s.len() != 4 || s[1] != c {
                return Err(net_err(
                    LPIPS_FILE,
                    format!("map {l} is {s:?}, expected [B, {c}, H, W]"),
                ));
            }
            Ok(m.to_device(Device::Cpu).to_kind(Kind::Double))
        })
        .collect()
}

/// lpips' channel normalisation: `f / (√Σ_c f² + 1e-10)` along dimension 1.
pub fn normalize_channels(f: &Tensor) -> Tensor {
    let norm = f.square().sum_dim_intlist(1, true, f.kind()).sqrt();
    f / (norm + LPIPS_EPS)
}

/// LPIPS from two lists of feature maps `[B, C_l, H_l, W_l]` and per-layer channel weights `[C_l]`:
/// `Σ_l mean_{h,w} Σ_c w_{l,c} (n0 − n1)²` with `n = normalize_channels(f)`. Returns `[B]` f64.
pub fn lpips_from_features(f0: &[Tensor], f1: &[Tensor], lins: &[Tensor]) -> Result<Tensor> {
    if f0.len() != f1.len() || f0.len() != lins.len() || f0.is_empty() {
        return Err(EvalError::Input(format!(
            "{} and {} feature maps for {} weight vectors",
            f0.len(),
            f1.len(),
            lins.len()
        )));
    }
    let mut total: Option<Tensor> = None;
    for ((a, b), w) in f0.iter().zip(f1).zip(lins) {
        if a.size() != b.size() || a.dim() != 4 || w.numel() as i64 != a.size()[1] {
            return Err(EvalError::Input(format!(
                "feature maps {:?} and {:?} with {} weights",
                a.size(),
                b.size(),
                w.numel()
            )));
        }
        let a = a.to_kind(Kind::Double);
        let b = b.to_kind(Kind::Double);
        let d = (normalize_channels(&a) - normalize_channels(&b)).square();
        let w = w
            .to_device(a.device())
            .to_kind(Kind::Double)
            .reshape([1, -1, 1, 1]);
        let layer = (d * w).sum_dim_intlist(1, false, Kind::Double).mean_dim(
            [1i64, 2].as_slice(),
            false,
            Kind::Double,
        );
        total = Some(match total {
            Some(t) => t + layer,
            None => layer,
        });
    }
    Ok(total.expect("at least one layer").to_device(Device::Cpu))
}

fn single_tensor(out: IValue, file: &str) -> Result<Tensor> {
    match out {
        IValue::Tensor(t) => Ok(t),
        IValue::TensorList(mut v) if !v.is_empty() => Ok(v.swap_remove(0)),
        IValue::Tuple(v) | IValue::GenericList(v) => match v.into_iter().next() {
            Some(IValue::Tensor(t)) => Ok(t),
            _ => Err(net_err(file, "output list does not start with a tensor")),
        },
        other => Err(net_err(file, format!("unexpected output {other:?}"))),
    }
}

fn mean_of(t: &Tensor) -> f64 {
    t.to_kind(Kind::Double).mean(Kind::Double).double_value(&[])
}

/// DreamSim's preprocessing of `[N, 3, H, W]` f32 images in `[0, 1]`: PIL-style bicubic resize to
/// 224 × 224, clamp, round to multiples of 1/255.
pub fn dreamsim_preprocess(images: &Tensor) -> Tensor {
    let s = images.size();
    let x = if s[2] == DREAMSIM_SIZE && s[3] == DREAMSIM_SIZE {
        images.shallow_clone()
    } else {
        images.internal_upsample_bicubic2d_aa([DREAMSIM_SIZE, DREAMSIM_SIZE], false, None, None)
    };
    (x.clamp(0.0, 1.0) * 255.0).round() / 255.0
}

impl FeatureNets {
    /// No networks at all: every metric is [`Metric::NotComputed`].
    pub fn none() -> FeatureNets {
        FeatureNets {
            inception: None,
            lpips: None,
            dreamsim: None,
            vggish: None,
            device: Device::Cpu,
            batch_size: 32,
        }
    }

    /// Loads the networks present in `dir` onto the CPU (see [`FeatureNets::load_on`]).
    pub fn load(dir: impl AsRef<Path>) -> Result<FeatureNets> {
        FeatureNets::load_on(dir, Device::Cpu)
    }

    /// Loads the networks present in `dir` onto `device`. The directory must exist; each absent
    /// file leaves its network `None`. [`LPIPS_FILE`] and [`LPIPS_LIN_FILE`] go together: one
    /// without the other is an error, as is a file that does not load.
    pub fn load_on(dir: impl AsRef<Path>, device: Device) -> Result<FeatureNets> {
        let dir = dir.as_ref();
        if !dir.is_dir() {
            return Err(EvalError::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
            });
        }
        let lin_path: PathBuf = dir.join(LPIPS_LIN_FILE);
        let lpips = match (load_module(dir, LPIPS_FILE, device)?, lin_path.exists()) {
            (Some(net), true) => Some(Lpips {
                net,
                lins: load_lins(&lin_path)?,
            }),
            (None, false) => None,
            (Some(_), false) => {
                return Err(net_err(
                    LPIPS_FILE,
                    format!("present without {LPIPS_LIN_FILE}"),
                ));
            }
            (None, true) => {
                return Err(net_err(
                    LPIPS_LIN_FILE,
                    format!("present without {LPIPS_FILE}"),
                ));
            }
        };
        Ok(FeatureNets {
            inception: load_module(dir, INCEPTION_FILE, device)?,
            lpips,
            dreamsim: load_module(dir, DREAMSIM_FILE, device)?,
            vggish: load_module(dir, VGGISH_FILE, device)?,
            device,
            batch_size: 32,
        })
    }

    /// Whether the FID network is present.
    pub fn has_inception(&self) -> bool {
        self.inception.is_some()
    }

    /// Whether the LPIPS network and weights are present.
    pub fn has_lpips(&self) -> bool {
        self.lpips.is_some()
    }

    /// Whether the DreamSim network is present.
    pub fn has_dreamsim(&self) -> bool {
        self.dreamsim.is_some()
    }

    /// Whether the VGGish network is present.
    pub fn has_vggish(&self) -> bool {
        self.vggish.is_some()
    }

    /// The LPIPS network and weights, if present.
    pub fn lpips_net(&self) -> Option<&Lpips> {
        self.lpips.as_ref()
    }

    fn batched<F>(&self, n: i64, mut f: F) -> Result<Tensor>
    where
        F: FnMut(i64, i64) -> Result<Tensor>,
    {
        if n < 1 {
            return Err(EvalError::Input("an empty batch".into()));
        }
        let bs = self.batch_size.max(1);
        let mut parts = Vec::new();
        let mut start = 0;
        while start < n {
            let len = bs.min(n - start);
            parts.push(f(start, len)?);
            start += len;
        }
        Ok(Tensor::cat(&parts, 0))
    }

    /// Inception pool features `[N, 2048]` (f64) of images `[N, 3, H, W]` (uint8 or `[0, 1]`), or
    /// `None` without [`INCEPTION_FILE`].
    pub fn inception_features(&self, images: &Tensor) -> Result<Option<Tensor>> {
        let Some(m) = &self.inception else {
            return Ok(None);
        };
        let x = to_unit_images(images)?;
        let n = x.size()[0];
        let feats = tch::no_grad(|| {
            self.batched(n, |s, len| {
                let xb = x.narrow(0, s, len).to_device(self.device);
                let out = single_tensor(m.forward_is(&[IValue::Tensor(xb)])?, INCEPTION_FILE)?;
                let out = out.flatten(1, -1);
                if out.size() != [len, INCEPTION_DIM] {
                    return Err(net_err(
                        INCEPTION_FILE,
                        format!("output {:?}, expected [{len}, {INCEPTION_DIM}]", out.size()),
                    ));
                }
                Ok(out.to_device(Device::Cpu).to_kind(Kind::Double))
            })
        })?;
        Ok(Some(feats))
    }

    /// FID between two image sets (each `[N ≥ 2, 3, H, W]`).
    pub fn fid(&self, real: &Tensor, fake: &Tensor) -> Result<Metric> {
        let (Some(a), Some(b)) = (
            self.inception_features(real)?,
            self.inception_features(fake)?,
        ) else {
            return Ok(Metric::NotComputed);
        };
        Ok(Metric::Computed(frechet_distance_features(&a, &b)?))
    }

    /// lpips' 5 AlexNet maps (f64, CPU) of images `[N, 3, H, W]` (uint8 or `[0, 1]`), or `None`.
    pub fn lpips_features(&self, images: &Tensor) -> Result<Option<Vec<Tensor>>> {
        let Some(lp) = &self.lpips else {
            return Ok(None);
        };
        let x = to_unit_images(images)? * 2.0 - 1.0;
        let s = x.size();
        let (n, h, w) = (s[0], s[2], s[3]);
        let bs = self.batch_size.max(1);
        let mut layers: Vec<Vec<Tensor>> = (0..5).map(|_| Vec::new()).collect();
        tch::no_grad(|| -> Result<()> {
            let mut start = 0;
            while start < n {
                let len = bs.min(n - start);
                let xb = x.narrow(0, start, len).to_device(self.device);
                let maps = alexnet_feature_maps(lp.net.forward_is(&[IValue::Tensor(xb)])?, h, w)?;
                for (l, m) in maps.into_iter().enumerate() {
                    layers[l].push(m);
                }
                start += len;
            }
            Ok(())
        })?;
        Ok(Some(layers.iter().map(|v| Tensor::cat(v, 0)).collect()))
    }

    /// LPIPS per pair `[N]` (f64) between image batches of the same shape, or `None`.
    pub fn lpips(&self, a: &Tensor, b: &Tensor) -> Result<Option<Tensor>> {
        if a.size() != b.size() {
            return Err(EvalError::Input(format!(
                "image batches {:?} and {:?}",
                a.size(),
                b.size()
            )));
        }
        let Some(lp) = &self.lpips else {
            return Ok(None);
        };
        // Batch by batch: the feature maps of a whole evaluation set would not fit in memory.
        let n = a.size().first().copied().unwrap_or(0);
        let d = self.batched(n, |s, len| {
            let fa = self
                .lpips_features(&a.narrow(0, s, len))?
                .expect("LPIPS present");
            let fb = self
                .lpips_features(&b.narrow(0, s, len))?
                .expect("LPIPS present");
            lpips_from_features(&fa, &fb, &lp.lins)
        })?;
        Ok(Some(d))
    }

    /// Mean LPIPS over pairs.
    pub fn lpips_mean(&self, a: &Tensor, b: &Tensor) -> Result<Metric> {
        Ok(self.lpips(a, b)?.map(|d| mean_of(&d)).into())
    }

    /// DreamSim embeddings `[N, D]` (f64) of images `[N, 3, H, W]` (uint8 or `[0, 1]`), or `None`.
    pub fn dreamsim_embeddings(&self, images: &Tensor) -> Result<Option<Tensor>> {
        let Some(m) = &self.dreamsim else {
            return Ok(None);
        };
        let x = to_unit_images(images)?;
        let n = x.size()[0];
        let e = tch::no_grad(|| {
            self.batched(n, |s, len| {
                let xb = dreamsim_preprocess(&x.narrow(0, s, len)).to_device(self.device);
                let mut out = single_tensor(m.forward_is(&[IValue::Tensor(xb)])?, DREAMSIM_FILE)?;
                if out.dim() == 1 && len == 1 {
                    // dreamsim's `embed` squeezes a batch of one.
                    out = out.unsqueeze(0);
                }
                if out.dim() != 2 || out.size()[0] != len {
                    return Err(net_err(
                        DREAMSIM_FILE,
                        format!("output {:?}, expected [{len}, D]", out.size()),
                    ));
                }
                Ok(out.to_device(Device::Cpu).to_kind(Kind::Double))
            })
        })?;
        Ok(Some(e))
    }

    /// DreamSim distance `1 − cos` per pair `[N]` (f64), or `None`.
    pub fn dreamsim(&self, a: &Tensor, b: &Tensor) -> Result<Option<Tensor>> {
        if a.size() != b.size() {
            return Err(EvalError::Input(format!(
                "image batches {:?} and {:?}",
                a.size(),
                b.size()
            )));
        }
        let (Some(ea), Some(eb)) = (self.dreamsim_embeddings(a)?, self.dreamsim_embeddings(b)?)
        else {
            return Ok(None);
        };
        Ok(Some(1.0 - Tensor::cosine_similarity(&ea, &eb, -1, 1e-8)))
    }

    /// Mean DreamSim distance over pairs.
    pub fn dreamsim_mean(&self, a: &Tensor, b: &Tensor) -> Result<Metric> {
        Ok(self.dreamsim(a, b)?.map(|d| mean_of(&d)).into())
    }

    /// VGGish embeddings `[K, 128]` (f64) of a mono waveform, or `None` (see [`crate::audio`]).
    pub fn vggish_embeddings(&self, wave: &[f32], sample_rate_hz: u32) -> Result<Option<Tensor>> {
        let Some(m) = &self.vggish else {
            return Ok(None);
        };
        let ex = log_mel_examples(wave, sample_rate_hz)?;
        let k = ex.size()[0];
        let e = tch::no_grad(|| {
            self.batched(k, |s, len| {
                let xb = ex.narrow(0, s, len).to_device(self.device);
                let out = single_tensor(m.forward_is(&[IValue::Tensor(xb)])?, VGGISH_FILE)?;
                if out.size() != [len, VGGISH_DIM] {
                    return Err(net_err(
                        VGGISH_FILE,
                        format!("output {:?}, expected [{len}, {VGGISH_DIM}]", out.size()),
                    ));
                }
                Ok(out.to_device(Device::Cpu).to_kind(Kind::Double))
            })
        })?;
        Ok(Some(e))
    }

    fn channel_embeddings(&self, clips: &[StereoClip], right: bool) -> Result<Option<Tensor>> {
        let mut all = Vec::with_capacity(clips.len());
        for c in clips {
            let wave = if right { &c.right } else { &c.left };
            match self.vggish_embeddings(wave, c.sample_rate_hz)? {
                Some(e) => all.push(e),
                None => return Ok(None),
            }
        }
        if all.is_empty() {
            return Err(EvalError::Input("no audio clips".into()));
        }
        Ok(Some(Tensor::cat(&all, 0)))
    }

    /// FAD of the left and of the right channel, or `None` without [`VGGISH_FILE`].
    pub fn fad_per_channel(
        &self,
        real: &[StereoClip],
        fake: &[StereoClip],
    ) -> Result<Option<[f64; 2]>> {
        if self.vggish.is_none() {
            return Ok(None);
        }
        let mut out = [0.0; 2];
        for (i, right) in [false, true].into_iter().enumerate() {
            let (Some(a), Some(b)) = (
                self.channel_embeddings(real, right)?,
                self.channel_embeddings(fake, right)?,
            ) else {
                return Ok(None);
            };
            out[i] = frechet_distance_features(&a, &b)?;
        }
        Ok(Some(out))
    }

    /// FAD: per channel (left, right), then averaged, as the paper.
    pub fn fad(&self, real: &[StereoClip], fake: &[StereoClip]) -> Result<Metric> {
        Ok(self
            .fad_per_channel(real, fake)?
            .map(|[l, r]| 0.5 * (l + r))
            .into())
    }

    /// All four metrics between predictions and targets (images `[N, 3, H, W]` paired by index,
    /// audio clips as sets); each absent network gives [`Metric::NotComputed`].
    pub fn metrics(
        &self,
        pred_images: &Tensor,
        target_images: &Tensor,
        pred_audio: &[StereoClip],
        target_audio: &[StereoClip],
    ) -> Result<FeatureMetrics> {
        Ok(FeatureMetrics {
            lpips: self.lpips_mean(pred_images, target_images)?,
            dreamsim: self.dreamsim_mean(pred_images, target_images)?,
            fid: self.fid(target_images, pred_images)?,
            fad: self.fad(target_audio, pred_audio)?,
        })
    }
}
