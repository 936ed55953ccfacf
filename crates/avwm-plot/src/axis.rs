//! Axes with chosen ticks: a plotters coordinate whose grid lines and labels are exactly the
//! ticks we pick (nice steps, or the data's own x values), robust to huge and non-finite ranges.

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use std::ops::Range;

/// A linear axis from `lo` to `hi` with grid lines and labels at `ticks`.
#[derive(Debug, Clone)]
pub(crate) struct Ticked {
    pub lo: f64,
    pub hi: f64,
    pub ticks: Vec<f64>,
}

impl Ticked {
    /// Where `v` lies on the axis: 0 at `lo`, 1 at `hi`; non-finite results (a degenerate or
    /// overflowing range) map to the middle, and far-off values are clamped to a few axis lengths
    /// so that nothing is drawn at absurd pixel coordinates.
    pub fn fraction(&self, v: f64) -> f64 {
        let t = (v - self.lo) / (self.hi - self.lo);
        if t.is_finite() {
            t.clamp(-4.0, 5.0)
        } else {
            0.5
        }
    }
}

impl Ranged for Ticked {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = f64::from(limit.1) - f64::from(limit.0);
        (f64::from(limit.0) + self.fraction(*value) * span).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Ticked {
    fn format(value: &f64) -> String {
        format!("{value}")
    }
}

/// A "nice" step (1, 2, 2.5 or 5 × 10^k) close to `raw`.
pub(crate) fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let n = if f < 1.5 {
        1.0
    } else if f < 2.25 {
        2.0
    } else if f < 3.5 {
        2.5
    } else if f < 7.5 {
        5.0
    } else {
        10.0
    };
    n * mag
}

/// Decimals needed to print multiples of `step` exactly enough.
fn step_decimals(step: f64) -> usize {
    let mut d = 0usize;
    while d < 8
        && ((step * 10f64.powi(d as i32)).round() - step * 10f64.powi(d as i32)).abs() > 1e-6
    {
        d += 1;
    }
    d
}

/// A tick label for `v` given the tick `step`.
pub(crate) fn tick_label(v: f64, step: f64) -> String {
    let a = v.abs();
    if a >= 1e5 || (step < 1e-4 && a > 0.0) {
        return format!("{v:.1e}");
    }
    let s = format!("{:.*}", step_decimals(step), v);
    // Avoid "-0" / "-0.00".
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// Axis range and nice ticks covering data in `[min, max]` (`pad`: relative padding; an empty or
/// non-finite range gives 0…1). The range is rounded outwards to the ticks when `snap`. Returns
/// the axis and its tick step.
pub(crate) fn nice_axis(min: f64, max: f64, pad: f64, snap: bool) -> (Ticked, f64) {
    let (mut lo, mut hi) = if min.is_finite() && max.is_finite() && min <= max {
        (min, max)
    } else {
        (0.0, 1.0)
    };
    if hi - lo <= f64::EPSILON * hi.abs().max(lo.abs()).max(1e-300) {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        lo -= d;
        hi += d;
    } else {
        let d = (hi - lo) * pad;
        lo -= d;
        hi += d;
    }
    let step = nice_step((hi - lo) / 5.0);
    if snap {
        lo = (lo / step).floor() * step;
        hi = (hi / step).ceil() * step;
    }
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    // Guard against ranges that overflow (e.g. ±1e308): no ticks rather than millions.
    let n = last.checked_sub(first).unwrap_or(-1);
    let ticks = if step.is_finite() && (0..=100).contains(&n) {
        (first..=last).map(|k| k as f64 * step).collect()
    } else {
        Vec::new()
    };
    (Ticked { lo, hi, ticks }, step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks_cover_the_data() {
        let (a, step) = nice_axis(0.13, 0.87, 0.05, true);
        assert_eq!(step, 0.2);
        assert!(a.lo <= 0.13 && a.hi >= 0.87);
        assert_eq!(a.ticks.len(), 6);
        assert_eq!(tick_label(a.ticks[1], step), "0.2");
        assert_eq!(tick_label(-0.0001, 0.5), "0.0");
        assert_eq!(tick_label(2e6, 1e6), "2.0e6");
    }

    #[test]
    fn degenerate_and_overflowing_ranges() {
        let (a, _) = nice_axis(2.0, 2.0, 0.05, true);
        assert!(a.lo < 2.0 && a.hi > 2.0 && !a.ticks.is_empty());
        let (a, _) = nice_axis(f64::INFINITY, f64::NEG_INFINITY, 0.05, true);
        assert!(
            a.lo <= 0.0 && a.hi >= 1.0 && a.ticks.contains(&0.0),
            "{a:?}"
        );
        let (a, _) = nice_axis(-1e308, 1e308, 0.05, true);
        assert!(a.ticks.is_empty());
        assert_eq!(
            a.map(&0.0, (0, 100)),
            50,
            "an overflowing range maps to the middle"
        );
        let (a, _) = nice_axis(0.0, 1.0, 0.0, false);
        assert_eq!(a.map(&1e300, (0, 100)), 500, "far-off values are clamped");
    }
}
