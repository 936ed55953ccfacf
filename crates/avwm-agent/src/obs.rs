//! What the agent perceives: the step's RGB image area-averaged to the network's size and a
//! log-magnitude spectrogram of each ear's 2,400 samples. The same path serves simulator frames
//! and frames decoded by a world model, so the agent cannot tell them apart by their format.

use crate::config::{SPEC_HOP, SPEC_N_FFT};
use crate::{AgentError, Result};
use avwm_core::{Observation, Pose, STEP_SAMPLES};
use tch::{Kind, Tensor};

/// Bearing (radians, counter-clockwise positive) of the vector (dx, dy) seen from a heading.
fn bearing(dx: f32, dy: f32, yaw: f32) -> f32 {
    avwm_core::wrap_angle(dy.atan2(dx) - yaw)
}

/// An observation reduced to the agent's input: CHW bytes of the image and both ears' samples.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentObs {
    /// `[3, size, size]` RGB bytes.
    pub rgb: Vec<u8>,
    /// `[2, 2400]` samples, left then right.
    pub audio: Vec<f32>,
}

/// Reduces an observation: the image is area-averaged by an integer factor down to `size`
/// (unchanged when it already is `size`), the audio copied.
///
/// # Errors
/// [`AgentError::Shape`] when the image is not square, not a multiple of `size`, or the audio is
/// not one step long.
pub fn agent_obs(obs: &Observation, size: usize) -> Result<AgentObs> {
    let (w, h) = (obs.rgb.width as usize, obs.rgb.height as usize);
    if w != h || size == 0 || w % size != 0 {
        return Err(AgentError::Shape {
            what: "image",
            expected: format!("square, a multiple of {size} px"),
            got: format!("{w}×{h}"),
        });
    }
    if obs.audio.left.len() != STEP_SAMPLES || obs.audio.right.len() != STEP_SAMPLES {
        return Err(AgentError::Shape {
            what: "audio",
            expected: format!("2 × {STEP_SAMPLES} samples"),
            got: format!("{} + {}", obs.audio.left.len(), obs.audio.right.len()),
        });
    }
    let f = w / size;
    let norm = (f * f) as u32;
    let mut rgb = vec![0u8; 3 * size * size];
    for c in 0..3 {
        for y in 0..size {
            for x in 0..size {
                let mut acc = 0u32;
                for dy in 0..f {
                    let row = (y * f + dy) * w;
                    for dx in 0..f {
                        acc += u32::from(obs.rgb.data[(row + x * f + dx) * 3 + c]);
                    }
                }
                // Round half up: the mean of f² bytes.
                rgb[(c * size + y) * size + x] = ((acc + norm / 2) / norm) as u8;
            }
        }
    }
    let mut audio = Vec::with_capacity(2 * STEP_SAMPLES);
    audio.extend_from_slice(&obs.audio.left);
    audio.extend_from_slice(&obs.audio.right);
    Ok(AgentObs { rgb, audio })
}

/// Stacks reduced observations into `([B, 3, S, S]` uint8, `[B, 2, 2400]` float) tensors.
pub fn stack(batch: &[&AgentObs], size: usize) -> (Tensor, Tensor) {
    let b = batch.len() as i64;
    let s = size as i64;
    let rgb: Vec<u8> = batch.iter().flat_map(|o| o.rgb.iter().copied()).collect();
    let audio: Vec<f32> = batch.iter().flat_map(|o| o.audio.iter().copied()).collect();
    (
        Tensor::from_slice(&rgb).view([b, 3, s, s]),
        Tensor::from_slice(&audio).view([b, 2, STEP_SAMPLES as i64]),
    )
}

/// Images as network input: bytes to [0, 1] floats.
pub fn rgb_input(rgb_u8: &Tensor) -> Tensor {
    rgb_u8.to_kind(Kind::Float) / 255.0
}

/// The binaural spectrogram `[B, 4, 65, 24]` of `[B, 2, 2400]` samples: a 128-point Hann STFT
/// with hop 96. Channels 0 and 1 are the two ears' magnitudes compressed by
/// `ln(1 + 1000·|X|) / 4`, so that silence reads 0 and the loudest frames near the source
/// (−40 dBFS at 1 m, `SimConfig::source_level_dbfs`) read ≈ 2; channels 2 and 3 are the cosine
/// and sine of the interaural phase difference, weighted by the bin's mean compressed magnitude
/// (at most 1), so that silent bins carry no phase. The phase is where the time difference
/// between the ears lives (below ≈ 1.5 kHz the strongest direction cue), which magnitudes alone
/// lose.
pub fn spectrogram(audio: &Tensor) -> Tensor {
    let size = audio.size();
    let (b, c, n) = (size[0], size[1], size[2]);
    let window = Tensor::hann_window(SPEC_N_FFT, (Kind::Float, audio.device()));
    let stft = audio.reshape([b * c, n]).stft(
        SPEC_N_FFT,
        SPEC_HOP,
        SPEC_N_FFT,
        Some(&window),
        false,
        true,
        true,
        false,
    );
    let f = stft.size();
    let x = stft.view([b, c, f[1], f[2]]);
    let mag = ((x.abs() * 1000.0).log1p() / 4.0).to_kind(Kind::Float);
    let cross = x.select(1, 0) * x.select(1, 1).conj().resolve_conj();
    let phase = cross.angle().unsqueeze(1);
    let weight = mag.mean_dim(1, true, Kind::Float).clamp(0.0, 1.0);
    Tensor::cat(&[mag, phase.cos() * &weight, phase.sin() * &weight], 1)
}

/// The goal auxiliary target at `pose`: cos and sin of the goal's bearing in the agent's frame
/// and ln(1 + straight-line distance in metres) (SAVi's location predictor, in polar form).
pub fn goal_label(pose: Pose, goal: [f32; 2]) -> [f32; 3] {
    let (dx, dy) = (goal[0] - pose.x, goal[1] - pose.y);
    let b = bearing(dx, dy, pose.yaw);
    [b.cos(), b.sin(), (dx.hypot(dy)).ln_1p()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use avwm_core::{BinauralAudio, RgbImage, SAMPLE_RATE_HZ};

    fn obs(w: u32, fill: impl Fn(usize) -> u8, tone: f32) -> Observation {
        let mut rgb = RgbImage::new(w, w);
        for (i, p) in rgb.data.iter_mut().enumerate() {
            *p = fill(i);
        }
        let left: Vec<f32> = (0..STEP_SAMPLES)
            .map(|i| tone * (i as f32 * 0.3).sin())
            .collect();
        Observation {
            rgb,
            audio: BinauralAudio {
                sample_rate_hz: SAMPLE_RATE_HZ,
                right: vec![0.0; STEP_SAMPLES],
                left,
            },
        }
    }

    #[test]
    fn downsampling_averages_blocks_and_keeps_channels() {
        // Pixel (x, y) channel c of a 4×4 image holds 10·c + (x / 2): 2×2 blocks are constant
        // along x-pairs, so the 2×2 result is exact.
        let o = obs(
            4,
            |i| {
                let (p, c) = (i / 3, i % 3);
                (10 * c + (p % 4) / 2) as u8
            },
            0.0,
        );
        let a = agent_obs(&o, 2).unwrap();
        assert_eq!(a.rgb, vec![0, 1, 0, 1, 10, 11, 10, 11, 20, 21, 20, 21]);
        // Same size: a plain HWC → CHW copy.
        let same = agent_obs(&o, 4).unwrap();
        assert_eq!(same.rgb[16], 10);
        assert!(matches!(
            agent_obs(&o, 3),
            Err(AgentError::Shape { what: "image", .. })
        ));
    }

    #[test]
    fn spectrogram_hears_the_loud_ear() {
        let o = agent_obs(&obs(4, |_| 0, 0.1), 4).unwrap();
        let (_, audio) = stack(&[&o], 4);
        let s = spectrogram(&audio);
        assert_eq!(s.size(), vec![1, 4, 65, 24]);
        let left = s.get(0).get(0).mean(Kind::Float).double_value(&[]);
        let right = s.get(0).get(1).mean(Kind::Float).double_value(&[]);
        assert!(left > 0.05, "{left}");
        assert_eq!(right, 0.0, "silence reads 0");
    }

    #[test]
    fn interaural_phase_follows_the_time_difference() {
        // A 1 kHz tone (bin 8 of the 128-point STFT) reaching one ear 2 samples later: the
        // phase difference is 2π · 1000 · 2 / 16000 = π/4, its sign says which ear leads.
        let tone = |delay: f64| -> Vec<f32> {
            (0..STEP_SAMPLES)
                .map(|i| {
                    (0.1 * (std::f64::consts::TAU * 1000.0 * (i as f64 - delay) / 16000.0).sin())
                        as f32
                })
                .collect()
        };
        for (lead_left, sign) in [(true, 1.0), (false, -1.0)] {
            let (l, r) = if lead_left {
                (tone(0.0), tone(2.0))
            } else {
                (tone(2.0), tone(0.0))
            };
            let audio = Tensor::from_slice(&[l, r].concat()).view([1, 2, STEP_SAMPLES as i64]);
            let s = spectrogram(&audio);
            let bin = s
                .get(0)
                .narrow(1, 8, 1)
                .mean_dim(&[1i64, 2][..], false, Kind::Float);
            let (w, c, sn) = (
                1.0f64.min(0.5 * (bin.double_value(&[0]) + bin.double_value(&[1]))),
                bin.double_value(&[2]),
                bin.double_value(&[3]),
            );
            let want = std::f64::consts::FRAC_PI_4;
            assert!((c - w * want.cos()).abs() < 0.02, "cos {c} weight {w}");
            assert!(
                (sn - sign * w * want.sin()).abs() < 0.02,
                "sin {sn} weight {w}"
            );
        }
    }

    #[test]
    fn goal_label_is_egocentric() {
        // Goal 2 m straight ahead of an agent facing +y.
        let l = goal_label(Pose::new(1.0, 1.0, std::f32::consts::FRAC_PI_2), [1.0, 3.0]);
        assert!((l[0] - 1.0).abs() < 1e-6 && l[1].abs() < 1e-6);
        assert!((l[2] - 3f32.ln()).abs() < 1e-6);
        // Goal to the agent's left (counter-clockwise): positive sine.
        let l = goal_label(Pose::new(0.0, 0.0, 0.0), [0.0, 1.0]);
        assert!((l[1] - 1.0).abs() < 1e-6);
    }
}
