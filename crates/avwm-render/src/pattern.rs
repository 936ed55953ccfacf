//! Procedural surface patterns evaluated in world coordinates, box-filtered over the pixel
//! footprint so that fine patterns fade to their mean colour instead of aliasing (which would
//! make the image flicker from one step to the next).

use avwm_scene::{Pattern, VisualMaterial};
use glam::{Vec2, Vec3};

/// A material prepared for shading.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Surface {
    pub c1: Vec3,
    pub c2: Vec3,
    pub pattern: Pattern,
    /// Feature size (m), strictly positive.
    pub scale_m: f32,
    pub emission: Vec3,
    /// True if the material emits (skip the addition otherwise).
    pub emissive: bool,
}

impl Surface {
    pub fn new(v: &VisualMaterial) -> Surface {
        let emission = Vec3::from(v.emission).max(Vec3::ZERO);
        Surface {
            c1: Vec3::from(v.color).max(Vec3::ZERO),
            c2: Vec3::from(v.color2).max(Vec3::ZERO),
            pattern: v.pattern,
            scale_m: if v.scale_m.is_finite() && v.scale_m > 1e-4 {
                v.scale_m
            } else {
                1.0
            },
            emission,
            emissive: emission.max_element() > 0.0,
        }
    }

    /// Albedo (linear RGB) at in-plane world coordinates `q` (m), averaged over a square
    /// footprint of side `w` metres.
    pub fn albedo(&self, q: Vec2, w: f32) -> Vec3 {
        let s = self.scale_m;
        match self.pattern {
            Pattern::Solid => self.c1,
            Pattern::Checker => {
                let fa = pulse_avg(q.x, 2.0 * s, s, w);
                let fb = pulse_avg(q.y, 2.0 * s, s, w);
                // Box filtering is separable, so the XOR of the two stripe sets averages to this.
                let f = fa * (1.0 - fb) + fb * (1.0 - fa);
                self.c1.lerp(self.c2, f)
            }
            Pattern::Stripes => self.c1.lerp(self.c2, pulse_avg(q.x, 2.0 * s, s, w)),
            Pattern::Tiles => {
                let grout = (0.06 * s).clamp(0.003, 0.02);
                let ga = pulse_avg(q.x, s, grout, w);
                let gb = pulse_avg(q.y, s, grout, w);
                let g = 1.0 - (1.0 - ga) * (1.0 - gb);
                let cell = Vec2::new(floor(q.x / s), floor(q.y / s));
                let jitter = (hash01(cell.x as i32, cell.y as i32, 11) - 0.5) * 0.12 * fade(w, s);
                (self.c1 * (1.0 + jitter)).lerp(self.c2, g)
            }
            Pattern::Planks => {
                let len = 6.0 * s;
                let row = floor(q.y / s);
                let offset = hash01(row as i32, 0, 23) * len;
                let along = q.x + offset;
                let seg = floor(along / len);
                let tone = (hash01(row as i32, seg as i32, 29) - 0.5) * fade(w, len) + 0.5;
                let grain = detail(fade(w, s / 12.0), || {
                    value_noise(Vec2::new(along * 1.5 / s, q.y * 12.0 / s), 31)
                });
                let gap_w = 0.003;
                let gap = 1.0
                    - (1.0 - pulse_avg(q.y, s, gap_w, w)) * (1.0 - pulse_avg(along, len, gap_w, w));
                self.c1.lerp(self.c2, tone) * ((1.0 + 0.25 * grain) * (1.0 - 0.5 * gap))
            }
            Pattern::Noise => {
                let n1 = detail(fade(w, s), || value_noise(q / s, 41));
                let n2 = detail(fade(w, 0.5 * s), || value_noise(q * (2.0 / s), 43));
                let f = (0.5 + 1.3 * n1 + 0.6 * n2).clamp(0.0, 1.0);
                self.c1.lerp(self.c2, f)
            }
        }
    }
}

/// `floor` without a libm call (the baseline x86-64 target has no `roundss`); exact for
/// |x| < 2³¹, far beyond any scene coordinate divided by a pattern scale.
#[inline]
fn floor(x: f32) -> f32 {
    let t = x as i32 as f32;
    if t > x { t - 1.0 } else { t }
}

/// Weight of a pattern detail of feature size `feature` (m) seen through a footprint `w` (m):
/// 1 when the feature spans ≥ 2 footprints, 0 when it is below half a footprint.
#[inline]
fn fade(w: f32, feature: f32) -> f32 {
    let r = w / feature;
    1.0 - smoothstep(0.5, 2.0, r)
}

/// `(noise() − 0.5) · weight`, without evaluating the noise when the weight is 0.
#[inline]
fn detail(weight: f32, noise: impl FnOnce() -> f32) -> f32 {
    if weight > 0.0 {
        (noise() - 0.5) * weight
    } else {
        0.0
    }
}

#[inline]
fn smoothstep(a: f32, b: f32, x: f32) -> f32 {
    let t = ((x - a) / (b - a)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Fraction of the interval `[x - w/2, x + w/2]` covered by a pulse train that is 1 on
/// `[k·period, k·period + duty)` and 0 elsewhere (exact box filter via the antiderivative).
#[inline]
pub(crate) fn pulse_avg(x: f32, period: f32, duty: f32, w: f32) -> f32 {
    let antiderivative = |x: f32| {
        let k = floor(x / period);
        k * duty + (x - k * period).clamp(0.0, duty)
    };
    if w < 1e-4 {
        return if x - (x / period).floor() * period < duty {
            1.0
        } else {
            0.0
        };
    }
    ((antiderivative(x + 0.5 * w) - antiderivative(x - 0.5 * w)) / w).clamp(0.0, 1.0)
}

/// Integer hash to [0, 1) (a 32-bit avalanche mix; "lowbias32", C. Wellons 2020).
#[inline]
pub(crate) fn hash01(i: i32, j: i32, salt: u32) -> f32 {
    (hash3(i as u32, j as u32, salt) >> 8) as f32 * (1.0 / 16_777_216.0)
}

#[inline]
pub(crate) fn hash3(a: u32, b: u32, c: u32) -> u32 {
    let mut x = a.wrapping_mul(0x9E37_79B1)
        ^ b.wrapping_mul(0x85EB_CA77).rotate_left(13)
        ^ c.wrapping_mul(0xC2B2_AE3D);
    x ^= x >> 16;
    x = x.wrapping_mul(0x7FEB_352D);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846C_A68B);
    x ^ (x >> 16)
}

/// Smooth 2D value noise in [0, 1] with unit lattice spacing.
#[inline]
fn value_noise(p: Vec2, salt: u32) -> f32 {
    let f = Vec2::new(floor(p.x), floor(p.y));
    let (i, j) = (f.x as i32, f.y as i32);
    let t = p - f;
    let (u, v) = (t.x * t.x * (3.0 - 2.0 * t.x), t.y * t.y * (3.0 - 2.0 * t.y));
    let a = hash01(i, j, salt);
    let b = hash01(i.wrapping_add(1), j, salt);
    let c = hash01(i, j.wrapping_add(1), salt);
    let d = hash01(i.wrapping_add(1), j.wrapping_add(1), salt);
    let top = a + (b - a) * u;
    let bottom = c + (d - c) * u;
    top + (bottom - top) * v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute-force box filter of the pulse train by dense point sampling.
    fn pulse_avg_brute(x: f32, period: f32, duty: f32, w: f32) -> f32 {
        let n = 20_000;
        let mut on = 0;
        for k in 0..n {
            let y = f64::from(x) - 0.5 * f64::from(w) + (k as f64 + 0.5) / n as f64 * f64::from(w);
            let r = y - (y / f64::from(period)).floor() * f64::from(period);
            on += usize::from(r < f64::from(duty));
        }
        on as f32 / n as f32
    }

    #[test]
    fn fast_floor_equals_std_floor() {
        for k in -20_000..20_000 {
            let x = k as f32 * 0.013_7 + 0.5e-3;
            assert_eq!(floor(x), x.floor(), "{x}");
        }
        for x in [-1.0, -0.0, 0.0, 3.0, -2.5, 1e9, -1e9] {
            assert_eq!(floor(x), x.floor(), "{x}");
        }
    }

    #[test]
    fn pulse_average_equals_dense_sampling() {
        for &(x, period, duty, w) in &[
            (0.3, 1.0, 0.5, 0.2),
            (-2.71, 0.6, 0.3, 1.7),
            (5.02, 0.25, 0.015, 0.04),
            (1.0, 0.5, 0.25, 0.001),
        ] {
            let a = pulse_avg(x, period, duty, w);
            let b = pulse_avg_brute(x, period, duty, w);
            assert!((a - b).abs() < 2e-3, "{x} {period} {duty} {w}: {a} vs {b}");
        }
        // A footprint of many periods sees the duty cycle.
        assert!((pulse_avg(0.123, 0.1, 0.03, 10.0) - 0.3).abs() < 1e-3);
    }

    #[test]
    fn patterns_fade_to_a_uniform_colour_for_huge_footprints() {
        let lib = avwm_scene::material_library();
        for m in &lib {
            let s = Surface::new(&m.visual);
            let far: Vec<Vec3> = (0..50)
                .map(|k| s.albedo(Vec2::new(k as f32 * 0.37, k as f32 * 0.11), 100.0))
                .collect();
            let near: Vec<Vec3> = (0..200)
                .map(|k| s.albedo(Vec2::new(k as f32 * 0.037, k as f32 * 0.011), 1e-3))
                .collect();
            let spread = |v: &[Vec3]| {
                v.iter()
                    .map(|c| (*c - v[0]).abs().max_element())
                    .fold(0.0, f32::max)
            };
            assert!(
                spread(&far) < 0.02,
                "{}: far spread {}",
                m.name,
                spread(&far)
            );
            if m.visual.pattern != Pattern::Solid {
                assert!(
                    spread(&near) > 0.02,
                    "{}: no visible pattern up close",
                    m.name
                );
            }
            for c in near.iter().chain(&far) {
                assert!(
                    c.is_finite() && c.min_element() >= 0.0 && c.max_element() <= 1.2,
                    "{}: {c}",
                    m.name
                );
            }
        }
    }
}
