//! Trains the deterministic reward head alone on a latent cache and reports, on the validation
//! and test splits, how well its expected reward agrees with the truth (sign agreement on true
//! rewards of at least 0.05 m, Pearson r, MSE against predicting 0). The head shares no parameter
//! with the diffusion network, so this measures what the joint training's head can reach, in
//! minutes instead of hours.
//!
//! `cargo run --release -p avwm-model --example head_probe -- CACHE [STEPS] [LR] [WEIGHT_DECAY]`

use avwm_core::Seed;
use avwm_data::Split;
use avwm_model::config::{ModelConfig, Streams};
use avwm_model::data::Transitions;
use avwm_model::reward::RewardHead;
use std::path::PathBuf;
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind};

fn scores(head: &RewardHead, t: &Transitions, cfg: &ModelConfig, n: usize) -> [f64; 5] {
    let anchors = t.anchors(cfg.history() as usize);
    let mut rng = Seed(7).derive("probe", 0).rng();
    let pairs = t.sample_pairs(&mut rng, &anchors, n, 4, (1, 16));
    let (mut pred, mut truth) = (Vec::new(), Vec::new());
    for chunk in pairs.chunks(256) {
        let b = t.batch(chunk, Streams::AUDIO, cfg, Device::Cpu);
        let e = tch::no_grad(|| {
            head.forward(
                b.ctx_audio.as_ref().unwrap(),
                b.ctx_pose.as_ref().unwrap(),
                &b.action,
                &b.dt,
            )
        });
        pred.extend(Vec::<f64>::try_from(e.mean.to_kind(Kind::Double)).unwrap());
        truth.extend(Vec::<f64>::try_from(b.reward_value.unwrap().to_kind(Kind::Double)).unwrap());
    }
    let n = pred.len() as f64;
    let mse = pred
        .iter()
        .zip(&truth)
        .map(|(p, t)| (p - t).powi(2))
        .sum::<f64>()
        / n;
    let zero = truth.iter().map(|t| t * t).sum::<f64>() / n;
    let counted: Vec<_> = pred
        .iter()
        .zip(&truth)
        .filter(|(_, t)| t.abs() >= 0.05)
        .collect();
    let sign = counted.iter().filter(|(p, t)| *p * *t > 0.0).count() as f64 / counted.len() as f64;
    let (mp, mt) = (pred.iter().sum::<f64>() / n, truth.iter().sum::<f64>() / n);
    let cov: f64 = pred
        .iter()
        .zip(&truth)
        .map(|(p, t)| (p - mp) * (t - mt))
        .sum();
    let vp: f64 = pred.iter().map(|p| (p - mp).powi(2)).sum();
    let vt: f64 = truth.iter().map(|t| (t - mt).powi(2)).sum();
    [sign, cov / (vp * vt).sqrt(), mse / zero, mse, zero]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cache = PathBuf::from(&args[1]);
    let steps: usize = args.get(2).map_or(2000, |s| s.parse().unwrap());
    let lr: f64 = args.get(3).map_or(1e-3, |s| s.parse().unwrap());
    let wd: f64 = args.get(4).map_or(0.0, |s| s.parse().unwrap());
    tch::set_num_threads(2);
    let train = Transitions::open(&cache, Split::Train).unwrap();
    let val = Transitions::open(&cache, Split::Validation).unwrap();
    let test = Transitions::open(&cache, Split::Test).unwrap();
    let (_, ashape) = train.latent_shapes();
    let mut cfg = ModelConfig::preset("small").unwrap().avwm();
    cfg.audio_latent_dim = ashape[0];
    cfg.audio_dim = std::env::var("PROBE_AUDIO_DIM").map_or(40, |s| s.parse().unwrap());
    cfg.audio_frames = ashape[1];
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let head = RewardHead::new(&(vs.root() / "rhead"), &cfg);
    let mut opt = nn::AdamW {
        wd,
        ..Default::default()
    }
    .build(&vs, lr)
    .unwrap();
    let anchors = train.anchors(cfg.history() as usize);
    let t0 = std::time::Instant::now();
    for step in 0..steps {
        let mut rng = Seed(0).derive("batch", step as u64).rng();
        let pairs = train.sample_pairs(&mut rng, &anchors, 16, 4, (1, 16));
        let b = train.batch(&pairs, Streams::AUDIO, &cfg, Device::Cpu);
        let e = head.forward(
            b.ctx_audio.as_ref().unwrap(),
            b.ctx_pose.as_ref().unwrap(),
            &b.action,
            &b.dt,
        );
        let loss = (&e.mean - b.reward_value.as_ref().unwrap())
            .square()
            .mean(Kind::Float);
        opt.backward_step(&loss);
        if (step + 1) % 500 == 0 || step + 1 == steps {
            let v = scores(&head, &val, &cfg, 256);
            let te = scores(&head, &test, &cfg, 256);
            println!(
                "step {} ({:.0} s) loss {:.4} | val sign {:.3} r {:.3} mse/zero {:.3} | test sign {:.3} r {:.3} mse/zero {:.3}",
                step + 1,
                t0.elapsed().as_secs_f64(),
                loss.double_value(&[]),
                v[0],
                v[1],
                v[2],
                te[0],
                te[1],
                te[2]
            );
        }
    }
}
