//! Plain data that crosses crate boundaries.

use serde::{Deserialize, Serialize};

/// An action of the agent. The discriminants are SoundSpaces' action ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// End the episode (success if within 1 m of the source).
    Stop = 0,
    /// Move forward [`crate::FORWARD_STEP_M`], sliding along walls.
    Forward = 1,
    /// Turn counter-clockwise by [`crate::TURN_DEG`].
    TurnLeft = 2,
    /// Turn clockwise by [`crate::TURN_DEG`].
    TurnRight = 3,
}

impl Action {
    /// All actions, in id order.
    pub const ALL: [Action; 4] = [
        Action::Stop,
        Action::Forward,
        Action::TurnLeft,
        Action::TurnRight,
    ];

    /// The SoundSpaces action id.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// The action with this id, if any.
    pub fn from_id(id: u8) -> Option<Action> {
        Action::ALL.get(usize::from(id)).copied()
    }

    /// The pose this action commands from `pose` when nothing is in the way: `Forward` moves
    /// [`crate::FORWARD_STEP_M`] along the heading, the turns rotate in place by
    /// ±[`crate::TURN_DEG`] (left = counter-clockwise = +yaw), `Stop` keeps the pose.
    ///
    /// The one definition of an action's nominal motion: the simulator's turns are exactly this,
    /// its forward step also slides along obstacles (`avwm_nav::NavGrid::apply_action`).
    pub fn nominal(self, pose: Pose) -> Pose {
        let turn = crate::TURN_DEG.to_radians();
        match self {
            Action::Stop => pose,
            Action::Forward => {
                let d = crate::FORWARD_STEP_M;
                Pose::new(
                    pose.x + d * pose.yaw.cos(),
                    pose.y + d * pose.yaw.sin(),
                    pose.yaw,
                )
            }
            Action::TurnLeft => Pose::new(pose.x, pose.y, pose.yaw + turn),
            Action::TurnRight => Pose::new(pose.x, pose.y, pose.yaw - turn),
        }
    }

    /// The action a user wrote: its [`Action::name`], a short form (`left`, `right`, or the
    /// first letter) or its id (`0`–`3`); surrounding blanks are ignored. The one parser of
    /// action names (the CLI's `--actions`, the viewer's `?action=`).
    pub fn parse(s: &str) -> Option<Action> {
        match s.trim() {
            "stop" | "s" | "0" => Some(Action::Stop),
            "forward" | "f" | "1" => Some(Action::Forward),
            "turn_left" | "left" | "l" | "2" => Some(Action::TurnLeft),
            "turn_right" | "right" | "r" | "3" => Some(Action::TurnRight),
            _ => None,
        }
    }

    /// Lower-case name (`stop`, `forward`, `turn_left`, `turn_right`).
    pub fn name(self) -> &'static str {
        match self {
            Action::Stop => "stop",
            Action::Forward => "forward",
            Action::TurnLeft => "turn_left",
            Action::TurnRight => "turn_right",
        }
    }
}

/// Agent pose on the floor plane: position (m) and heading (rad, CCW from +x).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pose {
    /// x position (m).
    pub x: f32,
    /// y position (m).
    pub y: f32,
    /// Heading (rad), counter-clockwise from +x, kept in (-π, π].
    pub yaw: f32,
}

impl Pose {
    /// A pose; `yaw` is wrapped into (-π, π].
    pub fn new(x: f32, y: f32, yaw: f32) -> Pose {
        Pose {
            x,
            y,
            yaw: wrap_angle(yaw),
        }
    }

    /// Unit heading vector in the floor plane.
    pub fn forward(&self) -> glam::Vec2 {
        glam::Vec2::new(self.yaw.cos(), self.yaw.sin())
    }

    /// Position in the floor plane.
    pub fn xy(&self) -> glam::Vec2 {
        glam::Vec2::new(self.x, self.y)
    }
}

/// Wraps an angle (rad) into (-π, π].
pub fn wrap_angle(a: f32) -> f32 {
    let two_pi = std::f32::consts::TAU;
    let mut r = a.rem_euclid(two_pi);
    if r > std::f32::consts::PI {
        r -= two_pi;
    }
    r
}

/// An 8-bit sRGB image, row-major from the top-left, 3 bytes per pixel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RgbImage {
    /// Width (px).
    pub width: u32,
    /// Height (px).
    pub height: u32,
    /// `width * height * 3` bytes, RGB.
    pub data: Vec<u8>,
}

impl RgbImage {
    /// A black image.
    pub fn new(width: u32, height: u32) -> RgbImage {
        RgbImage {
            width,
            height,
            data: vec![0; width as usize * height as usize * 3],
        }
    }
}

/// Two-channel audio at a fixed sample rate, samples in [-1, 1] nominally (not clipped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinauralAudio {
    /// Sample rate (Hz).
    pub sample_rate_hz: u32,
    /// Left ear.
    pub left: Vec<f32>,
    /// Right ear.
    pub right: Vec<f32>,
}

/// What the agent perceives after a reset or a step.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Egocentric RGB image.
    pub rgb: RgbImage,
    /// Binaural audio of the step (2 × [`crate::STEP_SAMPLES`] by default), time-aligned with the image.
    pub audio: BinauralAudio,
}

#[cfg(test)]
mod tests {
    use super::Action;

    #[test]
    fn every_action_parses_from_its_name_its_id_and_its_short_forms() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.name()), Some(a));
            assert_eq!(Action::parse(&a.id().to_string()), Some(a));
            assert_eq!(Action::from_id(a.id()), Some(a));
        }
        assert_eq!(Action::parse(" left "), Some(Action::TurnLeft));
        assert_eq!(Action::parse("r"), Some(Action::TurnRight));
        assert_eq!(Action::parse("4"), None);
        assert_eq!(Action::parse("jump"), None);
        assert_eq!(Action::from_id(4), None);
    }
}
