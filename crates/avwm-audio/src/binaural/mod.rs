//! Binaural rendering: an [`AcousticResponse`](crate::AcousticResponse) (discrete paths plus a
//! late energy histogram) becomes a two-channel room impulse response ([`BinauralRir`]) through
//! an [`Hrtf`] (MIT KEMAR or a spherical head).

mod hrtf;
mod render;
mod tail;

pub use hrtf::{AZIMUTH_STEP_DEG, ELEVATION_STEP_DEG, HEAD_RADIUS_M, Hrtf, HrtfSource};
pub use render::{BinauralRir, RenderConfig, render_binaural, render_omni, world_to_head};
pub use tail::{NOISE_BANK_LEN, band_coherence, diffuse_coherence};
