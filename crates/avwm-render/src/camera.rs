//! The pinhole camera: pixel rays and point projection.

use crate::CameraConfig;
use avwm_core::Pose;
use glam::Vec3;

/// A pinhole camera placed at a pose: eye position and an orthonormal frame (forward, right, up).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Camera {
    /// Eye position (m, world frame).
    pub eye: Vec3,
    /// Viewing direction: the pose heading, horizontal.
    pub forward: Vec3,
    /// Screen right (forward × z).
    pub right: Vec3,
    /// Screen up (+z).
    pub up: Vec3,
    /// tan(hfov / 2).
    pub tan_h: f32,
    /// tan(vfov / 2) = tan(hfov / 2) · height / width (square pixels).
    pub tan_v: f32,
    /// Image width (px).
    pub width: f32,
    /// Image height (px).
    pub height: f32,
}

impl Camera {
    pub fn new(cfg: &CameraConfig, floor_z: f32, pose: Pose) -> Camera {
        let (s, c) = pose.yaw.sin_cos();
        let tan_h = (cfg.hfov_deg.to_radians() * 0.5).tan();
        Camera {
            eye: Vec3::new(pose.x, pose.y, floor_z + cfg.camera_height_m),
            forward: Vec3::new(c, s, 0.0),
            right: Vec3::new(s, -c, 0.0),
            up: Vec3::Z,
            tan_h,
            tan_v: tan_h * cfg.height as f32 / cfg.width as f32,
            width: cfg.width as f32,
            height: cfg.height as f32,
        }
    }

    /// Unit direction through image position `(px, py)` in pixels from the top-left corner of
    /// the image (pixel `(i, j)` has its centre at `(i + 0.5, j + 0.5)`).
    #[inline]
    pub fn dir(&self, px: f32, py: f32) -> Vec3 {
        let sx = (px * (2.0 / self.width) - 1.0) * self.tan_h;
        let sy = (1.0 - py * (2.0 / self.height)) * self.tan_v;
        (self.forward + self.right * sx + self.up * sy).normalize()
    }

    /// Image position `(px, py)` (pixels from the top-left corner) of a world point, or `None`
    /// if the point is not in front of the camera. Positions outside `[0, w] × [0, h]` are off-screen.
    pub fn project(&self, p: Vec3) -> Option<(f32, f32)> {
        let d = p - self.eye;
        let z = d.dot(self.forward);
        if z <= 1e-6 {
            return None;
        }
        let sx = d.dot(self.right) / (z * self.tan_h);
        let sy = d.dot(self.up) / (z * self.tan_v);
        Some((
            (sx + 1.0) * 0.5 * self.width,
            (1.0 - sy) * 0.5 * self.height,
        ))
    }
}
