//! [`Metric`]: a metric value or the explicit statement that it was not computed.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The string a metric that could not be computed is serialised as.
pub const NOT_COMPUTED: &str = "not computed";

/// A metric value, or the fact that it was not computed (its feature network is absent).
///
/// Serialised in JSON as a number, or as the string `"not computed"`: a missing network never
/// yields a made-up or substitute number.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Metric {
    /// The computed value.
    Computed(f64),
    /// Not computed: the network it needs was not supplied.
    #[default]
    NotComputed,
}

impl Metric {
    /// The value, if computed.
    pub fn value(self) -> Option<f64> {
        match self {
            Metric::Computed(v) => Some(v),
            Metric::NotComputed => None,
        }
    }

    /// Whether a value was computed.
    pub fn is_computed(self) -> bool {
        matches!(self, Metric::Computed(_))
    }
}

impl From<Option<f64>> for Metric {
    fn from(v: Option<f64>) -> Self {
        v.map_or(Metric::NotComputed, Metric::Computed)
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Metric::Computed(v) => write!(f, "{v}"),
            Metric::NotComputed => f.write_str(NOT_COMPUTED),
        }
    }
}

impl Serialize for Metric {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Metric::Computed(v) => s.serialize_f64(*v),
            Metric::NotComputed => s.serialize_str(NOT_COMPUTED),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Repr {
    Num(f64),
    Str(String),
}

impl<'de> Deserialize<'de> for Metric {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Repr::deserialize(d)? {
            Repr::Num(v) => Ok(Metric::Computed(v)),
            Repr::Str(s) if s == NOT_COMPUTED => Ok(Metric::NotComputed),
            Repr::Str(s) => Err(serde::de::Error::custom(format!(
                "expected a number or \"{NOT_COMPUTED}\", got \"{s}\""
            ))),
        }
    }
}

/// The feature-network metrics of one evaluation, each possibly [`Metric::NotComputed`].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct FeatureMetrics {
    /// Mean LPIPS (AlexNet, v0.1) over prediction/target pairs.
    pub lpips: Metric,
    /// Mean DreamSim distance over prediction/target pairs.
    pub dreamsim: Metric,
    /// FID between the predicted and the target image sets.
    pub fid: Metric,
    /// FAD between the predicted and the target audio sets, per channel then averaged.
    pub fad: Metric,
}
