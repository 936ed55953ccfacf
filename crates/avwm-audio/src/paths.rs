//! Propagation results: the contract between the propagation engine and the renderers.
//!
//! Normalisation: the source radiates so that the free-field direct sound at 1 m has pressure
//! amplitude 1 (energy 1) in every band. A path's `gain` is then a pressure amplitude per band
//! (1/r spreading × reflection/diffraction/transmission/air-absorption factors), and the late
//! histogram holds energies (pressure²) per time bin in the same units.

use avwm_core::Bands;
use glam::Vec3;
use serde::{Deserialize, Serialize};

/// What kind of path a [`PropagationPath`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathKind {
    /// Unobstructed line of sight.
    Direct,
    /// Through one or more walls (attenuated by the materials' transmission).
    Transmitted,
    /// Around one or more diffracting edges.
    Diffracted {
        /// Number of edges.
        order: u8,
    },
    /// Specular reflection found by the image-source method.
    Reflection {
        /// Number of reflections.
        order: u8,
    },
}

/// One discrete sound path from the source to the listener.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PropagationPath {
    /// Kind of path.
    pub kind: PathKind,
    /// Propagation delay (s) = path length / speed of sound.
    pub delay_s: f32,
    /// Unit vector, world frame, from the listener towards where the sound arrives from
    /// (the last leg of the path, reversed).
    pub direction: Vec3,
    /// Pressure amplitude per band (see the module docs for the normalisation).
    pub gain: Bands,
}

/// Energy–time histogram of the late, diffuse part of the response, per band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergyHistogram {
    /// Bin width (s).
    pub bin_s: f32,
    /// `bins[i][b]`: energy arriving in `[i·bin_s, (i+1)·bin_s)` in band `b`.
    pub bins: Vec<Bands>,
}

impl EnergyHistogram {
    /// An empty histogram with the given bin width.
    pub fn empty(bin_s: f32) -> EnergyHistogram {
        EnergyHistogram {
            bin_s,
            bins: Vec::new(),
        }
    }
}

/// Everything the renderers need for one source–listener pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcousticResponse {
    /// Discrete early paths (direct, diffracted, transmitted, image sources).
    pub paths: Vec<PropagationPath>,
    /// Late energy (must not double-count the energy of `paths`).
    pub late: EnergyHistogram,
}
