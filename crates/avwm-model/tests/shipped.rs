//! The AV-CDiT shipped in `models/` predicts the next steps of a scene that no dataset split
//! contains (procedural scene seed 9001, the `small` dataset's simulator settings), from four
//! context frames encoded by the shipped tokenizers: the predicted image resembles the true frame
//! more than frames of another scene, the predicted audio has about the true level, and the
//! predicted reward is close to the true one. Thresholds sit below what was measured at shipping
//! (in the comments).

use avwm_core::{Action, Env, EpisodeSpec, Observation, Pose, Seed};
use avwm_data::AggregatedAction;
use avwm_model::WorldModel;
use avwm_model::predict::{Context, Sampler, Tokenizers};
use avwm_scene::procedural::{ProceduralConfig, generate};
use avwm_sim::{SimConfig, Simulator};
use avwm_tokenizer::data::{images_to_tensor, tensor_to_audio, tensor_to_images};
use std::path::PathBuf;
use std::sync::Arc;
use tch::{Device, Tensor};

fn models() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models")
}

struct Frame {
    obs: Observation,
    pose: Pose,
    geodesic_m: f32,
}

fn walk(scene_seed: u64, actions: &[Action]) -> Vec<Frame> {
    let scene = Arc::new(generate(scene_seed, &ProceduralConfig::default()).unwrap());
    let mut sim = Simulator::new(scene, &SimConfig::default()).unwrap();
    let seed = Seed(5);
    let start = sim.random_start(seed);
    let obs = sim.reset(&EpisodeSpec { seed, start }).unwrap();
    let st = sim.state().unwrap();
    let mut frames = vec![Frame {
        obs,
        pose: st.pose,
        geodesic_m: st.geodesic_m,
    }];
    for &a in actions {
        let s = sim.step(a).unwrap();
        frames.push(Frame {
            obs: s.obs,
            pose: s.info.pose,
            geodesic_m: s.info.geodesic_m,
        });
    }
    frames
}

fn rms_db(x: &[f32]) -> f64 {
    let p = x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / x.len() as f64;
    10.0 * (p + 1e-20).log10()
}

#[test]
#[ignore = "models/avwm-small was trained before the late-tail fix (CHANGELOG, Fixed) and predicts the old tail, 12-13 dB louder than the simulator now renders; re-enable when issue 14 retrains it on the fixed simulator"]
fn shipped_model_predicts_an_unseen_scene() {
    let dev = Device::Cpu;
    let wm = WorldModel::load(&models().join("avcdit-small"), dev).unwrap();
    let tok = Tokenizers::load(
        &models().join("tokenizer-visual"),
        &models().join("tokenizer-audio"),
        dev,
    )
    .unwrap();
    wm.check_tokenizers(&tok).unwrap();
    let cfg = wm.config().clone();
    use Action::{Forward as F, TurnLeft as L};
    let frames = walk(9001, &[F, F, L, F, F, F]);
    let others = walk(9002, &[F, F, F, F, F, F]);
    let (h, w) = (
        frames[0].obs.rgb.height as i64,
        frames[0].obs.rgb.width as i64,
    );
    // Context: frames 0..=3, encoded as in the latent cache (posterior mean), scaled.
    let ctx_frames = &frames[..4];
    let bytes: Vec<u8> = ctx_frames
        .iter()
        .flat_map(|f| f.obs.rgb.data.clone())
        .collect();
    let img = images_to_tensor(&bytes, 4, h, w);
    let samples: Vec<f32> = ctx_frames
        .iter()
        .flat_map(|f| f.obs.audio.left.iter().chain(&f.obs.audio.right).copied())
        .collect();
    let wav = Tensor::from_slice(&samples).view([4, 2, -1]);
    let (zv, za) = tch::no_grad(|| (tok.visual.encode(&img).0, tok.audio.encode(&wav).0));
    let ctx = Context {
        visual: Some((zv * cfg.visual_scale).unsqueeze(0).repeat([3, 1, 1, 1, 1])),
        audio: Some((za * cfg.audio_scale).unsqueeze(0).repeat([3, 1, 1, 1])),
        pose: None,
    };
    // Fixed-step targets: t+1, t+2, t+3 from t = 3.
    let targets = [4usize, 5, 6];
    let action: Vec<f32> = targets
        .iter()
        .flat_map(|&g| {
            let a = AggregatedAction::between(frames[3].pose, frames[g].pose);
            [
                a.forward_m / cfg.action_unit_m as f32,
                a.left_m / cfg.action_unit_m as f32,
                a.yaw_rad,
            ]
        })
        .collect();
    let action = Tensor::from_slice(&action).view([3, 3]);
    let dt = Tensor::from_slice(&[1f32, 2.0, 3.0]);
    let p = wm.predict(&ctx, &action, &dt, Sampler::Ddim(10), &mut Seed(0).rng());
    let (img, wav) = wm.decode(&tok, &p);
    let imgs = tensor_to_images(&img.unwrap());
    let auds = tensor_to_audio(&wav.unwrap());
    let rewards = Vec::<f32>::try_from(p.reward_m.unwrap()).unwrap();
    for (i, &g) in targets.iter().enumerate() {
        let truth = &frames[g].obs;
        let to_truth = avwm_metrics::image::psnr(&truth.rgb.data, &imgs[i]).unwrap();
        let to_other = others
            .iter()
            .map(|o| avwm_metrics::image::psnr(&o.obs.rgb.data, &imgs[i]).unwrap())
            .fold(f64::MIN, f64::max);
        let copy_last =
            avwm_metrics::image::psnr(&truth.rgb.data, &frames[3].obs.rgb.data).unwrap();
        let (l, r) = &auds[i];
        let level = [
            rms_db(l) - rms_db(&truth.audio.left),
            rms_db(r) - rms_db(&truth.audio.right),
        ];
        let true_reward = frames[3].geodesic_m - frames[g].geodesic_m;
        eprintln!(
            "Δt {}: PSNR to truth {to_truth:.2} dB (copying frame t: {copy_last:.2}), best to another scene {to_other:.2} dB; level error {level:?} dB; reward {:.3} (true {true_reward:.3})",
            g - 3,
            rewards[i]
        );
        assert!(
            to_truth > to_other + THRESH_PSNR_MARGIN,
            "Δt {}: {to_truth} vs {to_other}",
            g - 3
        );
        assert!(
            level.iter().all(|e| e.abs() < THRESH_LEVEL_DB),
            "Δt {}: level error {level:?}",
            g - 3
        );
        assert!(
            (rewards[i] - true_reward).abs() < THRESH_REWARD_M,
            "Δt {}: reward {} vs {true_reward}",
            g - 3,
            rewards[i]
        );
    }
}

// Measured at shipping (10-step DDIM, seed 0), Δt = 1, 2, 3: PSNR to the true frame 22.27, 21.96,
// 21.65 dB against at most 14.50 dB to any frame of scene 9002 (copying frame t: 29.36, 26.58,
// 24.97 dB); level errors (left, right) −1.8/−3.2, −3.4/−8.4, −3.6/−6.9 dB; rewards 0.204, 0.136,
// −0.180 m against 0.087, 0.173, 0.257 m.
/// The prediction must be this much closer (PSNR, dB) to the true frame than to another scene.
const THRESH_PSNR_MARGIN: f64 = 4.0;
/// Largest level error of the predicted audio per ear (dB).
const THRESH_LEVEL_DB: f64 = 12.0;
/// Largest reward error (m); a one-sample draw of a broad predictive distribution.
const THRESH_REWARD_M: f32 = 0.75;
