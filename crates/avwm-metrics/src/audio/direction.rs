//! Woodworth's spherical-head ITD model and its inverse.

use std::f64::consts::FRAC_PI_2;

/// Head radius `a` of the Woodworth model (m).
pub const HEAD_RADIUS_M: f64 = 0.0875;
/// Speed of sound `c` of the Woodworth model (m/s).
pub const SPEED_OF_SOUND_M_S: f64 = 343.0;
/// Largest ITD of the model, at ±90°: `(a/c)(π/2 + 1)` ≈ 655.8 µs (≈ 10.5 samples at 16 kHz).
pub const MAX_WOODWORTH_ITD_S: f64 = HEAD_RADIUS_M / SPEED_OF_SOUND_M_S * (FRAC_PI_2 + 1.0);

/// Woodworth ITD in seconds for a lateral angle in degrees:
/// `ITD = (a/c)(θ + sin θ)`, θ clamped to [−90°, 90°].
///
/// Same sign convention as [`super::gcc_phat_itd`]: positive angles are to the right of the
/// median plane and give positive ITDs (the left ear lags).
pub fn woodworth_itd(lateral_deg: f64) -> f64 {
    let t = lateral_deg.clamp(-90.0, 90.0).to_radians();
    HEAD_RADIUS_M / SPEED_OF_SOUND_M_S * (t + t.sin())
}

/// Lateral angle in degrees, in [−90, 90], whose Woodworth ITD is `itd_s` seconds.
///
/// Inverts `ITD = (a/c)(θ + sin θ)` (`a` = [`HEAD_RADIUS_M`], `c` = [`SPEED_OF_SOUND_M_S`]);
/// ITDs beyond ±[`MAX_WOODWORTH_ITD_S`] are clamped to it (→ ±90°). The function is odd and
/// strictly increasing, so the root is found by Newton's method on `θ + sin θ = ITD·c/a`
/// kept inside a shrinking bisection bracket on [0, π/2] (converges to ~1e-15 rad).
/// Positive = right of the median plane (left ear lags). NaN gives NaN.
pub fn lateral_angle_from_itd(itd_s: f64) -> f64 {
    if itd_s.is_nan() {
        return f64::NAN;
    }
    let t = itd_s.clamp(-MAX_WOODWORTH_ITD_S, MAX_WOODWORTH_ITD_S);
    let g = (t.abs() * SPEED_OF_SOUND_M_S / HEAD_RADIUS_M).min(FRAC_PI_2 + 1.0);
    let (mut lo, mut hi) = (0.0f64, FRAC_PI_2);
    // θ + sin θ ≈ 2θ near 0: a good start everywhere on the bracket.
    let mut theta = (0.5 * g).min(FRAC_PI_2);
    for _ in 0..100 {
        let f = theta + theta.sin() - g;
        if f.abs() <= 1e-15 {
            break;
        }
        if f > 0.0 {
            hi = theta;
        } else {
            lo = theta;
        }
        let d = 1.0 + theta.cos();
        let next = theta - f / d;
        theta = if next > lo && next < hi {
            next
        } else {
            0.5 * (lo + hi)
        };
        if hi - lo <= 1e-16 {
            break;
        }
    }
    (theta.to_degrees()).copysign(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut deg = -90.0;
        while deg <= 90.0 {
            let back = lateral_angle_from_itd(woodworth_itd(deg));
            assert!((back - deg).abs() < 1e-9, "{deg} -> {back}");
            deg += 0.25;
        }
    }

    #[test]
    fn known_points_and_clamping() {
        assert_eq!(lateral_angle_from_itd(0.0), 0.0);
        assert!((woodworth_itd(90.0) - MAX_WOODWORTH_ITD_S).abs() < 1e-18);
        assert!((MAX_WOODWORTH_ITD_S - 655.8e-6).abs() < 0.1e-6);
        assert!((lateral_angle_from_itd(1.0e-3) - 90.0).abs() < 1e-12);
        assert!((lateral_angle_from_itd(-1.0e-3) + 90.0).abs() < 1e-12);
        // 30°: (a/c)(π/6 + 1/2) = 261.1 µs.
        let itd30 = HEAD_RADIUS_M / SPEED_OF_SOUND_M_S * (std::f64::consts::FRAC_PI_6 + 0.5);
        assert!((woodworth_itd(30.0) - itd30).abs() < 1e-18);
        assert!((lateral_angle_from_itd(itd30) - 30.0).abs() < 1e-10);
        assert!((lateral_angle_from_itd(-itd30) + 30.0).abs() < 1e-10);
        assert!(lateral_angle_from_itd(f64::NAN).is_nan());
    }
}
