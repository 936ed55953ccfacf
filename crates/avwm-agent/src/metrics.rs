//! Navigation metrics (`reference/soundspaces.md` §3): success, SPL, SoftSPL, NA, SNA, distance to
//! goal, their means with 95 % confidence intervals, and paired comparisons of two agents on
//! the same episodes.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The outcome of one episode.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpisodeOutcome {
    /// STOP called within the success distance.
    pub success: bool,
    /// Geodesic distance from the start to the goal (m).
    pub geodesic_m: f32,
    /// Length walked (m).
    pub path_m: f32,
    /// Geodesic distance to the goal at the end (m).
    pub distance_to_goal_m: f32,
    /// Actions taken (the final STOP included).
    pub actions: usize,
    /// Actions of the shortest-path follower (for SNA); 0 when unknown.
    pub oracle_actions: usize,
}

impl EpisodeOutcome {
    /// Success weighted by path length: S · l* / max(l*, l).
    pub fn spl(&self) -> f64 {
        if self.success {
            path_ratio(self.geodesic_m, self.path_m)
        } else {
            0.0
        }
    }

    /// SoftSPL: (1 − d_T / d_0)⁺ · l* / max(l*, l).
    pub fn soft_spl(&self) -> f64 {
        let progress =
            (1.0 - f64::from(self.distance_to_goal_m) / f64::from(self.geodesic_m)).max(0.0);
        progress * path_ratio(self.geodesic_m, self.path_m)
    }

    /// Success weighted by the number of actions: S · n* / max(n*, n).
    pub fn sna(&self) -> f64 {
        if self.success && self.oracle_actions > 0 {
            self.oracle_actions as f64 / self.oracle_actions.max(self.actions) as f64
        } else {
            0.0
        }
    }

    /// Every metric by name, in report order.
    pub fn values(&self) -> [(&'static str, f64); 6] {
        [
            ("success", f64::from(u8::from(self.success))),
            ("spl", self.spl()),
            ("soft_spl", self.soft_spl()),
            ("na", self.actions as f64),
            ("sna", self.sna()),
            ("distance_to_goal", f64::from(self.distance_to_goal_m)),
        ]
    }
}

fn path_ratio(optimal: f32, walked: f32) -> f64 {
    let (o, w) = (f64::from(optimal), f64::from(walked));
    if o <= 0.0 { 1.0 } else { o / o.max(w) }
}

/// JSON has no NaN: an undefined number (an interval of one value) is written as `null` and read
/// back as NaN.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        if x.is_finite() {
            s.serialize_f64(*x)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// A mean with its 95 % confidence interval (Student's t).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Mean.
    #[serde(with = "nan_as_null")]
    pub mean: f64,
    /// Lower bound of the 95 % interval.
    #[serde(with = "nan_as_null")]
    pub lo: f64,
    /// Upper bound of the 95 % interval.
    #[serde(with = "nan_as_null")]
    pub hi: f64,
    /// Sample size.
    pub n: usize,
}

fn mean_sd(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = if x.len() > 1 {
        x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

fn t_quantile(df: f64, p: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df)
        .map(|t| t.inverse_cdf(p))
        .unwrap_or(1.96)
}

/// The mean of `x` with a 95 % t interval (NaN bounds for fewer than 2 values).
pub fn estimate(x: &[f64]) -> Estimate {
    if x.is_empty() {
        return Estimate {
            mean: f64::NAN,
            lo: f64::NAN,
            hi: f64::NAN,
            n: 0,
        };
    }
    let (mean, sd) = mean_sd(x);
    let half = if x.len() > 1 {
        t_quantile(x.len() as f64 - 1.0, 0.975) * sd / (x.len() as f64).sqrt()
    } else {
        f64::NAN
    };
    Estimate {
        mean,
        lo: mean - half,
        hi: mean + half,
        n: x.len(),
    }
}

/// A paired comparison of `b` against `a` on the same episodes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Paired {
    /// Mean of b − a with its 95 % interval.
    pub diff: Estimate,
    /// Two-sided p-value of the paired t-test (1 when every difference is 0).
    #[serde(with = "nan_as_null")]
    pub p_value: f64,
}

/// Paired t-test of `b` against `a` (same length, same episodes in the same order).
pub fn paired(a: &[f64], b: &[f64]) -> Paired {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    let diff = estimate(&d);
    let (mean, sd) = if d.is_empty() {
        (0.0, 0.0)
    } else {
        mean_sd(&d)
    };
    let p_value = if d.len() < 2 || sd == 0.0 {
        if mean == 0.0 { 1.0 } else { 0.0 }
    } else {
        let t = mean / (sd / (d.len() as f64).sqrt());
        StudentsT::new(0.0, 1.0, d.len() as f64 - 1.0)
            .map(|dist| 2.0 * (1.0 - dist.cdf(t.abs())))
            .unwrap_or(f64::NAN)
    };
    Paired { diff, p_value }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(success: bool, path: f32, dist: f32, n: usize) -> EpisodeOutcome {
        EpisodeOutcome {
            success,
            geodesic_m: 8.0,
            path_m: path,
            distance_to_goal_m: dist,
            actions: n,
            oracle_actions: 60,
        }
    }

    #[test]
    fn undefined_intervals_survive_json() {
        let e = estimate(&[0.5]);
        let text = serde_json::to_string(&e).unwrap();
        assert!(text.contains("\"lo\":null"), "{text}");
        let back: Estimate = serde_json::from_str(&text).unwrap();
        assert_eq!(back.mean, 0.5);
        assert!(back.lo.is_nan() && back.hi.is_nan());
    }

    #[test]
    fn spl_family_follows_soundspaces() {
        let o = outcome(true, 10.0, 0.5, 80);
        assert!((o.spl() - 0.8).abs() < 1e-12);
        assert!((o.soft_spl() - (1.0 - 0.5 / 8.0) * 0.8).abs() < 1e-9);
        assert!((o.sna() - 0.75).abs() < 1e-12);
        // A shorter walk than the geodesic (stopping inside the radius) is capped at 1.
        assert_eq!(outcome(true, 7.5, 0.9, 50).spl(), 1.0);
        let fail = outcome(false, 20.0, 12.0, 500);
        assert_eq!(fail.spl(), 0.0);
        assert_eq!(fail.soft_spl(), 0.0, "farther than the start: no progress");
        assert_eq!(fail.sna(), 0.0);
    }

    #[test]
    fn interval_and_paired_test_match_reference_values() {
        // x = 1..=10: mean 5.5, sd 3.02765, t(0.975, 9) = 2.262157 (standard tables).
        let x: Vec<f64> = (1..=10).map(f64::from).collect();
        let e = estimate(&x);
        let half = 2.262157 * 3.027650 / 10f64.sqrt();
        assert!((e.mean - 5.5).abs() < 1e-12);
        assert!((e.hi - 5.5 - half).abs() < 1e-4, "{e:?}");
        // Differences 1, 2, 3, 4: t = 2.5 / (1.29099 / 2) = 3.87298, df 3 → p = 0.030466.
        let a = [0.0, 0.0, 0.0, 0.0];
        let b = [1.0, 2.0, 3.0, 4.0];
        let p = paired(&a, &b);
        assert!((p.diff.mean - 2.5).abs() < 1e-12);
        assert!((p.p_value - 0.030466).abs() < 1e-4, "{p:?}");
        assert_eq!(paired(&a, &a).p_value, 1.0);
    }
}
