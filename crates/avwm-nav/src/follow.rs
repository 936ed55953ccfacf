//! A shortest-path follower in the agent's own action space (the "oracle" agent).
//!
//! SoundSpaces stores a reference action count per episode for the SNA metric; its released
//! value counts grid moves and 90° turns, which does not fit a 0.15 m / 10° action space
//! (`reference/soundspaces.md` §3.6). The follower below gives that count for our actions, and
//! also serves as the expert policy when recording trajectories.

use crate::grid::NavGrid;
use avwm_core::{Action, Pose, TURN_DEG, wrap_angle};
use glam::Vec2;

impl NavGrid {
    /// Geodesic distance (m) from `p` to the snapped goal only, i.e.
    /// [`NavGrid::geodesic_to_source`] minus [`NavGrid::goal_offset_m`]; infinite if `p` is not
    /// navigable. This is SoundSpaces' `distance_to_goal` when the goal is the navmesh point.
    pub fn geodesic_to_goal(&self, p: Vec2) -> f32 {
        self.geodesic_to_source(p) - self.goal_offset_m
    }

    /// Horizontal distance (m) from the snapped goal to the source: the constant last term of
    /// [`NavGrid::geodesic_to_source`]. If it is ≥ the success radius, no navigable point is
    /// within the success radius of the source.
    pub fn goal_offset_m(&self) -> f32 {
        self.goal_offset_m
    }

    /// The point the follower steers to from `p`: the farthest vertex of the geodesic path
    /// ([`NavGrid::path_to_source`], the source itself excluded) that `p` sees through reachable
    /// cells, i.e. the first vertex of the string-pulled path. Steering to a corner of the
    /// string-pulled path, rather than to a point a fixed distance ahead on the grid path, keeps
    /// the heading steady (grid staircases would otherwise cost a turn every few steps).
    /// `None` if `p` is not navigable.
    fn steer_target(&self, p: Vec2) -> Option<Vec2> {
        let path = self.path_to_source(p)?;
        let pts = &path.points[..path.points.len() - 1];
        let far = pts
            .iter()
            .rposition(|&q| self.line_of_sight(p, q))
            .unwrap_or(0);
        // A vertex the agent is already standing on gives no direction: aim past it.
        let k = if p.distance(pts[far]) < 0.5 * avwm_core::FORWARD_STEP_M {
            (far + 1).min(pts.len() - 1)
        } else {
            far
        };
        Some(pts[k])
    }

    /// The follower's action at `pose`: [`Action::Stop`] once the geodesic to the source is below
    /// `stop_within_m`; otherwise turn towards the steering point when the heading is off by more
    /// than half a turn step (5°), else [`Action::Forward`]. `Stop` also for non-navigable poses.
    /// [`NavGrid::oracle_actions`] adds hysteresis on top of this.
    pub fn oracle_action(&self, pose: Pose, stop_within_m: f32) -> Action {
        self.oracle_action_with_tolerance(pose, stop_within_m, 0.5 * TURN_DEG.to_radians())
    }

    /// [`NavGrid::oracle_action`] with a heading tolerance `tol_rad` before turning.
    pub fn oracle_action_with_tolerance(
        &self,
        pose: Pose,
        stop_within_m: f32,
        tol_rad: f32,
    ) -> Action {
        let p = pose.xy();
        if self.geodesic_to_source(p) < stop_within_m {
            return Action::Stop;
        }
        let Some(target) = self.steer_target(p) else {
            return Action::Stop;
        };
        let to = target - p;
        if to.length() < 1e-4 {
            return Action::Forward;
        }
        let err = wrap_angle(to.y.atan2(to.x) - pose.yaw);
        if err.abs() <= tol_rad {
            Action::Forward
        } else if err > 0.0 {
            Action::TurnLeft
        } else {
            Action::TurnRight
        }
    }

    /// Runs the follower from `start` until it stops or `max_actions` actions were taken; returns
    /// the actions (the final `Stop` included when reached) and the poses after each action.
    /// Its length is our reference optimal action count `n_opt` for SNA.
    ///
    /// With 10° turns the exact heading to a waypoint is usually unavailable, and a follower that
    /// re-aligns whenever it is more than 5° off alternates left and right every other step. This
    /// one aligns to within 5° after turning but, once walking, keeps going until the error
    /// exceeds a whole turn step (10°): walking ≤ 10° off costs at most `1/cos 10° − 1 = 1.5 %`
    /// of length, far less than the turns it saves.
    pub fn oracle_actions(
        &self,
        start: Pose,
        stop_within_m: f32,
        max_actions: usize,
    ) -> (Vec<Action>, Vec<Pose>) {
        let (mut actions, mut poses) = (Vec::new(), Vec::new());
        let mut pose = start;
        let mut walking = false;
        while actions.len() < max_actions {
            let tol = if walking { TURN_DEG } else { 0.5 * TURN_DEG };
            let a = self.oracle_action_with_tolerance(pose, stop_within_m, tol.to_radians());
            let m = self.apply_action(pose, a);
            actions.push(a);
            poses.push(m.pose);
            pose = m.pose;
            if a == Action::Stop {
                break;
            }
            walking = a == Action::Forward;
        }
        (actions, poses)
    }
}
