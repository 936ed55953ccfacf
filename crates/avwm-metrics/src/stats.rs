//! Aggregation of per-sample metric values.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};

/// Mean and sample standard deviation of a set of values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanStd {
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation, `sqrt(Σ(x − mean)² / (n − 1))`; 0 when `n == 1`.
    pub std: f64,
    /// Number of values.
    pub n: usize,
}

impl MeanStd {
    /// Mean and sample standard deviation (two passes, `n − 1` denominator) of `samples`.
    ///
    /// Infinite values (e.g. the PSNR of identical frames) are rejected like NaN: filter them
    /// out first if that is what you mean.
    ///
    /// # Errors
    /// [`MetricsError::Empty`] for no samples, [`MetricsError::NonFinite`] for NaN or ±∞.
    pub fn from_samples(samples: &[f64]) -> Result<Self> {
        if samples.is_empty() {
            return Err(MetricsError::Empty { what: "samples" });
        }
        if let Some(index) = samples.iter().position(|v| !v.is_finite()) {
            return Err(MetricsError::NonFinite {
                what: "samples",
                index,
            });
        }
        let n = samples.len();
        let mean = samples.iter().sum::<f64>() / n as f64;
        let std = if n == 1 {
            0.0
        } else {
            let ss: f64 = samples.iter().map(|v| (v - mean) * (v - mean)).sum();
            (ss / (n - 1) as f64).sqrt()
        };
        Ok(Self { mean, std, n })
    }
}

/// `"mean ± std"`; a precision applies to both numbers (`format!("{:.2}", m)` → `"0.50 ± 0.10"`).
impl fmt::Display for MeanStd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match f.precision() {
            Some(p) => write!(f, "{:.*} ± {:.*}", p, self.mean, p, self.std),
            None => write!(f, "{} ± {}", self.mean, self.std),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, Σ(x−5)² = 32, sample std = sqrt(32/7).
        let m = MeanStd::from_samples(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(m.n, 8);
        assert!((m.mean - 5.0).abs() < 1e-15);
        assert!((m.std - (32.0f64 / 7.0).sqrt()).abs() < 1e-15);
        let one = MeanStd::from_samples(&[3.5]).unwrap();
        assert_eq!((one.mean, one.std, one.n), (3.5, 0.0, 1));
    }

    #[test]
    fn errors() {
        assert!(matches!(
            MeanStd::from_samples(&[]),
            Err(MetricsError::Empty { .. })
        ));
        assert!(matches!(
            MeanStd::from_samples(&[1.0, f64::NAN]),
            Err(MetricsError::NonFinite { index: 1, .. })
        ));
        assert!(MeanStd::from_samples(&[f64::INFINITY]).is_err());
    }

    #[test]
    fn display_and_serde() {
        let m = MeanStd {
            mean: 0.5,
            std: 0.25,
            n: 3,
        };
        assert_eq!(m.to_string(), "0.5 ± 0.25");
        assert_eq!(format!("{m:.3}"), "0.500 ± 0.250");
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"mean":0.5,"std":0.25,"n":3}"#);
    }
}
