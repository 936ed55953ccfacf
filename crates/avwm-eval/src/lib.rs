//! avwm's feature-network metrics: LPIPS, DreamSim, FID and FAD.
//!
//! These four metrics need pretrained networks that cannot be downloaded here. This crate does
//! everything around the networks exactly ([`frechet`]: Fréchet distance with a stable matrix
//! square root; [`nets`]: preprocessing, LPIPS' normalised channel distances and spatial averaging,
//! DreamSim's cosine distance, per-channel FAD; [`audio`]: VGGish's log-mel front end) and runs the
//! networks from TorchScript files the user supplies in one directory (`--feature-nets DIR`),
//! loaded by [`FeatureNets::load`]. A metric whose network is absent is [`Metric::NotComputed`],
//! serialised as the string `"not computed"`: never a made-up or substitute number.
//!
//! PSNR, SSIM, log-spectral distance and spectrogram SSIM need no network and live in
//! `avwm-metrics`.
//!
//! # Files and their tensors
//!
//! | file | input | output |
//! |---|---|---|
//! | `inception.pt` | `[B, 3, H, W]` f32 RGB in `[0, 1]` | `[B, 2048]` pool features |
//! | `lpips_alex.pt` | `[B, 3, H, W]` f32 RGB in `[−1, 1]` | tuple of 5 maps `[B, C_l, H_l, W_l]`, `C = 64, 192, 384, 256, 256` |
//! | `lpips_alex_lin.safetensors` | — | `lin0` … `lin4`: `[1, C_l, 1, 1]` non-negative weights |
//! | `dreamsim.pt` | `[B, 3, 224, 224]` f32 RGB in `[0, 1]` | `[B, D]` embeddings |
//! | `vggish.pt` | `[K, 1, 96, 64]` f32 log-mel examples | `[K, 128]` embeddings |
//!
//! The preprocessing done on our side is documented in [`nets`] (images) and [`audio`] (FAD).
//!
//! # Exporting the networks (Python, run once on a machine with the packages)
//!
//! These snippets use the packages' documented APIs; they could not be run here (no importable
//! torch on this machine). Put the resulting files in one directory and pass it as
//! `--feature-nets DIR`.
//!
//! **FID**, package `pytorch-fid` (its `InceptionV3` with the FID weights, `use_fid_inception=True`
//! by default). The module does the bilinear resize to 299 × 299 and the scaling to `[−1, 1]`
//! itself (`resize_input=True, normalize_input=True`), so it takes `[0, 1]` images of any size:
//!
//! ```python
//! import torch
//! from pytorch_fid.inception import InceptionV3
//!
//! class Fid(torch.nn.Module):
//!     def __init__(self):
//!         super().__init__()
//!         block = InceptionV3.BLOCK_INDEX_BY_DIM[2048]
//!         self.net = InceptionV3([block], resize_input=True, normalize_input=True)
//!     def forward(self, x):                     # [B, 3, H, W] in [0, 1]
//!         return self.net(x)[0].flatten(1)      # [B, 2048]
//!
//! torch.jit.trace(Fid().eval(), torch.rand(2, 3, 128, 128)).save("inception.pt")
//! ```
//!
//! **LPIPS**, package `lpips` (v0.1, `net='alex'`): the module is the `ScalingLayer` followed by the
//! AlexNet slices and returns the 5 ReLU maps; the 5 linear layers' weights (the 1 × 1 convolution
//! after the dropout in each `NetLinLayer`) go to a safetensors file (package `safetensors`):
//!
//! ```python
//! import torch, lpips
//! from safetensors.torch import save_file
//!
//! m = lpips.LPIPS(net="alex", version="0.1").eval()
//!
//! class AlexFeatures(torch.nn.Module):
//!     def __init__(self, m):
//!         super().__init__()
//!         self.scaling_layer, self.net = m.scaling_layer, m.net
//!     def forward(self, x):                     # [B, 3, H, W] in [-1, 1]
//!         return tuple(self.net(self.scaling_layer(x)))   # relu1 … relu5
//!
//! torch.jit.trace(AlexFeatures(m).eval(), torch.rand(2, 3, 64, 64) * 2 - 1).save("lpips_alex.pt")
//! save_file({f"lin{i}": m.lins[i].model[-1].weight.detach().contiguous() for i in range(5)},
//!           "lpips_alex_lin.safetensors")
//! ```
//!
//! **DreamSim**, package `dreamsim` (the default ensemble, `normalize_embeds=True`); the module is
//! `PerceptualModel.embed`, which applies each backbone's mean/std normalisation itself. Tracing
//! the LoRA-wrapped ViTs is untested (hence `check_trace=False`):
//!
//! ```python
//! import torch
//! from dreamsim import dreamsim
//!
//! model, _ = dreamsim(pretrained=True, device="cpu")
//!
//! class Embed(torch.nn.Module):
//!     def __init__(self, m):
//!         super().__init__()
//!         self.m = m
//!     def forward(self, x):                     # [B, 3, 224, 224] in [0, 1]
//!         return self.m.embed(x)                # [B, D]
//!
//! torch.jit.trace(Embed(model).eval(), torch.rand(2, 3, 224, 224), check_trace=False).save("dreamsim.pt")
//! ```
//!
//! **FAD**, VGGish from `torchvggish` through `torch.hub` (`harritaylor/torchvggish`). Its front end
//! is NumPy code that cannot be traced, so only the network is exported and [`audio`] computes the
//! log-mel examples. Like the `frechet_audio_distance` package (`use_pca=False,
//! use_activation=False`), the embeddings are taken without PCA/quantisation and without the last
//! ReLU:
//!
//! ```python
//! import torch
//!
//! model = torch.hub.load("harritaylor/torchvggish", "vggish", device="cpu")
//! model.preprocess = False                      # input: [K, 1, 96, 64] log-mel examples
//! model.postprocess = False                     # raw 128-d embeddings
//! model.embeddings[5] = torch.nn.Identity()     # drop the final ReLU
//! torch.jit.trace(model.eval(), torch.zeros(2, 1, 96, 64)).save("vggish.pt")
//! ```
//!
//! # Tests
//!
//! The tests build TorchScript files of the same signatures with random weights in Rust
//! (`tch::CModule::create_by_tracing`) and run the whole pipeline through [`FeatureNets::load`].
//! tch's tracing can only save single-output methods, so the test LPIPS module returns its 5 maps
//! flattened and concatenated (`[B, Σ C_l H_l W_l]`), a form [`nets::alexnet_feature_maps`] accepts
//! besides the tuple the Python export produces.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audio;
pub mod counterfactual;
mod error;
pub mod evaluate;
pub mod frechet;
mod metric;
pub mod nets;
pub mod plot;
pub mod protocol;
pub mod render;
pub mod report;
pub mod sheet;

pub use audio::StereoClip;
pub use error::{EvalError, Result};
pub use frechet::{Gaussian, frechet_distance, frechet_distance_features};
pub use metric::{FeatureMetrics, Metric, NOT_COMPUTED};
pub use nets::FeatureNets;
