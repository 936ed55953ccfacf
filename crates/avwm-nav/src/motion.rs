//! Agent motion: turning in place and forward steps that slide along obstacles.

use crate::grid::{CellKind, NavGrid};
use avwm_core::{Action, FORWARD_STEP_M, Pose};
use glam::Vec2;

/// The outcome of one action.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Motion {
    /// Pose after the action.
    pub pose: Pose,
    /// The forward displacement was shorter than requested (an obstacle blocked or deflected it).
    pub collided: bool,
    /// Straight-line displacement of the position (m); 0 for turns and STOP.
    pub moved_m: f32,
}

/// Radius (cells) of the window used to estimate the local obstacle normal.
const NORMAL_WINDOW_CELLS: i32 = 3;

impl NavGrid {
    /// Applies one action to `pose`.
    ///
    /// * `TurnLeft` / `TurnRight`: rotate in place by ±[`avwm_core::TURN_DEG`] (left = counter-clockwise = +yaw).
    /// * `Forward`: [`NavGrid::move_forward`] by [`FORWARD_STEP_M`] along the heading.
    /// * `Stop`: nothing changes.
    ///
    /// `pose` should be navigable; from a non-navigable position a forward step does not move.
    pub fn apply_action(&self, pose: Pose, action: Action) -> Motion {
        match action {
            Action::Stop => Motion {
                pose,
                collided: false,
                moved_m: 0.0,
            },
            Action::TurnLeft | Action::TurnRight => Motion {
                pose: action.nominal(pose),
                collided: false,
                moved_m: 0.0,
            },
            Action::Forward => self.move_forward(pose, FORWARD_STEP_M),
        }
    }

    /// Moves `distance_m` along the heading with sliding.
    ///
    /// The move is split into sub-steps of at most `substep_cells · cell_m`. A sub-step whose end
    /// is not navigable is replaced by the longest navigable one of: its projection on the local
    /// obstacle boundary (estimated from the blocked cells around the agent), its x component,
    /// its y component. If none is free the agent stops there. `collided` is set when any
    /// sub-step was blocked, i.e. exactly when the final displacement is shorter than `distance_m`
    /// (tested without a float tolerance, which would be ~1e-5 m at 20 m from the origin).
    pub fn move_forward(&self, pose: Pose, distance_m: f32) -> Motion {
        let dir = pose.forward();
        let substep = self.cfg.substep_cells * self.cfg.cell_m;
        let n = (distance_m / substep).ceil().max(1.0) as usize;
        let delta = dir * (distance_m / n as f32);
        let start = pose.xy();
        let mut pos = start;
        let mut blocked = false;
        for _ in 0..n {
            let full = pos + delta;
            if self.is_navigable(full) {
                pos = full;
                continue;
            }
            blocked = true;
            let mut candidates = [Vec2::new(delta.x, 0.0), Vec2::new(0.0, delta.y), Vec2::ZERO];
            if let Some(normal) = self.obstacle_normal(pos) {
                let into = delta.dot(normal);
                if into < 0.0 {
                    candidates[2] = delta - normal * into;
                }
            }
            let mut best: Option<Vec2> = None;
            for c in candidates {
                let len2 = c.length_squared();
                if len2 > 0.0
                    && best.is_none_or(|b| len2 > b.length_squared())
                    && self.is_navigable(pos + c)
                {
                    best = Some(c);
                }
            }
            match best {
                Some(c) => pos += c,
                None => break,
            }
        }
        let moved_m = pos.distance(start);
        Motion {
            pose: Pose::new(pos.x, pos.y, pose.yaw),
            collided: blocked,
            moved_m,
        }
    }

    /// Unit vector pointing away from the non-reachable cells within [`NORMAL_WINDOW_CELLS`] of the
    /// cell of `p` (the negated mean offset of those cells). Integer sums keep it exactly
    /// axis-aligned in front of a straight grid-aligned wall, so that a head-on step does not drift.
    fn obstacle_normal(&self, p: Vec2) -> Option<Vec2> {
        let k = self.cell_index(p)?;
        let (i, j) = ((k % self.nx) as i64, (k / self.nx) as i64);
        let (mut sx, mut sy) = (0i64, 0i64);
        let r = i64::from(NORMAL_WINDOW_CELLS);
        for dj in -r..=r {
            for di in -r..=r {
                if di * di + dj * dj > r * r {
                    continue;
                }
                let (a, b) = (i + di, j + dj);
                let blocked = a < 0
                    || b < 0
                    || a >= self.nx as i64
                    || b >= self.ny as i64
                    || self.kind[(b * self.nx as i64 + a) as usize] != CellKind::Reachable;
                if blocked {
                    sx -= di;
                    sy -= dj;
                }
            }
        }
        let v = Vec2::new(sx as f32, sy as f32);
        (v != Vec2::ZERO).then(|| v.normalize())
    }
}
