//! Top-down maps of the navigation grid (encoded to PNG by `avwm_core::encode_png`).

use crate::grid::{CellKind, NavGrid};
use avwm_core::{Pose, RgbImage};
use avwm_scene::Scene;
use glam::Vec2;

/// Colours of the map (sRGB).
mod colour {
    pub const OUTSIDE: [u8; 3] = [255, 255, 255];
    pub const OBSTACLE: [u8; 3] = [45, 45, 50];
    pub const CLEARANCE: [u8; 3] = [165, 165, 165];
    pub const DISCONNECTED: [u8; 3] = [200, 200, 190];
    pub const REACHABLE: [u8; 3] = [232, 238, 246];
    pub const DOOR: [u8; 3] = [214, 130, 30];
    pub const SOURCE: [u8; 3] = [220, 20, 20];
    pub const GOAL: [u8; 3] = [120, 0, 0];
    pub const START: [u8; 3] = [20, 170, 40];
    pub const END: [u8; 3] = [20, 20, 150];
    pub const TRAJ_FIRST: [f32; 3] = [0.0, 110.0, 255.0];
    pub const TRAJ_LAST: [f32; 3] = [190.0, 0.0, 190.0];
}

/// A small raster canvas with world → pixel mapping (+y up in the world = up in the image).
struct Canvas {
    img: RgbImage,
    origin: Vec2,
    top_y: f32,
    px_per_m: f32,
}

impl Canvas {
    fn to_px(&self, p: Vec2) -> Vec2 {
        Vec2::new(
            (p.x - self.origin.x) * self.px_per_m,
            (self.top_y - p.y) * self.px_per_m,
        )
    }

    fn put(&mut self, x: i64, y: i64, c: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as u32) < self.img.width && (y as u32) < self.img.height {
            let o = (y as usize * self.img.width as usize + x as usize) * 3;
            self.img.data[o..o + 3].copy_from_slice(&c);
        }
    }

    /// Filled disc centred at pixel coordinates `c` with radius `r` (px).
    fn disc_px(&mut self, c: Vec2, r: f32, col: [u8; 3]) {
        let r = r.max(0.5);
        let (x0, x1) = ((c.x - r).floor() as i64, (c.x + r).ceil() as i64);
        let (y0, y1) = ((c.y - r).floor() as i64, (c.y + r).ceil() as i64);
        for y in y0..=y1 {
            for x in x0..=x1 {
                let d = Vec2::new(x as f32 + 0.5, y as f32 + 0.5) - c;
                if d.length_squared() <= r * r {
                    self.put(x, y, col);
                }
            }
        }
    }

    /// Thick line between world points (width `w` px).
    fn line(&mut self, a: Vec2, b: Vec2, w: f32, col: [u8; 3]) {
        let (pa, pb) = (self.to_px(a), self.to_px(b));
        let steps = (pa.distance(pb) * 2.0).ceil().max(1.0) as usize;
        for s in 0..=steps {
            let p = pa.lerp(pb, s as f32 / steps as f32);
            self.disc_px(p, 0.5 * w, col);
        }
    }

    fn disc(&mut self, c: Vec2, r_px: f32, col: [u8; 3]) {
        let p = self.to_px(c);
        self.disc_px(p, r_px, col);
    }

    fn square(&mut self, c: Vec2, half_px: f32, col: [u8; 3]) {
        let p = self.to_px(c);
        for y in (p.y - half_px).floor() as i64..=(p.y + half_px).ceil() as i64 {
            for x in (p.x - half_px).floor() as i64..=(p.x + half_px).ceil() as i64 {
                self.put(x, y, col);
            }
        }
    }
}

impl NavGrid {
    /// The map of [`NavGrid::draw_map`] with several trajectories, each a polyline of one
    /// colour with heading ticks and a square of its colour at its last pose; the start (the
    /// first pose of the first trajectory) is a green disc on top. For comparing agents on the same
    /// episode (the paper's Fig. 7).
    pub fn draw_map_paths(
        &self,
        scene: &Scene,
        paths: &[(&[Pose], [u8; 3])],
        px_per_m: f32,
    ) -> RgbImage {
        let mut cv = self.base_map(scene, px_per_m);
        let s = cv.px_per_m;
        let thin = (0.05 * s).max(2.0);
        for (path, col) in paths {
            for w2 in path.windows(2) {
                cv.line(w2[0].xy(), w2[1].xy(), thin, *col);
            }
            let every = path.len().div_ceil(40).max(1);
            for p in path.iter().step_by(every) {
                cv.line(
                    p.xy(),
                    p.xy() + p.forward() * 0.2,
                    (0.5 * thin).max(1.0),
                    *col,
                );
            }
            if let Some(last) = path.last() {
                cv.square(last.xy(), (0.07 * s).max(3.0), *col);
            }
        }
        if let Some(first) = paths.iter().find_map(|(p, _)| p.first()) {
            cv.disc(first.xy(), (0.1 * s).max(3.0), colour::START);
        }
        cv.img
    }

    /// The grid, the doors, the goal and the source on a canvas.
    fn base_map(&self, scene: &Scene, px_per_m: f32) -> Canvas {
        let s = if px_per_m.is_finite() {
            px_per_m.clamp(1.0, 400.0)
        } else {
            40.0
        };
        let (lo, hi) = self.bounds();
        let w = ((hi.x - lo.x) * s).ceil().max(1.0) as u32;
        let h = ((hi.y - lo.y) * s).ceil().max(1.0) as u32;
        let mut cv = Canvas {
            img: RgbImage::new(w, h),
            origin: lo,
            top_y: hi.y,
            px_per_m: s,
        };
        for y in 0..h {
            for x in 0..w {
                let p = Vec2::new(lo.x + (x as f32 + 0.5) / s, hi.y - (y as f32 + 0.5) / s);
                let c = match self.cell_kind(p) {
                    CellKind::Outside => colour::OUTSIDE,
                    CellKind::Obstacle => colour::OBSTACLE,
                    CellKind::Clearance => colour::CLEARANCE,
                    CellKind::Disconnected => colour::DISCONNECTED,
                    CellKind::Reachable => colour::REACHABLE,
                };
                cv.put(i64::from(x), i64::from(y), c);
            }
        }
        for d in &scene.doors {
            let half = d.along.normalize_or_zero() * (0.5 * d.width_m);
            cv.line(
                d.center - half,
                d.center + half,
                (0.08 * s).max(2.0),
                colour::DOOR,
            );
        }
        cv.disc(self.goal(), (0.06 * s).max(2.0), colour::GOAL);
        cv.disc(self.source_xy, (0.12 * s).max(3.0), colour::SOURCE);
        cv
    }

    /// A top-down map of the grid with +y (north) at the top, `px_per_m` pixels per metre.
    ///
    /// Walls and obstacles are dark, reachable space light blue-grey, floor the agent cannot use
    /// (clearance zone, disconnected pockets) grey, outside white; doors of `scene` are orange bars,
    /// the source a red dot (the snapped goal a dark-red dot), and `trajectory` a polyline shaded
    /// from blue (first pose) to magenta (last), with heading ticks, a green disc at the start and a
    /// dark-blue square at the end. `px_per_m` is clamped to `[1, 400]`.
    pub fn draw_map(&self, scene: &Scene, trajectory: &[Pose], px_per_m: f32) -> RgbImage {
        let mut cv = self.base_map(scene, px_per_m);
        let thin = (0.04 * cv.px_per_m).max(1.5);
        let s = cv.px_per_m;
        if let (Some(first), Some(last)) = (trajectory.first(), trajectory.last()) {
            let n = trajectory.len();
            let shade = |k: usize| {
                let t = if n > 1 {
                    k as f32 / (n - 1) as f32
                } else {
                    0.0
                };
                std::array::from_fn(|c| {
                    (colour::TRAJ_FIRST[c] + (colour::TRAJ_LAST[c] - colour::TRAJ_FIRST[c]) * t)
                        as u8
                })
            };
            for (k, w2) in trajectory.windows(2).enumerate() {
                cv.line(w2[0].xy(), w2[1].xy(), thin, shade(k + 1));
            }
            // About 40 heading ticks per trajectory, at least every pose when short.
            let every = n.div_ceil(40).max(1);
            for (k, p) in trajectory.iter().enumerate().step_by(every) {
                cv.line(
                    p.xy(),
                    p.xy() + p.forward() * 0.2,
                    (0.5 * thin).max(1.0),
                    shade(k),
                );
            }
            cv.disc(first.xy(), (0.08 * s).max(3.0), colour::START);
            cv.line(
                first.xy(),
                first.xy() + first.forward() * 0.25,
                thin,
                colour::START,
            );
            cv.square(last.xy(), (0.06 * s).max(2.5), colour::END);
            cv.line(
                last.xy(),
                last.xy() + last.forward() * 0.25,
                thin,
                colour::END,
            );
        }
        cv.img
    }
}
